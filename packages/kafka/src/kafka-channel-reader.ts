import { ConfigurationError, GomesError, type Logger, type ReadEnd, type ReadStart } from '@gomes/core';
import {
  readEndProblems,
  readStartProblems,
  type ChannelReader,
  type ChannelReadOptions,
  type ChannelRecord,
} from '@gomes/core/transport';
import { BoundedTopicRead, type PartitionRange } from './bounded-topic-read.js';
import type { DriverAdmin, DriverInboundRecord, KafkaDriver } from './driver/kafka-driver.js';
import { asError } from './internal/async-utils.js';
import { toConnectionError } from './kafka-errors.js';
import type { KafkaMessageTranslator } from './kafka-message-translator.js';

/** How long a bounded read may go without any fetch progress before it fails. */
const STALL_TIMEOUT_MS = 60000;

/**
 * A bounded reader of one Kafka topic (the `ChannelReader` capability of `@gomes/core`), decoding
 * records with the channel's translator. Built by `KafkaPublisherChannelBuilder.createReader`.
 *
 * Each `read()`:
 * 1. captures every partition's earliest and end offset with an admin client (the end is the last
 *    stable offset: what a read-committed consumer sees) and, for a timestamp start or end, the
 *    offsets for that time (an end timestamp ends a partition before its first record at or after it);
 * 2. reads the partitions that have records in range with a consumer of a **throwaway group**
 *    (`gomes.reader.<topic>.<uuid>`, see `KAFKA_READER_GROUP_PREFIX`): it is the only member, is
 *    assigned exactly those partitions, seeks them to their start, never commits (kafkajs needs a
 *    group to consume; the broker deletes an empty group without offsets at its next cleanup);
 * 3. stops once every partition reached its end offset, and leaves the group.
 *
 * Records the translator cannot decode are yielded as `undecodable`. A read that makes no progress
 * for 60 s fails with `GOMES_CONNECTION_FAILED`.
 *
 * @public
 */
export class KafkaChannelReader implements ChannelReader {
  /** @inheritDoc */
  readonly channelName: string;
  readonly #driver: KafkaDriver;
  readonly #translator: KafkaMessageTranslator;
  readonly #logger: Logger;

  /** @internal Built by `KafkaPublisherChannelBuilder.createReader`. */
  constructor(driver: KafkaDriver, topic: string, translator: KafkaMessageTranslator, logger: Logger) {
    this.#driver = driver;
    this.channelName = topic;
    this.#translator = translator;
    this.#logger = logger.child({ reader: topic });
  }

  /** @inheritDoc */
  async *read(options: ChannelReadOptions = {}): AsyncGenerator<ChannelRecord> {
    const { signal } = options;
    ConfigurationError.throwIfAny(
      [...readStartProblems(options.start), ...readEndProblems(options.end)],
      `read of "${this.channelName}"`,
    );
    throwIfAborted(signal);
    const ranges = (await this.#ranges(options.start ?? { kind: 'earliest' }, options.end)).filter(
      (r) => r.next < r.end,
    );
    throwIfAborted(signal);
    if (ranges.length === 0) return;
    const read = new BoundedTopicRead({
      driver: this.#driver,
      topic: this.channelName,
      ranges,
      logger: this.#logger,
      stallTimeoutMs: STALL_TIMEOUT_MS,
    });
    const onAbort = (): void => read.fail(abortedError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await read.start();
      for (;;) {
        throwIfAborted(signal);
        const record = await read.next();
        if (record === undefined) return;
        yield this.#toChannelRecord(record);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await read.close();
    }
  }

  /** Each partition's range, captured before anything is read. */
  async #ranges(start: ReadStart, end: ReadEnd | undefined): Promise<PartitionRange[]> {
    const topic = this.channelName;
    const admin = this.#driver.createAdmin();
    try {
      await admin.connect();
      await this.#requireTopic(admin);
      const offsets = await admin.fetchTopicOffsets(topic);
      const starts =
        start.kind === 'timestamp'
          ? new Map(
              (await admin.fetchTopicOffsetsByTimestamp(topic, start.timestamp.getTime())).map((o) => [
                o.partition,
                BigInt(o.offset),
              ]),
            )
          : undefined;
      // The first offset at or after `end.timestamp` (the captured end when there is none).
      const ends =
        end === undefined
          ? undefined
          : new Map(
              (await admin.fetchTopicOffsetsByTimestamp(topic, end.timestamp.getTime())).map((o) => [
                o.partition,
                BigInt(o.offset),
              ]),
            );
      return offsets
        .map((o) => {
          const low = BigInt(o.low);
          const high = BigInt(o.high);
          const before = ends?.get(o.partition);
          const end = before === undefined || before < 0n ? high : clamp(before, low, high);
          const given =
            start.kind === 'offsets'
              ? start.offsets[o.partition]
              : start.kind === 'timestamp'
                ? starts?.get(o.partition)?.toString()
                : undefined;
          const next = given === undefined ? low : clamp(BigInt(given), low, end);
          return { partition: o.partition, low, next, end };
        })
        .sort((a, b) => a.partition - b.partition);
    } catch (error) {
      throw toConnectionError(error, `Kafka for a bounded read of "${topic}"`, { topic });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async #requireTopic(admin: DriverAdmin): Promise<void> {
    const found = await admin.describeTopics([this.channelName]);
    if (found.length === 0) {
      throw new GomesError('NOT_FOUND', `Kafka topic "${this.channelName}" does not exist`, {
        details: { topic: this.channelName },
      });
    }
  }

  #toChannelRecord(record: DriverInboundRecord): ChannelRecord {
    const position = { channel: record.topic, partition: record.partition, offset: record.offset };
    const ms = Number(record.timestamp);
    const timestamp = new Date(Number.isFinite(ms) ? ms : 0);
    try {
      return { kind: 'message', position, timestamp, message: this.#translator.fromRecord(record) };
    } catch (error) {
      return { kind: 'undecodable', position, timestamp, error: asError(error), headers: record.headers };
    }
  }
}

function clamp(value: bigint, min: bigint, max: bigint): bigint {
  return value < min ? min : value > max ? max : value;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

function abortedError(signal: AbortSignal): GomesError {
  const reason: unknown = signal.reason;
  return reason instanceof GomesError
    ? reason
    : new GomesError('ABORTED', 'The read was aborted', { cause: reason });
}
