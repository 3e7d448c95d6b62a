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
  /** Partitions a rebalance took away: not committed by this member until unfenced. */
  readonly #fenced = new Set<number>();

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

  /**
   * Forgets `partitions`. Those a rebalance took away (`rebalanced`) are fenced: like the Java
   * client's generation-fenced commits, this member never commits them again until
   * {@link SourcePartitions.unfence} (once they are assigned to it again and its earlier drains
   * ended). The broker accepts a commit from any member of the current generation, so a revoke
   * drain ending after the new owner committed would move the group's offset back.
   */
  release(partitions: readonly number[], rebalanced = false): void {
    for (const p of partitions) {
      this.#owned.delete(p);
      if (rebalanced) this.#fenced.add(p);
    }
  }

  /**
   * A join assigned `assigned`: the owned partitions to revoke (every one for a new member id) and
   * the partitions new to this member (kept ones go on).
   */
  joined(assigned: readonly number[], newMember: boolean): { revoked: number[]; added: number[] } {
    const owned = this.owned();
    const now = new Set(assigned);
    const revoked = owned.filter((p) => newMember || !now.has(p));
    const kept = new Set(owned.filter((p) => !revoked.includes(p)));
    return { revoked, added: assigned.filter((p) => !kept.has(p)) };
  }

  /**
   * Lifts the fence of `partitions` assigned to this member again: called once the revoke drains
   * queued before their assignment ended, so a drain's late commit of an earlier ownership stays
   * fenced.
   */
  unfence(partitions: readonly number[]): void {
    for (const p of partitions) this.#fenced.delete(p);
  }

  /** Splits `offsets` into those this member may commit and the partitions a rebalance fenced. */
  committable(offsets: ReadonlyMap<number, bigint>): { kept: [number, bigint][]; fenced: number[] } {
    const kept: [number, bigint][] = [];
    const fenced: number[] = [];
    for (const [partition, offset] of offsets) {
      if (this.#fenced.has(partition)) fenced.push(partition);
      else kept.push([partition, offset]);
    }
    return { kept, fenced };
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
