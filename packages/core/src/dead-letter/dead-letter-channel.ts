import type { ChannelReader, RecordPosition } from '../channel/channel-reader.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { DeadLetterHeaders, RedriveHeaders } from '../message/dead-letter-headers.js';
import { MessageBuilder } from '../message/message-builder.js';
import { MessageHeaders } from '../message/message-headers.js';
import type { Message } from '../message/message.js';
import {
  readRedriveMarker,
  redriveMarkerMessage,
  type DeadLetter,
  type RedriveMarker,
} from './dead-letter.js';
import {
  deadLetterFilterProblems,
  matchesDeadLetterFilter,
  type DeadLetterFilter,
} from './dead-letter-filter.js';
import type {
  DeadLetterRedriveOptions,
  ListDeadLettersOptions,
  RedriveFailure,
  RedriveReport,
  RedriveStatus,
  RedrivenMessage,
  SkippedDeadLetter,
  UnreadableRecord,
} from './redrive-report.js';

/** Default `limit` of {@link DeadLetterChannel.list}. @public */
export const DEFAULT_DEAD_LETTER_LIST_LIMIT = 1000;

/** What a {@link DeadLetterChannel} works with. @internal */
export interface DeadLetterChannelInit {
  /** Reads the dead-letter channel back. */
  readonly reader: ChannelReader;
  /** The dead-letter channel's publisher: redrive markers are appended through it. */
  readonly publisher: PublisherChannel;
  /** The instance's started publisher channels, by name (redrive targets). */
  readonly publishers: (name: string) => PublisherChannel | undefined;
  readonly logger: Logger;
}

/** The dead letters of one read, after markers were matched to them. */
interface Scan {
  readonly scanned: number;
  /** Dead letters matching the filter, oldest first. */
  readonly matched: DeadLetter[];
  readonly unreadable: UnreadableRecord[];
}

/**
 * The dead letters of one dead-letter channel: list them with filters and redrive them — republish
 * each original message, with its **original `messageId` and headers** plus
 * `RedriveHeaders.REDRIVE_COUNT`, to its origin channel (or another one).
 *
 * Both read the channel with its transport's bounded reader: from the oldest stored record up to the
 * end captured when the call began. A dead-letter channel is append-only (Kafka cannot delete one
 * record), so a redrive **records** what it did: after a republish is confirmed stored, it appends a
 * redrive marker for that dead letter to the dead-letter channel. Dead letters with a marker count
 * as redriven: `list` leaves them out and `redrive` skips them unless `includeRedriven` is set;
 * dead letters a filter did not select stay as they are, listable and redrivable later. See
 * docs/dead-letters.md.
 *
 * Get one with `gomes.deadLetters(channel)`.
 *
 * @example
 * ```ts
 * const dlq = gomes.deadLetters('orders.DLQ');
 * const timeouts = await dlq.list({ filter: { errorCode: 'GOMES_PROCESSING_TIMEOUT' } });
 * const report = await dlq.redrive({ filter: { route: 'createOrder' }, limit: 100 });
 * ```
 * @public
 */
export class DeadLetterChannel {
  /** The dead-letter channel's name. */
  readonly name: string;
  readonly #reader: ChannelReader;
  readonly #publisher: PublisherChannel;
  readonly #publishers: (name: string) => PublisherChannel | undefined;
  readonly #logger: Logger;

  /** @internal Use `gomes.deadLetters(channel)`. */
  constructor(init: DeadLetterChannelInit) {
    this.name = init.reader.channelName;
    this.#reader = init.reader;
    this.#publisher = init.publisher;
    this.#publishers = init.publishers;
    this.#logger = init.logger.child({ deadLetterChannel: this.name });
  }

  /**
   * The dead letters matching `options.filter`, oldest first (by dead-letter time, then position);
   * already redriven ones only with `includeRedriven`.
   *
   * @throws ConfigurationError (`GOMES_CONFIGURATION`) for invalid options; `GOMES_ABORTED`,
   * `GOMES_NOT_FOUND` or `GOMES_CONNECTION_FAILED` from the read.
   */
  async list(options: ListDeadLettersOptions = {}): Promise<DeadLetter[]> {
    const limit = options.limit ?? DEFAULT_DEAD_LETTER_LIST_LIMIT;
    ConfigurationError.throwIfAny(
      [...deadLetterFilterProblems(options.filter), ...limitProblems(options.limit)],
      `dead-letter list of "${this.name}"`,
    );
    const { matched } = await this.#scan(options.filter, options.signal);
    return matched.filter((d) => options.includeRedriven === true || d.redrives.length === 0).slice(0, limit);
  }

