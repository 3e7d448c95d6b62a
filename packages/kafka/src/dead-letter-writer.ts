import { isGomesError, type Logger } from '@gomes/core';
import type { DriverInboundRecord, DriverProducer, KafkaDriver } from './driver/kafka-driver.js';
import { rootMessage } from './kafka-errors.js';
import { KafkaHeaders } from './kafka-headers.js';
import { sleepUnlessAborted } from './internal/async-utils.js';
import { ensureTopic } from './topic-provisioner.js';

const MAX_BACKOFF_MS = 5000;

/**
 * Writes records a consumer cannot decode to a dead-letter topic: same key, value and headers, plus
 * `gomes.dlq.*` headers (reason, error code, source topic/partition/offset, group, time).
 * The producer and the topic (1 partition, created when missing) are set up on first use.
 *
 * @internal
 */
export class DeadLetterWriter {
  readonly topic: string;
  readonly #driver: KafkaDriver;
  readonly #groupId: string;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  #producer: Promise<DriverProducer> | undefined;
  #written = 0;

  constructor(driver: KafkaDriver, topic: string, groupId: string, logger: Logger) {
    this.#driver = driver;
    this.topic = topic;
    this.#groupId = groupId;
    this.#logger = logger;
  }

  /** Records written so far. */
  get written(): number {
    return this.#written;
  }

  /**
   * Writes `record` with `error` as the reason, retrying with backoff until it is stored, `halted()`
   * turns true, or the writer is closed.
   *
   * @returns whether the record was stored.
   */
  async write(record: DriverInboundRecord, error: Error, halted: () => boolean): Promise<boolean> {
    const headers: Record<string, string> = {
      ...record.headers,
      [KafkaHeaders.DLQ_REASON]: error.message,
      [KafkaHeaders.DLQ_ERROR_CODE]: isGomesError(error) ? error.code : 'GOMES_TRANSLATION_FAILED',
      [KafkaHeaders.DLQ_SOURCE_TOPIC]: record.topic,
      [KafkaHeaders.DLQ_SOURCE_PARTITION]: String(record.partition),
      [KafkaHeaders.DLQ_SOURCE_OFFSET]: record.offset,
      [KafkaHeaders.DLQ_GROUP_ID]: this.#groupId,
      [KafkaHeaders.DLQ_FAILED_AT]: new Date().toISOString(),
    };
    for (let attempt = 1; !halted() && !this.#abort.signal.aborted; attempt++) {
      try {
        const producer = await this.#getProducer();
        await producer.send({
          topic: this.topic,
          records: [{ key: record.key, value: record.value, headers }],
          acks: -1,
          compression: 'none',
          timeoutMs: 30000,
        });
        this.#written++;
        this.#logger.warn('Undecodable record sent to the dead-letter topic', {
          deadLetterTopic: this.topic,
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          reason: error.message,
        });
        return true;
      } catch (sendError) {
        this.#producer = undefined;
        this.#logger.error('Dead-letter write failed; retrying', {
          deadLetterTopic: this.topic,
          attempt,
          reason: rootMessage(sendError),
        });
        await sleepUnlessAborted(
          Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(attempt, 5)),
          this.#abort.signal,
        );
      }
    }
    return false;
  }

  /** Stops retries and disconnects the producer. */
  async close(): Promise<void> {
    this.#abort.abort();
    const producer = await this.#producer?.catch(() => undefined);
    await producer?.close().catch(() => undefined);
  }

  async #getProducer(): Promise<DriverProducer> {
    this.#producer ??= (async () => {
      const admin = this.#driver.createAdmin();
      try {
        await admin.connect();
        await ensureTopic(admin, this.topic, { partitions: 1 }, this.#logger);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      const producer = this.#driver.createProducer({
        idempotent: true,
        maxAttempts: 5,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      return producer;
    })();
    return this.#producer;
  }
}
