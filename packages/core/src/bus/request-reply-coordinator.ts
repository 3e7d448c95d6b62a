import { GomesError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import { abortError } from '../internal/abortable-sleep.js';
import { ReplyHeaders, type ErrorReplyPayload } from '../pipeline/middleware/send-reply.js';

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
   * `onReply` sees the reply message (error replies included) before the request settles.
   */
  async request(
    requestId: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    send: () => Promise<void>,
    onReply?: (reply: Message) => void,
  ): Promise<unknown> {
    if (signal?.aborted) throw abortError(signal);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const reply = new Promise<Message>((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject, onReply });
      timer = setTimeout(() => {
        reject(
          new GomesError('REPLY_TIMEOUT', `No reply to request ${requestId} within ${timeoutMs} ms`, {
            details: { requestId, timeoutMs },
          }),
        );
      }, timeoutMs);
      onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await send();
      const message = await reply;
      return message.payload;
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
