import { randomUUID } from 'node:crypto';
import { GomesError, type Logger } from '@gomes/core';
import type {
  DriverBatch,
  DriverBatchControl,
  DriverConsumer,
  DriverInboundRecord,
  KafkaDriver,
  TopicPartitions,
} from './driver/kafka-driver.js';
import { rootMessage, toConnectionError } from './kafka-errors.js';
import { deferred, type Deferred } from './internal/async-utils.js';

/** Prefix of the throwaway consumer groups of bounded reads (ACLs: allow Read on this prefix). @public */
export const KAFKA_READER_GROUP_PREFIX = 'gomes.reader.';

/** One partition's part of a bounded read: read `[next, end)`. @internal */
export interface PartitionRange {
  readonly partition: number;
  /** The partition's earliest stored offset when the read began. */
  readonly low: bigint;
  /** Next offset to hand out. */
  next: bigint;
  /** End offset captured when the read began (exclusive). */
  readonly end: bigint;
}

/** Settings of a {@link BoundedTopicRead}. @internal */
export interface BoundedTopicReadConfig {
  readonly driver: KafkaDriver;
  readonly topic: string;
  /** Partitions with something to read (`next < end`). */
  readonly ranges: readonly PartitionRange[];
  readonly logger: Logger;
  /** How long the read may wait without any fetch progress before it fails. */
  readonly stallTimeoutMs: number;
}

/** How long a batch handler waits for the reader between two heartbeats. */
const HEARTBEAT_WAIT_MS = 1000;

/**
 * The consuming half of a Kafka bounded read: a consumer in a throwaway group (never committed, so
 * the broker deletes the empty group at its next offsets cleanup) assigned the partitions to read,
 * each sought to its start. Fetched records are queued for the reader and handed out in offset order; the batch handler
 * waits (heartbeating) until the reader took them, so memory stays bounded by one fetch. A
 * partition is done once a record or a processed batch (also one whose records were all filtered
 * out: transaction markers, aborted records) reaches its end offset; then it is paused.
 *
 * @internal
 */
export class BoundedTopicRead {
  readonly #config: BoundedTopicReadConfig;
  readonly #ranges = new Map<number, PartitionRange>();
  readonly #pending = new Set<number>();
  readonly #queue: DriverInboundRecord[] = [];
  #consumer: DriverConsumer | undefined;
  #unlisten: (() => void) | undefined;
  /** Resolved when records arrive, a partition is done or the read fails. */
  #wake: Deferred<void> = deferred<void>();
  /** Resolved when the reader emptied the queue. */
  #drained: Deferred<void> = deferred<void>();
  #error: Error | undefined;
  #closed = false;

  constructor(config: BoundedTopicReadConfig) {
    this.#config = config;
    for (const range of config.ranges) {
      this.#ranges.set(range.partition, range);
      this.#pending.add(range.partition);
    }
  }

