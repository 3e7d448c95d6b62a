import type { PartitionLag, PartitionProgress } from '@gomes/core/transport';
import type { DriverBatch, TopicPartitions } from './driver/kafka-driver.js';
import type { PartitionWorker } from './partition-worker.js';

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * The partitions of a subscription's latest assignment: one {@link PartitionWorker} each, with the
 * high watermark of its latest fetch and when it was last seen caught up (for lag and health).
 * Revoked partitions leave it at once, so it never holds a partition the member does not own.
 *
 * @internal
 */
export class AssignedPartitions {
  readonly #groupId: string;
  readonly #workers = new Map<string, PartitionWorker>();
  /** High watermark of each partition, from the latest fetched batch. */
  readonly #highWatermarks = new Map<string, bigint>();
  /** When each partition was last seen caught up (a fetch found no lag before it), for health. */
  readonly #caughtUpAt = new Map<string, number>();

  constructor(groupId: string) {
    this.#groupId = groupId;
  }

  get(topic: string, partition: number): PartitionWorker | undefined {
    return this.#workers.get(key(topic, partition));
  }

  add(worker: PartitionWorker): void {
    this.#workers.set(key(worker.topic, worker.partition), worker);
  }

  workers(): IterableIterator<PartitionWorker> {
    return this.#workers.values();
  }

  /**
   * Revokes and forgets every partition for which `drop(worker)` is true (every one by default).
   *
   * @returns the partitions dropped, as `topic/partition`.
   */
  revoke(drop: (worker: PartitionWorker) => boolean = () => true): string[] {
    const dropped: string[] = [];
    for (const [k, w] of this.#workers) {
      if (!drop(w)) continue;
      w.revoke();
      this.#workers.delete(k);
      this.#highWatermarks.delete(k);
      this.#caughtUpAt.delete(k);
      dropped.push(`${w.topic}/${w.partition}`);
    }
    return dropped;
  }

  /** Records a fetched batch's high watermark (and whether the partition was caught up before it). */
  noteFetch(batch: DriverBatch, worker: PartitionWorker): void {
    const k = key(batch.topic, batch.partition);
    const previous = this.#highWatermarks.get(k);
    const position = worker.ackedOffset ?? worker.nextOffset;
    if (previous === undefined || position === undefined || position >= previous)
      this.#caughtUpAt.set(k, Date.now());
    this.#highWatermarks.set(k, BigInt(batch.highWatermark));
  }

  /** The partitions, by topic. */
  get assignment(): TopicPartitions[] {
    const byTopic = new Map<string, number[]>();
    for (const w of this.#workers.values())
      byTopic.set(w.topic, [...(byTopic.get(w.topic) ?? []), w.partition]);
    return [...byTopic].map(([topic, partitions]) => ({
      topic,
      partitions: partitions.sort((a, b) => a - b),
    }));
  }

  /**
   * Lag of each partition: high watermark of the latest fetch − the acked position (the offset a
   * commit would store, or the fetch position when nothing was acked yet). Partitions with no fetch
   * yet are left out.
   */
  lag(): PartitionLag[] {
    const lags: PartitionLag[] = [];
    for (const [k, w] of this.#workers) {
      const hw = this.#highWatermarks.get(k);
      const position = w.ackedOffset ?? w.nextOffset;
      if (hw === undefined || position === undefined) continue;
      lags.push({
        channel: w.topic,
        partition: w.partition,
        group: this.#groupId,
        lag: Number(hw > position ? hw - position : 0n),
      });
    }
    return lags;
  }

  /**
   * Lag and last progress of each partition, for health. Progress is the latest of: the acked
   * prefix advancing, the worker being created (assignment), a fetch finding it caught up before the
   * batch, and now when its lag is 0. A partition blocked on a record it can neither hand over nor
   * dead-letter shows no progress since its acked prefix last moved.
   */
  progress(now = Date.now()): PartitionProgress[] {
    return this.lag().map((lag) => {
      const k = key(lag.channel, lag.partition);
      const worker = this.#workers.get(k);
      const lastProgressAt = worker?.blocked
        ? worker.lastAdvanceAt
        : lag.lag === 0
          ? now
          : Math.max(worker?.lastAdvanceAt ?? 0, this.#caughtUpAt.get(k) ?? 0);
      return { ...lag, lastProgressAt };
    });
  }
}
