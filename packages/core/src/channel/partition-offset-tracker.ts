import { GomesError } from '../errors/gomes-error.js';

/** How many popped slots the queue keeps before it compacts its backing array. */
const COMPACT_THRESHOLD = 1024;

/**
 * Gap-safe commit bookkeeping for ONE partition of a partitioned log (Kafka semantics: the
 * committable offset is the NEXT offset to read).
 *
 * Offsets are tracked in increasing order as they are handed to a consumer, and acked in any order
 * (concurrent processors finish out of order). {@link PartitionOffsetTracker.committable} only moves
 * past an offset once it and every tracked offset below it are acked, so a commit never skips an
 * unfinished message. Offsets need not be contiguous (compacted topics, transaction markers).
 *
 * Every operation is amortised O(1): acked offsets at the head of the in-flight queue are popped,
 * and each tracked offset is popped once.
 *
 * @example
 * ```ts
 * const t = new PartitionOffsetTracker(10n);
 * t.track(10n); t.track(11n); t.track(12n);
 * t.ack(11n);            // false: 10 is still in flight
 * t.ack(10n);            // true: committable is now 12
 * t.committable;         // 12n
 * ```
 * @public
 */
export class PartitionOffsetTracker {
  /** Tracked offsets not yet popped, in increasing order, from index `#head`. */
  #queue: bigint[] = [];
  #head = 0;
  /** Status of each queued offset: `true` once acked. */
  readonly #acked = new Map<bigint, boolean>();
  /** Highest tracked offset + 1 (or the start / reset offset when nothing was tracked since). */
  #end: bigint;
  #inFlight = 0;

  /** @param startOffset - the offset reading starts at (the committed offset of the group). */
  constructor(startOffset: bigint) {
    this.#end = startOffset;
  }

  /**
   * Records that `offset` was handed to a consumer.
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` when `offset` is not above every offset tracked so far
   * (or below the start / reset offset).
   */
  track(offset: bigint): void {
    if (offset < this.#end) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Offset ${offset} tracked out of order: offsets must increase (next expected >= ${this.#end})`,
      );
    }
    this.#queue.push(offset);
    this.#acked.set(offset, false);
    this.#end = offset + 1n;
    this.#inFlight++;
  }

  /**
   * Marks `offset` done. Unknown or already acked offsets are ignored.
   *
   * @returns `true` when {@link PartitionOffsetTracker.committable} advanced.
   */
  ack(offset: bigint): boolean {
    if (this.#acked.get(offset) !== false) return false;
    this.#acked.set(offset, true);
    this.#inFlight--;
    if (this.#queue[this.#head] !== offset) return false;
    while (this.#head < this.#queue.length) {
      const head = this.#queue[this.#head] as bigint;
      if (this.#acked.get(head) !== true) break;
      this.#acked.delete(head);
      this.#head++;
    }
    this.#compact();
    return true;
  }

  /** The next offset to read after a restart: every tracked offset below it is acked. */
  get committable(): bigint {
    return this.#head < this.#queue.length ? (this.#queue[this.#head] as bigint) : this.#end;
  }

  /** Tracked offsets not acked yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether `offset` is tracked and not acked yet. */
  isInFlight(offset: bigint): boolean {
    return this.#acked.get(offset) === false;
  }

  /**
   * After a seek to `offset`: forgets every tracked offset `>= offset` (acked or not), so reading
   * resumes there. Offsets below it keep their state.
   */
  reset(offset: bigint): void {
    while (this.#queue.length > this.#head) {
      const last = this.#queue[this.#queue.length - 1] as bigint;
      if (last < offset) break;
      this.#queue.pop();
      if (this.#acked.get(last) === false) this.#inFlight--;
      this.#acked.delete(last);
    }
    this.#end = offset;
    this.#compact();
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_THRESHOLD && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