  /**
   * Republishes the matching dead letters' original messages, oldest first, one at a time: each is
   * sent to its target and, once the send is confirmed, a redrive marker is appended to this
   * channel. The first failed send stops the redrive (nothing after it is attempted, nothing is
   * recorded for it). Returns what it did; it throws only when it could not start.
   *
   * Delivery is at least once: a dead letter redriven again (`includeRedriven`), or whose marker
   * could not be stored, is republished with the same `messageId`; its `RedriveHeaders.REDRIVE_COUNT`
   * tells consumers it is a redrive.
   *
   * @throws ConfigurationError (`GOMES_CONFIGURATION`) for invalid options or when this channel's
   * publisher does not confirm sends; `GOMES_ABORTED`, `GOMES_NOT_FOUND` or
   * `GOMES_CONNECTION_FAILED` from the read (nothing was republished then).
   */
  async redrive(options: DeadLetterRedriveOptions = {}): Promise<RedriveReport> {
    const problems = [...deadLetterFilterProblems(options.filter), ...limitProblems(options.limit)];
    if (options.to !== undefined && (typeof options.to !== 'string' || options.to === ''))
      problems.push('to must be a non-empty channel name');
    if (this.#publisher.confirmsSends === false) {
      problems.push(
        `the publisher of "${this.name}" resolves sends before they are stored (asynchronous mode); redrive markers need a publisher that confirms them`,
      );
    }
    ConfigurationError.throwIfAny(problems, `dead-letter redrive of "${this.name}"`);
    const scan = await this.#scan(options.filter, options.signal);
    const skipped: SkippedDeadLetter[] = [];
    const planned: { deadLetter: DeadLetter; target: PublisherChannel; message: Message }[] = [];
    for (const deadLetter of scan.matched) {
      const plan = this.#plan(deadLetter, options);
      if ('reason' in plan) skipped.push(plan);
      else planned.push({ deadLetter, ...plan });
    }
    const redriven: RedrivenMessage[] = [];
    let failure: RedriveFailure | undefined;
    let status: RedriveStatus = 'completed';
    let next = 0;
    for (; next < planned.length; next++) {
      if (options.limit !== undefined && redriven.length >= options.limit) {
        status = 'limit-reached';
        break;
      }
      if (options.signal?.aborted) {
        status = 'aborted';
        break;
      }
      const { deadLetter, target, message } = planned[next]!;
      const redriveCount = Number(message.header(RedriveHeaders.REDRIVE_COUNT));
      const where = {
        deadLetter: deadLetter.position,
        messageId: message.messageId,
        targetChannel: target.name,
      };
      try {
        // No signal: a send is never abandoned half-way (it could be stored without its marker).
        await target.send(message);
      } catch (error) {
        failure = { ...where, stage: 'republish', error: toError(error) };
        break;
      }
      redriven.push({ ...where, route: deadLetter.route, redriveCount });
      try {
        await this.#publisher.send(redriveMarkerMessage(deadLetter, target.name, redriveCount, new Date()));
      } catch (error) {
        failure = { ...where, stage: 'record', error: toError(error) };
        next++;
        break;
      }
    }
    if (failure) status = 'failed';
    const report: RedriveReport = Object.freeze({
      channel: this.name,
      status,
      scanned: scan.scanned,
      matched: scan.matched.length,
      redriven: Object.freeze(redriven),
      skipped: Object.freeze(skipped),
      notAttempted: planned.length - next,
      unreadable: Object.freeze(scan.unreadable),
      failure,
    });
    this.#log(report);
    return report;
  }

