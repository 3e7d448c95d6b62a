import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError } from '../../errors/gomes-error.js';
import type { Message } from '../../message/message.js';
import { AbortScope, abortScopeOf, childContext } from '../abort-scope.js';
import type { HandlerMiddleware, MessageHandlerFn } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';
import { addStaleAttempt, markStaleAttemptSucceeded, staleAttemptsSettled } from '../stale-attempts.js';

/** Largest timeout `setTimeout` supports, in ms. @public */
export const MAX_PROCESSING_TIMEOUT_MS = 2_147_483_647;

/** Hooks of {@link processingTimeout}. @public */
export interface ProcessingTimeoutHooks {
  /**
   * An abandoned attempt (it timed out, or its parent signal aborted) finally settled, `lateMs`
   * after it was given up. A handler that honours `ctx.signal` settles right after the abort (small
   * `lateMs`); a large one means the handler ignored its signal and kept running.
   */
  readonly onStaleAttemptSettled?: (message: Message, lateMs: number, context: ProcessingContext) => void;
}

/**
 * Bounds each execution of the rest of the pipeline to `timeoutMs`.
 *
 * The inner steps get a new context whose `signal` aborts when the parent signal aborts or when the
 * timer fires. On timeout the signal is aborted with, and the step rejects with, a retriable
 * `GOMES_PROCESSING_TIMEOUT` error — even if the handler ignores its signal. A parent abort also
 * rejects at once. Timers and listeners are cleared when the step settles. Placed inside `retry`,
 * the bound applies per attempt. `0` disables it.
 *
 * **Abandoned attempts.** JavaScript cannot stop a handler that ignores its signal: after the
 * timeout it may keep running (its late result or error is discarded). Such an attempt is recorded
 * on `ctx.state` as *stale* until it really settles; then a warning is logged and
 * `hooks.onStaleAttemptSettled` is called (the event-driven consumer counts it in
 * `stats.staleAttempts`). While a stale attempt of the same message runs, the next attempt (a
 * retry) does not start until it settled or a grace of `timeoutMs` passed (then it starts anyway,
 * with a warning); a parent abort ends that wait at once. The consumer also keeps the message's
 * key and processor slot until every stale attempt settled, so the next message of that key never
 * runs concurrently with it. Handlers should honour `ctx.signal`.
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
export function processingTimeout(timeoutMs: number, hooks: ProcessingTimeoutHooks = {}): HandlerMiddleware {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_PROCESSING_TIMEOUT_MS) {
    throw new ConfigurationError(
      [`timeoutMs must be an integer between 0 and ${MAX_PROCESSING_TIMEOUT_MS} (got ${timeoutMs})`],
      'processing timeout',
    );
  }
  return (next) => {
    if (timeoutMs === 0) return next;
    const deadlines = new DeadlineQueue(timeoutMs);
    const step: AttemptStep = { next, deadlines, timeoutMs, hooks };
    // Not `async`: the attempt's own promise is handed back, without an extra hop per message.
    // eslint-disable-next-line @typescript-eslint/promise-function-async
    return (message, ctx) => {
      const parentScope = abortScopeOf(ctx);
      const parentSignal = parentScope === undefined ? ctx.signal : undefined;
      if (parentScope ? parentScope.aborted : parentSignal!.aborted) {
        return Promise.reject(abortReasonError(parentScope ? parentScope.reason : parentSignal!.reason));
      }
      const previous = staleAttemptsSettled(ctx.state);
      if (previous === undefined) return runAttempt(step, message, ctx, parentScope, parentSignal);
      return awaitPreviousAttempt(previous, timeoutMs, message, ctx, parentScope, parentSignal).then(
        async () => runAttempt(step, message, ctx, parentScope, parentSignal),
      );
    };
  };
}

/** What every attempt of one `processingTimeout` step shares. */
interface AttemptStep {
  readonly next: MessageHandlerFn;
  readonly deadlines: DeadlineQueue;
  readonly timeoutMs: number;
  readonly hooks: ProcessingTimeoutHooks;
}

