import { GomesError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import { newMessageId } from '../message/message-id.js';
import type { Message } from '../message/message.js';
import { abortError } from '../internal/abortable-sleep.js';
import { MAX_PROCESSING_TIMEOUT_MS } from '../pipeline/middleware/processing-timeout.js';
import { ReplyHeaders, type ErrorReplyPayload } from '../pipeline/middleware/send-reply.js';

const noop = (): void => undefined;

/** Whether `ms` is an integer delay `setTimeout` honours (larger ones fire after 1 ms). */
function isValidTimeout(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isInteger(ms) && ms >= 0 && ms <= MAX_PROCESSING_TIMEOUT_MS;
}

interface Pending {
  resolve(message: Message): void;
  reject(error: Error): void;
  onReply: ((reply: Message) => void) | undefined;
}

/** What a request waits on, for the timeout error. @internal */
export interface RequestDescription {
  /** Route (action name) of the request. */
  readonly route: string | undefined;
  /** Channel the request was sent to. */
  readonly channel: string;
  /** Channel the reply is expected on. */
  readonly replyTo: string;
}

/**
 * What became of a reply a reply consumer received:
 * - `matched`: it settled a waiting request;
 * - `foreign`: its `gomes.reply.instance` header names another instance (a replica's reply);
 * - `unmatched`: addressed to this instance (or not addressed), but no request waits for it — it
 *   arrived after its request timed out or was aborted, or the responder did not copy the header.
 *
 * @public
 */
export type ReplyOutcome = 'matched' | 'foreign' | 'unmatched';

/**
 * Counters of the replies received by a gomes instance's reply consumers (`gomes.requestReplyStats()`).
 *
 * @public
 */
export interface RequestReplyStats {
  /** The instance id stamped on this instance's requests (header `gomes.reply.instance`). */
  readonly instanceId: string;
  /** Requests waiting for a reply now. */
  readonly pending: number;
  /** Replies received by the reply consumers (every outcome). */
  readonly received: number;
  /** Replies that settled a waiting request. */
  readonly matched: number;
  /** Replies addressed to another instance, acked and dropped. */
  readonly foreign: number;
  /** Replies addressed to this instance (or not addressed) that no request waited for, dropped. */
  readonly unmatched: number;
}

/**
 * Matches replies to waiting requests. A reply's `causationId` is the request's `messageId`.
 * Every instance has an id, stamped on its requests (header `gomes.reply.instance`) and copied to
 * the reply by the responder: a reply naming another instance is foreign. Foreign replies and
 * replies nobody waits for any more (late, after a timeout) are counted and dropped — logged at
 * debug level only: with several replicas, each replica reads the others' replies.
 *
 * @internal
 */
export class RequestReplyCoordinator {
  readonly #pending = new Map<string, Pending>();
  readonly #logger: Logger;
  /** This instance's id, stamped on its requests. */
  readonly instanceId: string;
  #received = 0;
  #matched = 0;
  #foreign = 0;
  #unmatched = 0;

  constructor(logger: Logger, instanceId: string = newMessageId()) {
    this.#logger = logger;
    this.instanceId = instanceId;
  }

  /** Requests waiting for a reply. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Replies that arrived with no waiting request (addressed to this instance, or not addressed). */
  get unmatchedReplies(): number {
    return this.#unmatched;
  }

  /** A snapshot of the reply counters. */
  stats(): RequestReplyStats {
    return {
      instanceId: this.instanceId,
      pending: this.#pending.size,
      received: this.#received,
      matched: this.#matched,
      foreign: this.#foreign,
      unmatched: this.#unmatched,
    };
  }

  /** Whether `message` is a reply addressed to another instance (its instance header names another one). */
  isForeign(message: Message): boolean {
    const addressee = message.header(ReplyHeaders.INSTANCE);
    return addressee !== undefined && addressee !== this.instanceId;
  }

  /**
   * Registers a wait for the reply to `requestId` BEFORE the request is sent, then runs `send`.
   * Resolves with the reply payload; rejects on timeout, abort, remote error or send failure.
   * `timeoutMs` is an integer in 0..{@link MAX_PROCESSING_TIMEOUT_MS}, or `Infinity` for no timer (anything
   * else rejects with a `GOMES_CONFIGURATION` GomesError and nothing is sent).
   * `onReply` sees the reply message (error replies included) before the request settles.
   *
   * The wait and the send race: a timeout, an abort or a shutdown (`rejectAll`) that happens while
   * `send` is still pending rejects the caller at once with its own error (the pending send is
   * abandoned and its late outcome ignored), and never surfaces as an unhandled rejection.
   * A reply that arrives before `send` resolved settles the request too.
   */
  async request(
    requestId: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    send: () => Promise<void>,
    onReply?: (reply: Message) => void,
    description?: RequestDescription,
  ): Promise<unknown> {
    if (timeoutMs !== Infinity && !isValidTimeout(timeoutMs)) {
      throw new GomesError(
        'CONFIGURATION',
        `timeoutMs must be an integer between 0 and ${MAX_PROCESSING_TIMEOUT_MS}, or Infinity for no timeout (got ${String(timeoutMs)})`,
        { details: { requestId, timeoutMs } },
      );
    }
    if (signal?.aborted) throw abortError(signal);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const reply = new Promise<Message>((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject, onReply });
      // Infinity means "wait for the reply, the signal or shutdown": no timer (setTimeout would
      // fire a too-large delay after 1 ms).
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => reject(this.#timeoutError(requestId, timeoutMs, description)), timeoutMs);
      }
      onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // The reply may fail (timeout, abort, rejectAll) while `send` is pending: it is always awaited
    // below, but mark it handled now so the rejection is never reported as unhandled meanwhile.
    reply.catch(noop);
    let sending: Promise<void>;
    try {
      sending = send();
    } catch (error) {
      sending = Promise.reject(toError(error));
    }
    // When the reply side settles first, the send is abandoned: its late failure changes nothing.
    sending.catch(noop);
    try {
      // Whichever settles first: a send failure or a reply failure rejects the caller.
      await Promise.race([sending, reply]);
      return (await reply).payload;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      this.#pending.delete(requestId);
    }
  }

  #timeoutError(requestId: string, timeoutMs: number, d: RequestDescription | undefined): GomesError {
    const what = d
      ? `request ${requestId} (${d.route ?? 'no route'} to "${d.channel}", reply expected on "${d.replyTo}")`
      : `request ${requestId}`;
    return new GomesError(
      'REPLY_TIMEOUT',
      `No reply to ${what} within ${timeoutMs} ms: the responder is down, slow or failed to reply. ` +
        'The request may still be processed; a reply arriving later is dropped',
      { details: { requestId, timeoutMs, instanceId: this.instanceId, ...d } },
    );
  }

  /**
   * Counts a reply addressed to another instance (see {@link RequestReplyCoordinator.isForeign}); it
   * is dropped. Logged at debug level only.
   */
  dropForeign(message: Message): ReplyOutcome {
    this.#received++;
    this.#foreign++;
    this.#logger.debug('reply for another instance; dropped', {
      messageId: message.messageId,
      causationId: message.causationId,
      addressee: message.header(ReplyHeaders.INSTANCE),
    });
    return 'foreign';
  }

  /**
   * Hands a reply to its waiting request: `matched`, or `foreign` (another instance's, see
   * {@link RequestReplyCoordinator.isForeign}), or `unmatched` when nobody waits for it (late, after
   * a timeout or an abort). Foreign and unmatched replies are counted and dropped, logged at debug
   * level only.
   */
  handleReply(message: Message): ReplyOutcome {
    if (this.isForeign(message)) return this.dropForeign(message);
    this.#received++;
    const requestId = message.causationId;
    const pending = requestId === undefined ? undefined : this.#pending.get(requestId);
    if (!pending) {
      this.#unmatched++;
      this.#logger.debug('reply has no waiting request (late, or its request was aborted); dropped', {
        messageId: message.messageId,
        causationId: requestId,
      });
      return 'unmatched';
    }
    this.#matched++;
    pending.onReply?.(message);
    if (message.header(ReplyHeaders.ERROR) === 'true') {
      const body = message.payload as Partial<ErrorReplyPayload> | undefined;
      pending.reject(
        new GomesError(
          'REMOTE_HANDLER_FAILED',
          `Remote handler failed: ${body?.error?.message ?? 'unknown error'}`,
          {
            details: { remoteName: body?.error?.name, remoteCode: body?.error?.code, requestId },
          },
        ),
      );
    } else {
      pending.resolve(message);
    }
    return 'matched';
  }

  /** Rejects every waiting request (on shutdown). */
  rejectAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