  /** The message to republish for `deadLetter` and where, or why it is skipped. */
  #plan(
    deadLetter: DeadLetter,
    options: DeadLetterRedriveOptions,
  ): { target: PublisherChannel; message: Message } | SkippedDeadLetter {
    const skip = (reason: SkippedDeadLetter['reason'], detail: string): SkippedDeadLetter =>
      Object.freeze({
        deadLetter: deadLetter.position,
        messageId: deadLetter.originalMessageId,
        reason,
        detail,
      });
    if (deadLetter.redrives.length > 0 && options.includeRedriven !== true) {
      const last = deadLetter.redrives[deadLetter.redrives.length - 1]!;
      return skip(
        'already-redriven',
        `redriven ${deadLetter.redrives.length} time(s), last to "${last.targetChannel}"; pass includeRedriven to redrive it again`,
      );
    }
    let restored: MessageBuilder;
    try {
      restored = MessageBuilder.fromDeadLetter(deadLetter.message);
    } catch (error) {
      return skip('no-original-message', toError(error).message);
    }
    const targetName = options.to ?? deadLetter.envelope.originChannel;
    if (targetName === undefined)
      return skip(
        'no-target-channel',
        `its envelope names no origin channel (${DeadLetterHeaders.ORIGIN_CHANNEL}); pass "to"`,
      );
    const target = this.#publishers(targetName);
    if (!target)
      return skip(
        'unknown-target-channel',
        `"${targetName}" is not a registered publisher channel of this instance`,
      );
    if (target.confirmsSends === false) {
      return skip(
        'unconfirmed-target-channel',
        `the publisher of "${targetName}" resolves sends before they are stored (asynchronous mode)`,
      );
    }
    const message = restored
      .channelName(targetName)
      .header(RedriveHeaders.REDRIVE_COUNT, String(nextRedriveCount(deadLetter)))
      .build();
    return { target, message };
  }

  async #scan(filter: DeadLetterFilter | undefined, signal: AbortSignal | undefined): Promise<Scan> {
    // `where` may look at `redrives`, known only once every marker was read: it runs last.
    const fieldFilter = filter && { ...filter, where: undefined };
    const markers = new Map<string, RedriveMarker[]>();
    const candidates: DeadLetter[] = [];
    const unreadable: UnreadableRecord[] = [];
    let scanned = 0;
    for await (const record of this.#reader.read(signal ? { signal } : {})) {
      scanned++;
      if (record.kind === 'undecodable') {
        unreadable.push({ position: record.position, reason: record.error.message });
        continue;
      }
      const marker = readRedriveMarker(record.message);
      if (marker) {
        const key = positionKey(marker.deadLetter);
        markers.set(key, [...(markers.get(key) ?? []), marker]);
        continue;
      }
      const envelope = readDeadLetterEnvelope(record.message);
      if (!envelope) {
        unreadable.push({
          position: record.position,
          reason: `not a dead-letter message (no "${DeadLetterHeaders.ERROR_MESSAGE}" header)`,
        });
        continue;
      }
      const deadLetter: DeadLetter = {
        position: record.position,
        deadLetteredAt: record.timestamp,
        message: record.message,
        envelope,
        originalMessageId: envelope.originalHeaders[MessageHeaders.MESSAGE_ID],
        route: envelope.originalHeaders[MessageHeaders.ROUTE],
        redrives: [],
      };
      if (matchesDeadLetterFilter(deadLetter, fieldFilter)) candidates.push(deadLetter);
    }
    const matched = candidates
      .map((d) =>
        Object.freeze({ ...d, redrives: Object.freeze(markers.get(positionKey(d.position)) ?? []) }),
      )
      .filter((d) => filter?.where === undefined || filter.where(d))
      .sort(oldestFirst);
    return { scanned, matched, unreadable };
  }

  #log(report: RedriveReport): void {
    const fields = {
      status: report.status,
      scanned: report.scanned,
      matched: report.matched,
      redriven: report.redriven.length,
      skipped: report.skipped.length,
      notAttempted: report.notAttempted,
      unreadable: report.unreadable.length,
    };
    if (report.failure) {
      this.#logger.warn('dead-letter redrive stopped by a failed republish', {
        ...fields,
        stage: report.failure.stage,
        messageId: report.failure.messageId,
        targetChannel: report.failure.targetChannel,
        errorMessage: report.failure.error.message,
      });
    } else {
      this.#logger.info('dead-letter redrive finished', fields);
    }
  }
}

/**
 * The redrive count of the next republish of `deadLetter`: one more than the most it carried
 * (it may itself be a redriven message that failed again) or was redriven with.
 */
function nextRedriveCount(deadLetter: DeadLetter): number {
  const carried = Number(deadLetter.envelope.originalHeaders[RedriveHeaders.REDRIVE_COUNT] ?? 0);
  const previous = deadLetter.redrives.map((r) => r.redriveCount);
  return Math.max(Number.isInteger(carried) && carried > 0 ? carried : 0, ...previous) + 1;
}

function limitProblems(limit: unknown): string[] {
  return limit === undefined || (typeof limit === 'number' && Number.isInteger(limit) && limit >= 1)
    ? []
    : [`limit must be an integer >= 1, got ${JSON.stringify(limit) ?? typeof limit}`];
}

function positionKey(position: { readonly partition: number; readonly offset: string }): string {
  return `${position.partition}:${position.offset}`;
}

function oldestFirst(a: DeadLetter, b: DeadLetter): number {
  return (
    a.deadLetteredAt.getTime() - b.deadLetteredAt.getTime() ||
    a.position.partition - b.position.partition ||
    compareOffsets(a.position, b.position)
  );
}

function compareOffsets(a: RecordPosition, b: RecordPosition): number {
  const x = BigInt(a.offset);
  const y = BigInt(b.offset);
  return x < y ? -1 : x > y ? 1 : 0;
}
