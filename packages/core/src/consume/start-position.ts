import { readStartProblems, type ReadStart } from '../channel/channel-reader.js';

/**
 * Where an event-driven consumer reads a partition from, when told explicitly — at the first
 * assignment of each partition after `run()` (`withStartPosition`) or on a running consumer
 * (`seek`). The {@link ReadStart} vocabulary of bounded reads, plus `latest`:
 *
 * - `earliest`: the oldest record still stored;
 * - `latest`: the end of the partition (only records appended from then on);
 * - `timestamp`: the first record whose timestamp is at or after `timestamp` (Kafka's
 *   `offsetsForTimes`); a partition with no such record starts at its end;
 * - `offsets`: the given offset (the next record to read, a decimal string) of each listed
 *   partition; **partitions not listed are left where they are** (unlike a bounded read, where they
 *   start at the earliest record).
 *
 * An explicit position overrides the group's committed offset (as a Kafka consumer's `seek` in
 * its assignment callback does). Where a group WITHOUT a committed offset starts is the
 * transport's option (in-memory `withStartOffset`, Kafka `fromBeginning`), the equivalent of
 * Kafka's `auto.offset.reset`.
 *
 * @public
 */
export type StartPosition = ReadStart | { readonly kind: 'latest' };

/** A partition a seek moved, and the offset it reads next. @public */
export interface SeekedPartition {
  /** Partition. */
  readonly partition: number;
  /** The next offset read, a decimal string. */
  readonly offset: string;
}

/** Options of `EventDrivenConsumer.seek`. @public */
export interface SeekOptions {
  /**
   * Partitions to move (those not assigned to this member are ignored). @default every assigned
   * partition (for `offsets`: the listed ones)
   */
  readonly partitions?: readonly number[];
}

/**
 * Problems of a {@link StartPosition} (empty when valid), as {@link readStartProblems} plus
 * `latest`.
 *
 * @public
 */
export function startPositionProblems(
  position: StartPosition | undefined,
  label = 'startPosition',
): string[] {
  if (position === undefined) return [];
  if (typeof position !== 'object' || position === null) return [`${label} must be an object with a kind`];
  if (position.kind === 'latest') return [];
  return readStartProblems(position).map((p) => `${label}: ${p}`);
}
