import { GomesError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
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

/**
 * Matches replies to waiting requests. A reply's `causationId` is the request's `messageId`.
 * Replies nobody waits for any more (late, after a timeout) are logged and counted, then dropped.
 *
 * @internal
 */
export class RequestReplyCoordinator {
  readonly #pending = new Map<string, Pending>();
  readonly #logger: Logger;
  /** Replies that arrived with no waiting request. */
  unmatchedReplies = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Requests waiting for a reply. */
  get pending(): number {
    return this.#pending.size;
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
        timer = setTimeout(() => {
          reject(
            new GomesError('REPLY_TIMEOUT', `No reply to request ${requestId} within ${timeoutMs} ms`, {
              details: { requestId, timeoutMs },
            }),
          );
        }, timeoutMs);
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

  /** Hands a reply to its waiting request; false when nobody waits for it. */
  handleReply(message: Message): boolean {
    const requestId = message.causationId;
    const pending = requestId === undefined ? undefined : this.#pending.get(requestId);
    if (!pending) {
      this.unmatchedReplies++;
      this.#logger.warn('reply has no waiting request (late or foreign); dropped', {
        messageId: message.messageId,
        causationId: requestId,
      });
      return false;
    }
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
    return true;
  }

  /** Rejects every waiting request (on shutdown). */
  rejectAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
