import {
  readEndProblems,
  readStartProblems,
  type ChannelReader,
  type ChannelReadOptions,
  type ChannelRecord,
  type ReadEnd,
  type ReadStart,
} from '../../channel/channel-reader.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError, toError } from '../../errors/gomes-error.js';
import { abortError } from '../../internal/abortable-sleep.js';
import type { InMemoryBroker, InMemoryRecord } from './in-memory-broker.js';

/**
 * A {@link ChannelReader} of one topic of an {@link InMemoryBroker}: captures each partition's end
 * offset, then yields the records from the start position up to it, partition by partition.
 * Built by `InMemoryPublisherChannelBuilder.createReader`.
 *
 * @public
 */
export class InMemoryChannelReader implements ChannelReader {
  /** @inheritDoc */
  readonly channelName: string;
  readonly #broker: InMemoryBroker;

  constructor(broker: InMemoryBroker, topic: string) {
    this.#broker = broker;
    this.channelName = topic;
  }

  /** @inheritDoc */
  async *read(options: ChannelReadOptions = {}): AsyncGenerator<ChannelRecord> {
    const { signal } = options;
    const topic = this.channelName;
    ConfigurationError.throwIfAny(
      [...readStartProblems(options.start), ...readEndProblems(options.end)],
      `read of "${topic}"`,
    );
    if (signal?.aborted) throw abortError(signal);
    if (!this.#broker.hasTopic(topic)) {
      throw new GomesError('NOT_FOUND', `Topic "${topic}" does not exist on the in-memory broker`, {
        details: { topic },
      });
    }
    const partitions = this.#broker.partitionCount(topic);
    // The bounds of every partition are captured before anything is read.
    const ranges = Array.from({ length: partitions }, (_, partition) => ({
      partition,
      from: this.#startOffset(partition, options.start ?? { kind: 'earliest' }),
      to: this.#endOffset(partition, options.end),
    }));
    for (const { partition, from, to } of ranges) {
      for (let offset = from; offset < to; offset++) {
        if (signal?.aborted) throw abortError(signal);
        const record = this.#broker.recordAt(topic, partition, offset)!;
        yield this.#toChannelRecord(record);
        // Let other work run between records, as a transport reading from a socket would.
        await Promise.resolve();
      }
    }
  }

  #startOffset(partition: number, start: ReadStart): bigint {
    const end = this.#broker.endOffset(this.channelName, partition);
    if (start.kind === 'earliest') return 0n;
    if (start.kind === 'offsets') {
      const given = start.offsets[partition];
      return given === undefined ? 0n : clamp(BigInt(given), 0n, end);
    }
    const at = start.timestamp.getTime();
    const first = this.#broker
      .records(this.channelName, partition)
      .find((record) => record.timestampMs >= at);
    return first?.offset ?? end;
  }

  #endOffset(partition: number, end: ReadEnd | undefined): bigint {
    const captured = this.#broker.endOffset(this.channelName, partition);
    if (end === undefined) return captured;
    const at = end.timestamp.getTime();
    const first = this.#broker
      .records(this.channelName, partition)
      .find((record) => record.timestampMs >= at && record.offset < captured);
    return first?.offset ?? captured;
  }

  #toChannelRecord(record: InMemoryRecord): ChannelRecord {
    const position = { channel: record.topic, partition: record.partition, offset: record.offset.toString() };
    const timestamp = new Date(record.timestampMs);
    try {
      return { kind: 'message', position, timestamp, message: this.#broker.decode(record) };
    } catch (error) {
      return { kind: 'undecodable', position, timestamp, error: toError(error), headers: rawHeaders(record) };
    }
  }
}

function clamp(value: bigint, min: bigint, max: bigint): bigint {
  return value < min ? min : value > max ? max : value;
}

/** The headers of a stored record, as far as they can be read (none when its JSON is broken). */
function rawHeaders(record: InMemoryRecord): Record<string, string> {
  if (record.headers !== undefined) return { ...record.headers };
  try {
    const parsed = JSON.parse(record.value) as { headers?: unknown };
    const headers: Record<string, string> = {};
    if (typeof parsed.headers === 'object' && parsed.headers !== null) {
      for (const [name, value] of Object.entries(parsed.headers)) {
        if (typeof value === 'string') headers[name] = value;
      }
    }
    return headers;
  } catch {
    return {};
  }
}