/** Runs one bounded attempt (see {@link Attempt}). */
// Not `async`: the attempt's own promise is handed back, without an extra hop per message.
// eslint-disable-next-line @typescript-eslint/promise-function-async
function runAttempt(
  step: AttemptStep,
  message: Message,
  ctx: ProcessingContext,
  parentScope: AbortScope | undefined,
  parentSignal: AbortSignal | undefined,
): Promise<Message | undefined> {
  return new Promise<Message | undefined>((resolve, reject) => {
    new Attempt(step, message, ctx, resolve, reject).start(parentScope, parentSignal);
  });
}

/**
 * One attempt of a `processingTimeout` step: runs the rest of the pipeline with a child scope and
 * settles once, with its outcome, on its deadline (a `GOMES_PROCESSING_TIMEOUT` error) or on the
 * parent's abort, whichever comes first. It is its own entry in the step's {@link DeadlineQueue}
 * and its own parent-abort listener, so an attempt costs one object (and three bound callbacks)
 * rather than a closure per concern.
 */
class Attempt implements Deadline {
  // Deadline entry.
  readonly at: number;
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  queued = false;
  readonly #step: AttemptStep;
  readonly #message: Message;
  readonly #ctx: ProcessingContext;
  readonly #scope = new AbortScope();
  readonly #resolve: (result: Message | undefined) => void;
  readonly #reject: (error: unknown) => void;
  #settled = false;
  #parentScope: AbortScope | undefined;
  #parentSignal: AbortSignal | undefined;
  #signalListener: (() => void) | undefined;
  #work: Promise<Message | undefined> | undefined;
  #abandonedAt: number | undefined;

  constructor(
    step: AttemptStep,
    message: Message,
    ctx: ProcessingContext,
    resolve: (result: Message | undefined) => void,
    reject: (error: unknown) => void,
  ) {
    this.#step = step;
    this.#message = message;
    this.#ctx = ctx;
    this.#resolve = resolve;
    this.#reject = reject;
    this.at = performance.now() + step.timeoutMs;
  }

