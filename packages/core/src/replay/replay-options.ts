import type { RecordPosition } from '../channel/channel-reader.js';
import type { Message } from '../message/message.js';
import type { ProcessingContext } from '../pipeline/processing-context.js';
import { resolveRetryOptions, type RetryOptions } from '../pipeline/retry-options.js';
import type { ReplayCheckpointStore } from './replay-checkpoint-store.js';

/** What an explicit replay handler gets with each message. @public */
export interface ReplayHandlerContext extends ProcessingContext {
  /** Where the record sits in the channel. */
  readonly position: RecordPosition;
  /** The record's timestamp (inside the replayed window). */
  readonly timestamp: Date;
}

/**
 * An explicit replay handler: called with each decoded message of the window, in offset order per
 * partition. Throwing (or rejecting) fails the attempt; it is retried per `ReplayOptions.retry`.
 *
 * @public
 */
export type ReplayHandler = (message: Message, context: ReplayHandlerContext) => unknown;

/**
 * What a replay does with a record whose handling failed after its retries (or that could not be
 * decoded):
 * - `stop`: the run stops there (status `failed`); the checkpoint stays **before** that record, so
 *   a run with the same checkpoint id tries it again first;
 * - `continue`: the record is reported in `ReplayReport.failures` (and logged as an error), the
 *   checkpoint moves past it and the run goes on.
 *
 * @public
 */
export type ReplayFailurePolicy = 'stop' | 'continue';

/** Checkpointing of a replay run (see {@link ReplayCheckpointStore}). @public */
export interface ReplayCheckpointOptions {
  /** Where checkpoints are loaded from and saved to. */
  readonly store: ReplayCheckpointStore;
  /** The checkpoint id: a run with an id that has a checkpoint resumes from it. */
  readonly id: string;
  /** Save after this many records were handled (or reported); it is also saved when the run ends. @default 100 */
  readonly every?: number;
}

/** Options of `gomes.replay`. @public */
export interface ReplayOptions {
  /**
   * The channel to replay: a registered publisher channel whose transport can read it back (its
   * builder has `createReader`), as for dead letters.
   */
  readonly channel: string;
  /** Start of the window (inclusive): each partition starts at its first record at or after it. */
  readonly from: Date;
  /** End of the window (exclusive): each partition ends before its first record at or after it. */
  readonly to: Date;
  /**
   * Handles each message. @default the action handlers registered on the instance
   * (`addActionHandler`), by route, exactly as a consumer runs them: the payload is turned into
   * the action class and validated (when `validate` is on); a command's or query's result is not
   * sent anywhere.
   */
  readonly handler?: ReplayHandler;
  /**
   * A registered consumer (by its consumer name) of `channel` whose handling steps the replay
   * runs around the handler: its retry options (unless `retry` is given), user middleware,
   * before-interceptors, filter and after-interceptors. Its delivery steps — acknowledge,
   * idempotency, dead letter, replies — are not: a replay has nothing to ack, must handle what an
   * idempotency store calls done, and reports failures instead of dead-lettering them.
   * @default none: only the retries and the handler
   */
  readonly consumer?: string;
  /**
   * Retries of a failed handling, before the failure policy applies (errors that are not
   * retriable, e.g. validation, are not retried). @default the `consumer`'s retry options, else
   * {@link DEFAULT_REPLAY_OPTIONS}.retry
   */
  readonly retry?: Partial<RetryOptions>;
  /** What to do with a record that failed after its retries. @default 'stop' */
  readonly onFailure?: ReplayFailurePolicy;
  /** Records and resumes progress. @default none: every run starts at `from` */
  readonly checkpoint?: ReplayCheckpointOptions;
  /** Stops the run between two records (status `aborted`; the checkpoint is saved). */
  readonly signal?: AbortSignal;
}

/** Defaults of {@link ReplayOptions}. @public */
export const DEFAULT_REPLAY_OPTIONS: {
  /** Retries of a failed handling: 3 attempts in all, 100 ms then 200 ms apart (± 20 %). */
  readonly retry: Readonly<Partial<RetryOptions>>;
  /** A record that failed after its retries stops the run. */
  readonly onFailure: ReplayFailurePolicy;
  /** A checkpoint is saved every 100 records. */
  readonly checkpointEvery: number;
} = Object.freeze({
  retry: Object.freeze({ maxAttempts: 3, initialDelayMs: 100 }),
  onFailure: 'stop',
  checkpointEvery: 100,
});

/** Every problem of `options` that needs no instance to be found (empty when valid). @internal */
export function replayOptionsProblems(options: ReplayOptions): string[] {
  const problems: string[] = [];
  if (typeof options.channel !== 'string' || options.channel === '')
    problems.push('channel must be a non-empty channel name');
  const from = validDate(options.from);
  const to = validDate(options.to);
  if (!from) problems.push('from must be a valid Date (the start of the window, inclusive)');
  if (!to) problems.push('to must be a valid Date (the end of the window, exclusive)');
  if (from && to && to.getTime() <= from.getTime()) {
    problems.push(
      `to (${to.toISOString()}) must be after from (${from.toISOString()}): the window [from, to) is empty`,
    );
  }
  if (options.consumer !== undefined && (typeof options.consumer !== 'string' || options.consumer === ''))
    problems.push('consumer must be the name of a registered consumer channel');
  if (options.handler !== undefined && typeof options.handler !== 'function')
    problems.push(
      'handler must be a function (message, context) => …, or left out to use the registered handlers',
    );
  problems.push(...resolveRetryOptions({ ...DEFAULT_REPLAY_OPTIONS.retry, ...options.retry }).problems);
  if (options.onFailure !== undefined && options.onFailure !== 'stop' && options.onFailure !== 'continue')
    problems.push(`onFailure must be 'stop' or 'continue', got ${JSON.stringify(options.onFailure)}`);
  const checkpoint = options.checkpoint;
  if (checkpoint !== undefined) {
    const store = checkpoint.store as Partial<ReplayCheckpointStore> | undefined;
    if (typeof store?.load !== 'function' || typeof store.save !== 'function')
      problems.push('checkpoint.store must be a ReplayCheckpointStore (load and save)');
    if (typeof checkpoint.id !== 'string' || checkpoint.id === '')
      problems.push('checkpoint.id must be a non-empty string');
    const every = checkpoint.every;
    if (every !== undefined && (!Number.isInteger(every) || every < 1))
      problems.push(`checkpoint.every must be an integer >= 1, got ${String(every)}`);
  }
  return problems;
}

function validDate(value: unknown): Date | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined;
}
