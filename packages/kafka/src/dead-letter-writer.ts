import { GomesError, isGomesError, type Logger } from '@gomes/core';
import type { DriverInboundRecord, DriverProducer, KafkaDriver } from './driver/kafka-driver.js';
import { describeDecodeError, isNonRetriableProduceError, rootMessage } from './kafka-errors.js';
import { KafkaHeaders } from './kafka-headers.js';
import { sleepUnlessAborted } from './internal/async-utils.js';
import { ensureTopic } from './topic-provisioner.js';

/** Produce timeout of a dead-letter write. */
const SEND_TIMEOUT_MS = 30000;

/**
 * Outcome of {@link DeadLetterWriter.write}: `stored`; `halted` (the caller gave up waiting, or the
 * writer was closed); `failed` (a non-retriable failure: writing the record again will fail again).
 *
 * @internal
 */
export type DeadLetterResult = 'stored' | 'halted' | 'failed';

/** Retry pacing of {@link DeadLetterWriter}. @internal */
export interface DeadLetterBackoff {
  /** Wait after the first failed attempt; doubles with every further failure. */
  readonly initialMs: number;
  /** Longest wait between two attempts. */
  readonly maxMs: number;
}

const DEFAULT_BACKOFF: DeadLetterBackoff = { initialMs: 400, maxMs: 5000 };

/**
 * Writes records a consumer cannot decode to a dead-letter topic: same key, value and headers, plus
 * `gomes.dlq.*` headers (reason, error code, source topic/partition/offset, group, time).
 * The topic (1 partition, created when missing) and the producer are set up on first use.
 *
 * Failures are reported to `onError` as `GOMES_DEAD_LETTER_FAILED` (and logged):
 * - **retriable** (timeouts, unavailable leaders, lost connections): retried with exponential
 *   backoff (capped at `backoff.maxMs`) until stored, halted or closed; every failure is reported
 *   with `retriable: true`. The failed producer is closed and a new one (new producer id) is used.
 * - **non-retriable** (record too large for the topic, not authorized, invalid topic or config):
 *   reported once with `retriable: false`, and `write` resolves `failed` at once; the caller keeps
 *   the record (never skips it).
 *
 * @internal
 */
export class DeadLetterWriter {
  readonly topic: string;
  readonly #driver: KafkaDriver;
  readonly #groupId: string;
  readonly #logger: Logger;
  readonly #onError: ((error: GomesError) => void) | undefined;
  readonly #backoff: DeadLetterBackoff;
  readonly #abort = new AbortController();
  #producer: Promise<DriverProducer> | undefined;
  #topicReady = false;
  #written = 0;

  constructor(
    driver: KafkaDriver,
    topic: string,
    groupId: string,
    logger: Logger,
    onError?: (error: GomesError) => void,
    backoff: DeadLetterBackoff = DEFAULT_BACKOFF,
  ) {
    this.#driver = driver;
    this.topic = topic;
    this.#groupId = groupId;
    this.#logger = logger;
    this.#onError = onError;
    this.#backoff = backoff;
  }

  /** Records written so far. */
  get written(): number {
    return this.#written;
  }

  /**
   * Writes `record` with `error` as the reason, retrying retriable failures with backoff until it
   * is stored, `halted()` turns true, or the writer is closed.
   */
  async write(record: DriverInboundRecord, error: Error, halted: () => boolean): Promise<DeadLetterResult> {
    // Decode errors may quote the payload (JSON.parse does): never copy them into headers or logs.
    const reason = isGomesError(error) ? error.message : describeDecodeError(error);
    const headers: Record<string, string> = {
      ...record.headers,
      [KafkaHeaders.DLQ_REASON]: reason,
      [KafkaHeaders.DLQ_ERROR_CODE]: isGomesError(error) ? error.code : 'GOMES_TRANSLATION_FAILED',
      [KafkaHeaders.DLQ_SOURCE_TOPIC]: record.topic,
      [KafkaHeaders.DLQ_SOURCE_PARTITION]: String(record.partition),
      [KafkaHeaders.DLQ_SOURCE_OFFSET]: record.offset,
      [KafkaHeaders.DLQ_GROUP_ID]: this.#groupId,
      [KafkaHeaders.DLQ_FAILED_AT]: new Date().toISOString(),
    };
    const where = { topic: record.topic, partition: record.partition, offset: record.offset };
    for (let attempt = 1; !halted() && !this.#abort.signal.aborted; attempt++) {
      try {
        const producer = await this.#getProducer();
        await producer.send({
          topic: this.topic,
          records: [{ key: record.key, value: record.value, headers }],
          acks: -1,
          compression: 'none',
          timeoutMs: SEND_TIMEOUT_MS,
        });
        this.#written++;
        this.#logger.warn('Undecodable record sent to the dead-letter topic', {
          deadLetterTopic: this.topic,
          ...where,
          reason,
        });
        return 'stored';
      } catch (sendError) {
        await this.#dropProducer();
        if (this.#abort.signal.aborted) break;
        const retriable = !isNonRetriableProduceError(sendError);
        this.#report(sendError, retriable, attempt, where);
        if (!retriable) return 'failed';
        const delay = Math.min(this.#backoff.maxMs, this.#backoff.initialMs * 2 ** Math.min(attempt - 1, 20));
        await sleepUnlessAborted(delay, this.#abort.signal);
      }
    }
    return 'halted';
  }

  /** Stops retries and disconnects the producer. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#dropProducer();
  }

  #report(
    cause: unknown,
    retriable: boolean,
    attempt: number,
    where: { topic: string; partition: number; offset: string },
  ): void {
    const what = `Writing record ${where.topic}/${where.partition}@${where.offset} to the dead-letter topic "${this.topic}" failed (attempt ${attempt}): ${rootMessage(cause)}`;
    const error = new GomesError(
      'DEAD_LETTER_FAILED',
      retriable
        ? `${what}; retrying`
        : `${what}; not retriable: the partition stays paused (the record is not skipped) until it is reassigned or the consumer restarts`,
      {
        cause,
        retriable,
        details: { deadLetterTopic: this.topic, groupId: this.#groupId, attempt, ...where },
      },
    );
    if (this.#onError) this.#onError(error);
    else this.#logger.error('Dead-letter write failed', { reason: error.message, retriable });
  }

  /** Closes the current producer (after a failure: the next attempt uses a new one). */
  async #dropProducer(): Promise<void> {
    const pending = this.#producer;
    this.#producer = undefined;
    const producer = await pending?.catch(() => undefined);
    await producer?.close().catch((error: unknown) => {
      this.#logger.warn('Dead-letter producer close failed', { reason: rootMessage(error) });
    });
  }

  async #getProducer(): Promise<DriverProducer> {
    this.#producer ??= (async () => {
      if (!this.#topicReady) {
        const admin = this.#driver.createAdmin();
        try {
          await admin.connect();
          await ensureTopic(admin, this.topic, { partitions: 1 }, this.#logger);
          this.#topicReady = true;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      }
      const producer = this.#driver.createProducer({
        idempotent: true,
        maxAttempts: 5,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        produceTimeoutMs: SEND_TIMEOUT_MS,
      });
      try {
        await producer.connect();
      } catch (error) {
        await producer.close().catch(() => undefined);
        throw error;
      }
      return producer;
    })();
    return this.#producer;
  }
}
