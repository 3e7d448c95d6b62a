import type { PartitionLag, PartitionProgress } from '@gomes/core/transport';

/** What the source knows of one owned partition. */
interface Progress {
  /** High watermark of the latest fetch. */
  highWatermark: bigint | undefined;
  /** Settled position (next offset to read), else the first fetched offset. */
  position: bigint | undefined;
  /** When the settled position last advanced, the partition was assigned, or seen caught up. */
  lastProgressAt: number;
}

/**
 * The partitions a {@link KafkaSource} owns, with the high watermark of their latest fetch and
 * their settled position (reported by the core before it commits), for lag and health. Released partitions leave it at once.
 *
 * @internal
 */
export class SourcePartitions {
  readonly #owned = new Map<number, Progress>();

  owns(partition: number): boolean {
    return this.#owned.has(partition);
  }

  owned(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  assign(partitions: readonly number[]): void {
    const now = Date.now();
    for (const p of partitions) {
      this.#owned.set(p, { highWatermark: undefined, position: undefined, lastProgressAt: now });
    }
  }

  /** Forgets `partitions`. */
  release(partitions: readonly number[]): void {
    for (const p of partitions) this.#owned.delete(p);
  }

  /** A batch was fetched: its high watermark, and its first offset as position when none is known. */
  fetched(partition: number, highWatermark: bigint, firstOffset: bigint): void {
    const progress = this.#owned.get(partition);
    if (!progress) return;
    if (progress.position === undefined) progress.position = firstOffset;
    if (progress.highWatermark === undefined || progress.position >= progress.highWatermark) {
      progress.lastProgressAt = Date.now();
    }
    progress.highWatermark = highWatermark;
  }

  /** The core settled (or committed) everything before `offset` (the next offset to read). */
  progressed(partition: number, offset: bigint): void {
    const progress = this.#owned.get(partition);
    if (!progress) return;
    if (progress.position === undefined || offset > progress.position) {
      progress.position = offset;
      progress.lastProgressAt = Date.now();
    }
  }

  /** Lag of each partition fetched at least once: high watermark − settled position. */
  lag(channel: string, group: string): PartitionLag[] {
    const lags: PartitionLag[] = [];
    for (const [partition, { highWatermark: hw, position }] of this.#owned) {
      if (hw === undefined || position === undefined) continue;
      lags.push({ channel, partition, group, lag: Number(hw > position ? hw - position : 0n) });
    }
    return lags;
  }

  /** Lag and last progress of each partition (now, when caught up). */
  progress(channel: string, group: string, now = Date.now()): PartitionProgress[] {
    return this.lag(channel, group).map((lag) => ({
      ...lag,
      lastProgressAt: lag.lag === 0 ? now : (this.#owned.get(lag.partition)?.lastProgressAt ?? now),
    }));
  }
}