  start(parentScope: AbortScope | undefined, parentSignal: AbortSignal | undefined): void {
    const inner = childContext(this.#ctx, parentScope, this.#scope);
    this.#step.deadlines.add(this);
    if (parentScope) {
      // The attempt's scope follows its parent until the attempt settles (like AbortSignal.any).
      this.#parentScope = parentScope;
      parentScope.onAbort(this.#onParentAbort);
    } else {
      const signal = parentSignal!;
      const listener = (): void => this.#onParentAbort(signal.reason);
      this.#parentSignal = signal;
      this.#signalListener = listener;
      signal.addEventListener('abort', listener, { once: true });
    }
    let work: Promise<Message | undefined>;
    try {
      work = this.#step.next(this.#message, inner);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrown unchanged
      work = Promise.reject(error);
    }
    this.#work = work;
    // Abandoned while `next` was being called (a synchronous parent abort).
    if (this.#abandonedAt !== undefined) this.#trackStale(work, this.#abandonedAt);
    work.then(this.#onResult, this.#onFailure);
  }

  /** The deadline passed (called by the {@link DeadlineQueue}). */
  fire(): void {
    if (!this.#settle()) return;
    const { timeoutMs } = this.#step;
    const messageId = this.#message.messageId;
    const error = new GomesError(
      'PROCESSING_TIMEOUT',
      `Processing of message ${messageId} did not finish within ${timeoutMs} ms`,
      { details: { timeoutMs, messageId } },
    );
    this.#scope.abort(error);
    this.#abandon();
    this.#reject(error);
  }

  readonly #onParentAbort = (reason: unknown): void => {
    this.#scope.abort(reason);
    if (this.#settle()) {
      this.#abandon();
      this.#reject(abortReasonError(reason));
    }
  };

  readonly #onResult = (result: Message | undefined): void => {
    if (this.#settle()) this.#resolve(result);
  };

  readonly #onFailure = (error: unknown): void => {
    if (this.#settle()) this.#reject(error);
  };

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#step.deadlines.remove(this);
    if (this.#parentScope) this.#parentScope.offAbort(this.#onParentAbort);
    else if (this.#signalListener) this.#parentSignal!.removeEventListener('abort', this.#signalListener);
    return true;
  }

  #abandon(): void {
    this.#abandonedAt = performance.now();
    if (this.#work) this.#trackStale(this.#work, this.#abandonedAt);
  }

  /** Records the still-running `running` as a stale attempt of this message. */
  #trackStale(running: Promise<unknown>, since: number): void {
    const ctx = this.#ctx;
    const message = this.#message;
    const { timeoutMs, hooks } = this.#step;
    addStaleAttempt(
      ctx.state,
      running
        .then(() => markStaleAttemptSucceeded(ctx.state), noop)
        .then(() => {
          const lateMs = Math.round(performance.now() - since);
          ctx.logger.warn(
            'A timed-out or aborted attempt settled after it was given up (handlers should honour ctx.signal)',
            {
              messageId: message.messageId,
              lateMs,
              timeoutMs,
            },
          );
          hooks.onStaleAttemptSettled?.(message, lateMs, ctx);
        }),
    );
  }
}

const noop = (): void => undefined;

/**
 * Waits until the stale attempts of this message settled, at most `graceMs` (then logs a warning
 * and lets the next attempt start); rejects at once when the parent aborts.
 */
async function awaitPreviousAttempt(
  previous: Promise<void>,
  graceMs: number,
  message: Message,
  ctx: ProcessingContext,
  parentScope: AbortScope | undefined,
  parentSignal: AbortSignal | undefined,
): Promise<void> {
  const outcome = await new Promise<'settled' | 'grace'>((resolve, reject) => {
    let detach: (() => void) | undefined;
    const done = (result: 'settled' | 'grace'): void => {
      clearTimeout(timer);
      detach?.();
      resolve(result);
    };
    const timer = setTimeout(() => done('grace'), graceMs);
    const onAbort = (reason: unknown): void => {
      clearTimeout(timer);
      detach?.();
      reject(abortReasonError(reason));
    };
    if (parentScope) {
      detach = parentScope.onAbort(onAbort);
    } else {
      const signal = parentSignal!;
      const listener = (): void => onAbort(signal.reason);
      signal.addEventListener('abort', listener, { once: true });
      detach = () => signal.removeEventListener('abort', listener);
    }
    void previous.then(() => done('settled'));
  });
  if (outcome === 'grace') {
    ctx.logger.warn(
      'The previous timed-out attempt still runs after the grace period; starting the next attempt anyway',
      {
        messageId: message.messageId,
        graceMs,
      },
    );
  }
}

/** The error to reject with when the parent aborted with `reason` (see `abortError`). */
function abortReasonError(reason: unknown): Error {
  if (reason instanceof GomesError) return reason;
  return new GomesError('ABORTED', 'The operation was aborted', { cause: reason });
}

interface Deadline {
  readonly at: number;
  fire(): void;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  queued: boolean;
}

/**
 * The deadlines of one `processingTimeout` step, checked by one shared timer instead of a
 * `setTimeout` per message. Every deadline is `timeoutMs` after it was added, so appending keeps
 * the list sorted; removal is O(1). The timer is armed for the earliest deadline and re-armed for
 * the next one when it fires. When the list empties, the timer is unreferenced, not cleared (it no
 * longer keeps the process alive, and ends at its next firing): one message at a time would
 * otherwise create and clear a timer per message (the consume profile showed it). A later deadline
 * references it again; it fires at or before that deadline (deadlines only grow), and re-arms.
 */
class DeadlineQueue {
  readonly #timeoutMs: number;
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Appends `deadline` (its `at` is `timeoutMs` from now, so the list stays sorted). */
  add(deadline: Deadline): void {
    deadline.prev = this.#tail;
    deadline.next = undefined;
    deadline.queued = true;
    if (this.#tail) this.#tail.next = deadline;
    else this.#head = deadline;
    this.#tail = deadline;
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    else if (deadline.prev === undefined) this.#timer.ref();
  }

  remove(deadline: Deadline): void {
    if (!deadline.queued) return;
    this.#unlink(deadline);
    if (this.#head === undefined) this.#timer?.unref();
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
