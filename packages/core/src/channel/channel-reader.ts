import type { Message } from '../message/message.js';

/**
 * Where a bounded read starts in each partition of a channel:
 *
 * - `earliest`: the oldest record still stored (retention may have removed older ones);
 * - `offsets`: the given offset of each listed partition (the next record to read, a decimal
 *   string); partitions not listed start at the earliest record, and an offset below the earliest
 *   stored record starts there;
 * - `timestamp`: the first record whose timestamp is at or after `timestamp` (Kafka's
 *   `offsetsForTimes`); a partition with no such record reads nothing.
 *
 * @public
 */
export type ReadStart =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'offsets'; readonly offsets: Readonly<Record<number, string>> }
  | { readonly kind: 'timestamp'; readonly timestamp: Date };

/**
 * Where a bounded read ends in each partition, before the end captured when the read began:
 *
 * - `timestamp`: before the first record whose timestamp is at or after `timestamp` (Kafka's
 *   `offsetsForTimes`); a partition with no such record reads up to its captured end.
 *
 * @public
 */
export type ReadEnd = { readonly kind: 'timestamp'; readonly timestamp: Date };

/** Options of {@link ChannelReader.read}. @public */
export interface ChannelReadOptions {
  /** Where each partition starts. @default `{ kind: 'earliest' }` */
  readonly start?: ReadStart;
  /**
   * Where each partition ends, when earlier than the end captured when the read began (records
   * from there on are not read). @default the captured end
   */
  readonly end?: ReadEnd;
  /** Ends the read: the iteration then throws `GOMES_ABORTED`. */
  readonly signal?: AbortSignal;
}

/** Where a record sits in its channel. @public */
export interface RecordPosition {
  /** Channel (topic) name. */
  readonly channel: string;
  /** Partition. */
  readonly partition: number;
  /** Offset within the partition, a decimal string. */
  readonly offset: string;
}

/**
 * One record of a bounded read: a decoded `message`, or an `undecodable` record with the reason
 * and its raw headers (it is yielded, never skipped silently).
 *
 * @public
 */
export type ChannelRecord =
  | {
      readonly kind: 'message';
      readonly position: RecordPosition;
      /** The record's timestamp (when the transport stored it, or when its producer wrote it). */
      readonly timestamp: Date;
      readonly message: Message;
    }
  | {
      readonly kind: 'undecodable';
      readonly position: RecordPosition;
      /** The record's timestamp. */
      readonly timestamp: Date;
      /** Why it could not be decoded (`GOMES_TRANSLATION_FAILED`). */
      readonly error: Error;
      /** The record's headers as stored. */
      readonly headers: Readonly<Record<string, string>>;
    };

/**
 * Transport capability: reads a channel **up to where it ended when the read began**, then stops —
 * no consumer group membership that outlives the read, no committed offsets, no endless consume.
 *
 * `read()` first captures each partition's end offset (or, with `options.end`, the earlier offset
 * of the first record at or after its timestamp), then yields every record from the start
 * position up to (excluding) that end, in offset order within each partition (partitions may
 * interleave), and finishes. Records appended after the read began are not read. Breaking out of
 * the iteration releases what the read holds. Each call is independent (a reader holds no state).
 *
 * Built by `PublisherChannelBuilder.createReader` (the transport decodes records as that channel
 * encodes them). Used by the dead-letter API (`gomes.deadLetters(channel)`) and by
 * `gomes.replay`; a transport without it cannot list or redrive dead letters, nor replay.
 *
 * @public
 */
export interface ChannelReader {
  /** The channel (topic) read. */
  readonly channelName: string;
  /**
   * Reads the channel from `options.start` to the end offsets captured when the read begins.
   *
   * @throws GomesError `GOMES_NOT_FOUND` when the channel does not exist, `GOMES_ABORTED` when
   * `options.signal` aborts, `GOMES_CONNECTION_FAILED` when the transport fails during the read.
   */
  read(options?: ChannelReadOptions): AsyncIterable<ChannelRecord>;
}

/**
 * Problems of a {@link ReadStart} (empty when valid): offsets must be decimal strings of
 * non-negative integers and partitions non-negative integers; a timestamp must be a valid date.
 * Readers check it before reading and throw `GOMES_CONFIGURATION` listing the problems.
 *
 * @public
 */
export function readStartProblems(start: ReadStart | undefined): string[] {
  if (start === undefined || start.kind === 'earliest') return [];
  if (start.kind === 'timestamp') {
    return start.timestamp instanceof Date && !Number.isNaN(start.timestamp.getTime())
      ? []
      : ['start.timestamp must be a valid Date'];
  }
  if (start.kind !== 'offsets') return [`unknown start kind "${String((start as { kind: unknown }).kind)}"`];
  const problems: string[] = [];
  for (const [partition, offset] of Object.entries(start.offsets)) {
    if (!/^\d+$/.test(partition))
      problems.push(`start.offsets: partition "${partition}" is not an integer >= 0`);
    if (typeof offset !== 'string' || !/^\d+$/.test(offset))
      problems.push(`start.offsets[${partition}] must be a decimal string >= 0, got ${String(offset)}`);
  }
  return problems;
}

/**
 * Problems of a {@link ReadEnd} (empty when valid): a timestamp must be a valid date. Readers check
 * it before reading and throw `GOMES_CONFIGURATION` listing the problems.
 *
 * @public
 */
export function readEndProblems(end: ReadEnd | undefined): string[] {
  if (end === undefined) return [];
  if (end.kind !== 'timestamp') return [`unknown end kind "${String((end as { kind: unknown }).kind)}"`];
  return end.timestamp instanceof Date && !Number.isNaN(end.timestamp.getTime())
    ? []
    : ['end.timestamp must be a valid Date'];
}
