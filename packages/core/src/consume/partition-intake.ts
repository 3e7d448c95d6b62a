import { PartitionOffsetTracker } from '../channel/partition-offset-tracker.js';

/** Default bound of records buffered (fetched, not settled) per partition. @public */
export const DEFAULT_MAX_BUFFERED_RECORDS_PER_PARTITION = 1000;

/** The stored value's size, as a buffer bound counts it (a text value: its length). @internal */
export function recordBytes(rawValue: Uint8Array | string | undefined): number {
  return rawValue === undefined ? 0 : typeof rawValue === 'string' ? rawValue.length : rawValue.byteLength;
}

/**
 * One owned partition: the gap-safe offset tracker and the buffered count that pauses the source
 * when full and resumes it below half. Its identity is the ownership: a revoked partition's intake
 * is dropped, so work of a previous ownership is recognised (and never acked) by identity.
 *
 * @internal
 */
export class PartitionIntake {
  readonly partition: number;
  /** Null until the first record: the tracker starts at the first fetched offset. */
  tracker: PartitionOffsetTracker | undefined;
  /** Records fetched and not settled yet. */
  buffered = 0;
  /** Their stored value bytes (see {@link recordBytes}). */
  bufferedBytes = 0;
  paused = false;
  /** Last committed position (next offset to read), to skip commits that would not move. */
  committed: bigint | undefined;
  /** Set once revoked: its work is never acked. */
  revoked = false;
  /**
   * Set while the partition is being moved (start position, seek): fetched batches are dropped
   * untracked (so no commit passes them) until the partition is re-read from its new position.
   */
  held = false;
  /** Where a move (start position, seek) placed the partition: committed before any record of it. */
  readonly #movedTo: bigint | undefined;

  /** @param movedTo where a move placed the partition (its first commit, before any record settles). */
  constructor(partition: number, movedTo?: bigint) {
    this.partition = partition;
    this.#movedTo = movedTo;
  }

  /** Tracks a fetched offset of `bytes`; false when it was fetched already (a refetch after a seek). */
  track(offset: bigint, bytes = 0): boolean {
    this.tracker ??= new PartitionOffsetTracker(offset);
    try {
      this.tracker.track(offset);
    } catch {
      return false;
    }
    this.buffered++;
    this.bufferedBytes += bytes;
    return true;
  }

  /** Whether the buffer reached either bound (the partition is paused then). */
  reaches(records: number, bytes: number): boolean {
    return this.buffered >= records || this.bufferedBytes >= bytes;
  }

  /** Whether the buffer is within both bounds (a paused partition resumes at half of each). */
  within(records: number, bytes: number): boolean {
    return this.buffered <= records && this.bufferedBytes <= bytes;
  }

  /** Marks `offset` (of `bytes`) settled; true when the committable position advanced. */
  settle(offset: bigint, bytes = 0): boolean {
    this.buffered--;
    this.bufferedBytes -= bytes;
    return this.tracker?.ack(offset) ?? false;
  }

  /**
   * The position to commit, when it moved since the last commit: the settled prefix, or before the
   * first record, where a move placed the partition (so the move survives a restart or a rebalance).
   */
  get pendingCommit(): bigint | undefined {
    const next = this.tracker?.committable ?? this.#movedTo;
    return next !== undefined && next !== this.committed ? next : undefined;
  }
}
