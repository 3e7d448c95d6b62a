import type { RecordPosition } from '../channel/channel-reader.js';
import type { DeadLetterFilter } from './dead-letter-filter.js';

/** Options of `DeadLetterChannel.list`. @public */
export interface ListDeadLettersOptions {
  /** Which dead letters. @default all */
  readonly filter?: DeadLetterFilter;
  /** Also list dead letters that were redriven already. @default false */
  readonly includeRedriven?: boolean;
  /** Most dead letters returned (the oldest first). @default 1000 */
  readonly limit?: number;
  /** Aborts the read (`GOMES_ABORTED`). */
  readonly signal?: AbortSignal;
}

/** Options of `DeadLetterChannel.redrive`. @public */
export interface DeadLetterRedriveOptions {
  /** Which dead letters. @default all */
  readonly filter?: DeadLetterFilter;
  /** Most messages republished by this call; the rest stay for a later redrive. @default no limit */
  readonly limit?: number;
  /**
   * Channel to republish to (a registered publisher channel). @default each dead letter's origin
   * channel (its envelope's `originChannel`)
   */
  readonly to?: string;
  /**
   * Also redrive dead letters that were redriven already (their messages then carry a higher
   * `RedriveHeaders.REDRIVE_COUNT`). @default false: they are skipped as `already-redriven`
   */
  readonly includeRedriven?: boolean;
  /** Stops the redrive between two messages (status `aborted`), or aborts the read (`GOMES_ABORTED`). */
  readonly signal?: AbortSignal;
}

/** Options of `gomes.redrive`. @public */
export interface RedriveOptions extends DeadLetterRedriveOptions {
  /** The dead-letter channel (a registered publisher channel whose transport can read it back). */
  readonly channel: string;
}

/**
 * How a redrive ended:
 * - `completed`: every matching dead letter was redriven or skipped;
 * - `limit-reached`: `limit` messages were republished and more matching ones are left;
 * - `failed`: a republish (or its marker) failed; nothing after it was attempted (see `failure`);
 * - `aborted`: `signal` aborted between two messages.
 *
 * @public
 */
export type RedriveStatus = 'completed' | 'limit-reached' | 'failed' | 'aborted';

/** A dead letter whose message was republished. @public */
export interface RedrivenMessage {
  /** Position of the dead letter in the dead-letter channel. */
  readonly deadLetter: RecordPosition;
  /** The republished `messageId` (the original message's). */
  readonly messageId: string;
  /** The original `route`. */
  readonly route: string | undefined;
  /** Where it was republished. */
  readonly targetChannel: string;
  /** The `RedriveHeaders.REDRIVE_COUNT` it carried. */
  readonly redriveCount: number;
}

/**
 * Why a matching dead letter was not redriven:
 * - `already-redriven`: a marker says it was redriven before (pass `includeRedriven` to redrive it again);
 * - `no-original-message`: it carries no original headers (e.g. an undecodable record a transport
 *   dead-lettered raw), so there is no original message to restore;
 * - `no-target-channel`: its envelope names no origin channel and no `to` was given;
 * - `unknown-target-channel`: the target is not a registered publisher channel of this instance;
 * - `unconfirmed-target-channel`: the target's `send` resolves before the message is stored (an
 *   asynchronous publisher), so the redrive could not know it was stored.
 *
 * @public
 */
export type RedriveSkipReason =
  | 'already-redriven'
  | 'no-original-message'
  | 'no-target-channel'
  | 'unknown-target-channel'
  | 'unconfirmed-target-channel';

/** A matching dead letter that was not redriven, and why. @public */
export interface SkippedDeadLetter {
  /** Position of the dead letter. */
  readonly deadLetter: RecordPosition;
  /** The original `messageId`, when known. */
  readonly messageId: string | undefined;
  /** Why. */
  readonly reason: RedriveSkipReason;
  /** The reason in words (names the channel, etc.). */
  readonly detail: string;
}

/** A record of the dead-letter channel that is neither a readable dead letter nor a redrive marker. @public */
export interface UnreadableRecord {
  /** Where it is. */
  readonly position: RecordPosition;
  /** Why it cannot be read as a dead letter. */
  readonly reason: string;
}

/** The republish that stopped a redrive. @public */
export interface RedriveFailure {
  /** Position of the dead letter. */
  readonly deadLetter: RecordPosition;
  /** Its original `messageId`. */
  readonly messageId: string;
  /** Where it was being republished. */
  readonly targetChannel: string;
  /**
   * `republish`: the message was not stored (it stays un-redriven); `record`: the message was
   * republished (it is in `redriven`) but its marker could not be stored, so a later redrive may
   * republish it again.
   */
  readonly stage: 'republish' | 'record';
  /** The error. */
  readonly error: Error;
}

/**
 * What a redrive did. `matched` = `redriven.length` + `skipped.length` + `notAttempted`.
 *
 * @public
 */
export interface RedriveReport {
  /** The dead-letter channel. */
  readonly channel: string;
  /** How it ended. */
  readonly status: RedriveStatus;
  /** Records read from the dead-letter channel (dead letters, markers and others). */
  readonly scanned: number;
  /** Dead letters that matched the filter (already-redriven ones included). */
  readonly matched: number;
  /** Republished, in order. */
  readonly redriven: readonly RedrivenMessage[];
  /** Matching dead letters not redriven, with why. */
  readonly skipped: readonly SkippedDeadLetter[];
  /** Matching dead letters left for later because of the limit, a failure or an abort. */
  readonly notAttempted: number;
  /** Records of the channel that are not readable dead letters (whatever the filter). */
  readonly unreadable: readonly UnreadableRecord[];
  /** The republish that stopped the redrive (status `failed`). */
  readonly failure: RedriveFailure | undefined;
}
