import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError } from '../../errors/gomes-error.js';
import type { Message } from '../../message/message.js';
import { AbortScope, abortScopeOf, childContext } from '../abort-scope.js';
import type { HandlerMiddleware } from '../message-handler.js';

/** Largest timeout `setTimeout` supports, in ms. @public */
export const MAX_PROCESSING_TIMEOUT_MS = 2_147_483_647;

/**
 * Bounds each execution of the rest of the pipeline to `timeoutMs`.
 *
 * The inner steps get a new context whose `signal` aborts when the parent signal aborts or when the
 * timer fires. On timeout the signal is aborted with, and the step rejects with, a retriable
 * `GOMES_PROCESSING_TIMEOUT` error — even if the handler ignores its signal (the handler's late
 * outcome is then discarded). A parent abort also rejects at once. Timers and listeners are cleared
 * when the step settles. Placed inside `retry`, the bound applies per attempt. `0` disables it.
 *
 * Cost: the deadlines of one step share one timer, and the inner signal is created only when
 * something reads `ctx.signal` (see `AbortScope`), so a message whose handler never looks at its
 * signal costs no `AbortController`, listener or per-message timer.
 *
 * @example
 * ```ts
 * composeMiddleware([retry(), processingTimeout(5_000)], terminal);
 * ```
 * @throws ConfigurationError when `timeoutMs` is not an integer in 0..2147483647.
 * @public
 */
export function processingTimeout(timeoutMs: number): HandlerMiddleware {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_PROCESSING_TIMEOUT_MS) {
    throw new ConfigurationError(
      [`timeoutMs must be an integer between 0 and ${MAX_PROCESSING_TIMEOUT_MS} (got ${timeoutMs})`],
      'processing timeout',
    );
  }
  return (next) => {
    if (timeoutMs === 0) return next;
    const deadlines = new DeadlineQueue(timeoutMs);
    return async (message, ctx) => {
      const parentScope = abortScopeOf(ctx);
      const parentSignal = parentScope === undefined ? ctx.signal : undefined;
      if (parentScope ? parentScope.aborted : parentSignal!.aborted) {
        throw abortReasonError(parentScope ? parentScope.reason : parentSignal!.reason);
      }
      const scope = new AbortScope();
      const inner = childContext(ctx, parentScope, scope);
      return new Promise<Message | undefined>((resolve, reject) => {
        let settled = false;
        let detach: (() => void) | undefined;
        const settle = (): boolean => {
          if (settled) return false;
          settled = true;
          deadlines.remove(deadline);
          detach?.();
          return true;
        };
        const deadline = deadlines.add(() => {
          if (!settle()) return;
          const error = new GomesError(
            'PROCESSING_TIMEOUT',
            `Processing of message ${message.messageId} did not finish within ${timeoutMs} ms`,
            { details: { timeoutMs, messageId: message.messageId } },
          );
          scope.abort(error);
          reject(error);
        });
        const onParentAbort = (reason: unknown): void => {
          scope.abort(reason);
          if (settle()) reject(abortReasonError(reason));
        };
        if (parentScope) {
          // The attempt's scope follows its parent for as long as the parent lives (like AbortSignal.any).
          parentScope.onAbort(onParentAbort);
        } else {
          const signal = parentSignal!;
          const listener = (): void => onParentAbort(signal.reason);
          signal.addEventListener('abort', listener, { once: true });
          detach = () => signal.removeEventListener('abort', listener);
        }
        let work: Promise<Message | undefined>;
        try {
          work = next(message, inner);
        } catch (error) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrown unchanged
          work = Promise.reject(error);
        }
        work.then(
          (result) => {
            if (settle()) resolve(result);
          },
          (error: unknown) => {
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the step's failure, unchanged
            if (settle()) reject(error);
          },
        );
      });
    };
  };
}

/** The error to reject with when the parent aborted with `reason` (see `abortError`). */
function abortReasonError(reason: unknown): Error {
  if (reason instanceof GomesError) return reason;
  return new GomesError('ABORTED', 'The operation was aborted', { cause: reason });
}

interface Deadline {
  readonly at: number;
  readonly fire: () => void;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  queued: boolean;
}

/**
 * The deadlines of one `processingTimeout` step, checked by one shared timer instead of a
 * `setTimeout` per message. Every deadline is `timeoutMs` after it was added, so appending keeps
 * the list sorted; removal is O(1). The timer is armed for the earliest deadline, re-armed for the
 * next one when it fires, and cleared as soon as the list is empty (no timer outlives the work).
 */
class DeadlineQueue {
  readonly #timeoutMs: number;
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  add(fire: () => void): Deadline {
    const deadline: Deadline = {
      at: performance.now() + this.#timeoutMs,
      fire,
      prev: this.#tail,
      next: undefined,
      queued: true,
    };
    if (this.#tail) this.#tail.next = deadline;
    else this.#head = deadline;
    this.#tail = deadline;
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    return deadline;
  }

  remove(deadline: Deadline): void {
    if (!deadline.queued) return;
    this.#unlink(deadline);
    if (this.#head === undefined && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #unlink(deadline: Deadline): void {
    deadline.queued = false;
    if (deadline.prev) deadline.prev.next = deadline.next;
    else this.#head = deadline.next;
    if (deadline.next) deadline.next.prev = deadline.prev;
    else this.#tail = deadline.prev;
    deadline.prev = undefined;
    deadline.next = undefined;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, delayMs));
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    let head = this.#head;
    while (head !== undefined && head.at <= now) {
      this.#unlink(head);
      head.fire();
      head = this.#head;
    }
    if (head !== undefined && this.#timer === undefined) this.#arm(Math.ceil(head.at - now));
  }
}
