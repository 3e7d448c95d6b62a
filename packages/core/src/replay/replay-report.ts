import type { RecordPosition } from '../channel/channel-reader.js';

/**
 * How a replay run ended:
 * - `completed`: every partition reached the end of the window (or its end when the run began);
 * - `failed`: a record failed with `onFailure: 'stop'`, the read failed, or a checkpoint could not
 *   be saved (see `ReplayReport.error`);
 * - `aborted`: the signal aborted the run.
 *
 * @public
 */
export type ReplayStatus = 'completed' | 'failed' | 'aborted';

/** A record of the window that was not handled successfully. @public */
export interface ReplayFailure {
  /** Where it is. */
  readonly position: RecordPosition;
  /** Its timestamp. */
  readonly timestamp: Date;
  /** `handler`: its handling failed after the retries; `undecodable`: it could not be decoded. */
  readonly reason: 'handler' | 'undecodable';
  /** Its `messageId`, when it was decoded. */
  readonly messageId: string | undefined;
  /** Its `route`, when it was decoded and has one. */
  readonly route: string | undefined;
  /** Handler executions (0 for an undecodable record). */
  readonly attempts: number;
  /** The (last) error. */
  readonly error: Error;
}

/** What a replay run did in one partition. @public */
export interface ReplayPartitionReport {
  /** The partition. */
  readonly partition: number;
  /** Messages handled successfully in this run. */
  readonly handled: number;
  /** Records reported as failures (handler or undecodable) in this run. */
  readonly failed: number;
  /** Offset of the last record this run handled or reported, when it did any. */
  readonly lastOffset: string | undefined;
  /** Offset of the next record to handle: what the checkpoint holds for this partition. */
  readonly nextOffset: string;
}

/**
 * What a replay run did. Every record the run read is in exactly one count: `handled`, `filtered`,
 * `failed`, `skippedCheckpointed`, `outsideWindow`, or is the record a `stop` failure or an abort left for a
 * later run.
 *
 * @public
 */
export interface ReplayReport {
  /** The replayed channel. */
  readonly channel: string;
  /** Start of the window (inclusive). */
  readonly from: Date;
  /** End of the window (exclusive). */
  readonly to: Date;
  /** How the run ended. */
  readonly status: ReplayStatus;
  /** Messages handled successfully. */
  readonly handled: number;
  /**
   * Messages the `consumer`'s filter or one of its before-interceptors dropped (logged by that
   * step, not handled; they count as done for the checkpoint).
   */
  readonly filtered: number;
  /** Records reported as failures (also those that stopped the run); see `failures`. */
  readonly failed: number;
  /** Records that could not be decoded (a part of `failed`). */
  readonly undecodable: number;
  /** Records before the checkpoint the run resumed from: handled by an earlier run, not again. */
  readonly skippedCheckpointed: number;
  /**
   * Records read inside the window's offsets whose own timestamp lies outside `[from, to)`
   * (producer timestamps that go back in time): not handled, counted here and logged.
   */
  readonly outsideWindow: number;
  /** The failed records, in the order met. */
  readonly failures: readonly ReplayFailure[];
  /** Per partition that had records in the window, ordered by partition. */
  readonly partitions: readonly ReplayPartitionReport[];
  /** The checkpoint the run resumed from (next offset per partition), when there was one. */
  readonly resumedFrom: Readonly<Record<number, string>> | undefined;
  /** Checkpoints saved by this run. */
  readonly checkpointsSaved: number;
  /** What stopped a `failed` run (the handler's error, the read's, or the checkpoint store's). */
  readonly error: Error | undefined;
  /** How long the run took, in ms. */
  readonly durationMs: number;
}