  /** Joins the throwaway group and starts fetching. */
  async start(): Promise<void> {
    const { driver, topic } = this.#config;
    const groupId = `${KAFKA_READER_GROUP_PREFIX}${topic}.${randomUUID()}`;
    const consumer = driver.createConsumer({
      groupId,
      groupProtocol: 'classic',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 30000,
      heartbeatIntervalMs: 3000,
      minBytes: 1,
      maxBytes: 10485760,
      maxBytesPerPartition: 1048576,
      maxWaitTimeMs: 500,
      // The end offsets are the last stable offsets: read what a read-committed consumer sees.
      readCommitted: true,
      metadataMaxAgeMs: 300000,
      onlyPartitions: [...this.#ranges.keys()],
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    this.#unlisten = consumer.listen({
      onGroupJoin: (assignment) => this.#onGroupJoin(assignment),
      onBatchEnd: (batchTopic, partition, lastOffset) => {
        if (batchTopic === topic) this.#advance(partition, lastOffset);
      },
      onCrash: (error) => this.#fail(error),
    });
    try {
      await consumer.connect();
      await consumer.subscribe([topic], true);
      await consumer.run(async (batch, control) => this.#onBatch(batch, control));
    } catch (error) {
      throw toConnectionError(error, `Kafka for a bounded read of "${topic}"`, { topic, groupId });
    }
  }

  /**
   * The next record, in offset order within its partition; `undefined` once every partition reached
   * its end.
   *
   * @throws GomesError when the consumer failed, or `GOMES_CONNECTION_FAILED` after
   * `stallTimeoutMs` without any progress.
   */
  async next(): Promise<DriverInboundRecord | undefined> {
    for (;;) {
      const record = this.#queue.shift();
      if (record) {
        if (this.#queue.length === 0) this.#drained.resolve();
        return record;
      }
      this.#drained.resolve();
      // Complete: a client error after the last record (the consumer idles until close) is moot.
      if (this.#pending.size === 0) return undefined;
      if (this.#error) throw this.#error;
      const woken = await settlesWithin(this.#wake.promise, this.#config.stallTimeoutMs);
      if (!woken) {
        const { topic } = this.#config;
        this.#fail(
          new GomesError(
            'CONNECTION_FAILED',
            `A bounded read of Kafka topic "${topic}" made no progress for ${this.#config.stallTimeoutMs} ms (partitions ${[...this.#pending].join(', ')} not at their end)`,
            { details: { topic, partitions: [...this.#pending] } },
          ),
        );
      }
    }
  }

  /** Fails the read: the reader's next `next()` throws `error`. */
  fail(error: Error): void {
    this.#fail(error);
  }

  /** Leaves the group and disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#drained.resolve();
    this.#unlisten?.();
    await this.#consumer?.disconnect().catch((error: unknown) => {
      this.#config.logger.warn('Kafka bounded-read consumer disconnect failed', {
        topic: this.#config.topic,
        reason: rootMessage(error),
      });
    });
  }

  #onGroupJoin(assignment: readonly TopicPartitions[]): void {
    for (const { topic, partitions } of assignment) {
      if (topic !== this.#config.topic) continue;
      for (const partition of partitions) {
        const range = this.#ranges.get(partition);
        // An earliest start needs no seek (the group has no committed offset: it starts there).
        if (range && this.#pending.has(partition) && range.next > range.low)
          this.#consumer?.seek(topic, partition, range.next.toString());
      }
    }
  }

  async #onBatch(batch: DriverBatch, control: DriverBatchControl): Promise<void> {
    const range = this.#ranges.get(batch.partition);
    if (this.#closed || batch.topic !== this.#config.topic || !range || !this.#pending.has(batch.partition))
      return;
    let last: string | undefined;
    for (const record of batch.records) {
      const offset = BigInt(record.offset);
      if (offset >= range.end) break;
      // Records before `next` were handed out already, or precede the start (a fetch made before
      // the seek took effect): skipped, never handed out twice.
      if (offset >= range.next) {
        this.#queue.push(record);
        range.next = offset + 1n;
      }
      last = record.offset;
    }
    if (last !== undefined && !control.isStale()) control.resolveOffset(last);
    if (range.next >= range.end) this.#done(batch.partition);
    this.#wakeReader();
    // Backpressure: the next fetch waits until the reader took this batch's records.
    while (this.#queue.length > 0 && !this.#closed && !this.#error) {
      await settlesWithin(this.#drained.promise, HEARTBEAT_WAIT_MS);
      await control.heartbeat?.().catch(() => undefined);
    }
  }

  /**
   * A processed batch covered offsets up to `lastOffset`: its records for this read are queued
   * already (the handler runs first), and the client filtered out the others (transaction markers,
   * aborted records). Once that reaches the end offset, nothing is left to read in the partition.
   */
  #advance(partition: number, lastOffset: string): void {
    const range = this.#ranges.get(partition);
    if (!range || !this.#pending.has(partition) || !/^\d+$/.test(lastOffset)) return;
    if (BigInt(lastOffset) + 1n < range.end) return;
    range.next = range.end;
    this.#done(partition);
    this.#wakeReader();
  }

  #done(partition: number): void {
    if (!this.#pending.delete(partition)) return;
    try {
      this.#consumer?.pause(this.#config.topic, [partition]);
    } catch {
      // Pausing only saves fetches; the partition's records are ignored from now on anyway.
    }
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = deferred<void>();
    if (this.#queue.length > 0) this.#drained = deferred<void>();
    wake.resolve();
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#drained.resolve();
    this.#wakeReader();
  }
}

/** Whether `promise` resolves within `ms` (the timer is cleared either way). */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
