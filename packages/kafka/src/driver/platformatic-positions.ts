import type { TopicPartitions } from './kafka-driver.js';
import { partitionKey as key } from './platformatic-fetch.js';

/** One partition of a topic. @internal */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What one fetch of a partition asked for: its position and its seek count then. @internal */
export interface PartitionFetchRequest extends TopicPartition {
  readonly offset: bigint;
  readonly seek: number;
}

/**
 * The fetch state of the partitions assigned to a {@link PlatformaticConsumer}: which it owns, where
 * each is read next, which are paused, and how often each was sought. A seek counter makes a fetch
 * or a position lookup that started before a seek stale (its result is dropped), even when the
 * sought position was dropped again since (an out-of-range reset).
 *
 * @internal
 */
export class PartitionPositions {
  #assigned = new Map<string, TopicPartition>();
  readonly #next = new Map<string, bigint>();
  readonly #seeks = new Map<string, number>();
  readonly #paused = new Set<string>();

  /** How many partitions are assigned. */
  get size(): number {
    return this.#assigned.size;
  }

  /** Whether the assigned partitions are exactly `keys` ({@link partitionKey}s). */
  sameAs(keys: ReadonlySet<string>): boolean {
    return keys.size === this.#assigned.size && [...keys].every((k) => this.#assigned.has(k));
  }

  /**
   * A new assignment: every position unknown, pauses of partitions no longer owned forgotten.
   * Returns it grouped by topic, partitions sorted.
   */
  assign(partitions: readonly TopicPartition[]): TopicPartitions[] {
    this.#assigned = new Map(partitions.map((tp) => [key(tp.topic, tp.partition), tp]));
    this.#next.clear();
    for (const k of [...this.#paused]) if (!this.#assigned.has(k)) this.#paused.delete(k);
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of this.#assigned.values())
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
  }

  pause(topic: string, partition: number): void {
    this.#paused.add(key(topic, partition));
  }

  resume(topic: string, partition: number): void {
    this.#paused.delete(key(topic, partition));
  }

  isPaused(tp: TopicPartition): boolean {
    return this.#paused.has(key(tp.topic, tp.partition));
  }

  /** The next fetch of the partition starts at `offset`; fetches and lookups started before are stale. */
  seek(topic: string, partition: number, offset: bigint): void {
    const k = key(topic, partition);
    this.#next.set(k, offset);
    this.#seeks.set(k, (this.#seeks.get(k) ?? 0) + 1);
  }

  /** The position of `request` was out of range: dropped until reset; fetches and lookups before are stale. */
  outOfRange(request: PartitionFetchRequest): void {
    const k = key(request.topic, request.partition);
    this.#next.delete(k);
    this.#seeks.set(k, request.seek + 1);
  }

  /** Assigned partitions whose position is unknown. */
  unknown(): TopicPartition[] {
    return [...this.#assigned].filter(([k]) => !this.#next.has(k)).map(([, tp]) => tp);
  }

  /** Assigned partitions to fetch: not paused, position known. */
  fetchable(): TopicPartition[] {
    return [...this.#assigned].filter(([k]) => !this.#paused.has(k) && this.#next.has(k)).map(([, tp]) => tp);
  }

  /** The fetch request of a partition, when its position is known. */
  request(tp: TopicPartition): PartitionFetchRequest | undefined {
    const k = key(tp.topic, tp.partition);
    const offset = this.#next.get(k);
    return offset === undefined ? undefined : { ...tp, offset, seek: this.#seeks.get(k) ?? 0 };
  }

  /** Whether a fetch made for `request` still applies: the partition owned, not sought since. */
  isCurrent(request: PartitionFetchRequest): boolean {
    const k = key(request.topic, request.partition);
    return (this.#seeks.get(k) ?? 0) === request.seek && this.#assigned.has(k);
  }

  /** The partition of `request` is read next from `next` (records before it were handed over). */
  advance(request: PartitionFetchRequest, next: bigint): void {
    this.#next.set(key(request.topic, request.partition), next);
  }

  /** The seek counts of `partitions` now (to tell later whether a lookup started now is stale). */
  seekCounts(partitions: readonly TopicPartition[]): Map<string, number> {
    return new Map(
      partitions.map(({ topic, partition }) => [
        key(topic, partition),
        this.#seeks.get(key(topic, partition)) ?? 0,
      ]),
    );
  }

  /**
   * Sets a position found by a lookup, unless the partition has one already, is not assigned, or
   * was sought since the lookup started (`seeks`: the counts then). True when set.
   */
  place(tp: TopicPartition, offset: bigint, seeks: ReadonlyMap<string, number>): boolean {
    const k = key(tp.topic, tp.partition);
    if (this.#next.has(k) || !this.#assigned.has(k)) return false;
    if ((this.#seeks.get(k) ?? 0) !== (seeks.get(k) ?? 0)) return false;
    this.#next.set(k, offset);
    return true;
  }
}
