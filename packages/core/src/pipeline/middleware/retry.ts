import { ConfigurationError } from '../../errors/configuration-error.js';
import { isGomesError, isRetriable, toError } from '../../errors/gomes-error.js';
import { abortableSleep } from '../../internal/abortable-sleep.js';
import type { Message } from '../../message/message.js';
import type { HandlerMiddleware } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';
import { resolveRetryOptions, retryDelayMs, type RetryOptions } from '../retry-options.js';

/**
 * Test and observation hooks of {@link retry}.
 *
 * @public
 */
export interface RetryHooks {
  /** Random source for the jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Waits between attempts; must reject when `signal` aborts. @default abortableSleep */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called before each retry, after the failure was recorded in `ctx.state`. */
  readonly onRetry?: (
    message: Message,
    error: Error,
    retry: number,
    delayMs: number,
    context: ProcessingContext,
  ) => void;
}

/**
 * Re-runs the rest of the pipeline when it throws, up to `maxAttempts` executions in total, waiting
 * `retryDelayMs(options, n)` before retry *n* (exponential backoff with jitter, or Go gomes' fixed
 * `delaysMs`). The wait is cancellable: when `ctx.signal` aborts (timeout of an outer step,
 * shutdown), it stops at once and throws the abort error.
 *
 * - Errors with `isRetriable(e) === false` (e.g. `NonRetriableError`, validation errors) are
 *   re-thrown at once.
 * - Every execution increments `ctx.state.attempts`; every failure sets `firstFailureAt` (once),
 *   `lastFailureAt` and `lastError`, which the dead-letter envelope reports.
 * - When attempts are exhausted the last error is re-thrown unchanged.
 *
 * @example
 * ```ts
 * composeMiddleware([retry({ maxAttempts: 5, initialDelayMs: 200 })], terminal);
 * ```
 * @throws ConfigurationError listing every invalid option.
 * @public
 */
export function retry(options: Partial<RetryOptions> = {}, hooks: RetryHooks = {}): HandlerMiddleware {
  const { options: resolved, problems } = resolveRetryOptions(options);
  ConfigurationError.throwIfAny(problems, 'retry options');
  const sleep = hooks.sleep ?? abortableSleep;
  const random = hooks.random ?? Math.random;
  return (next) => async (message, ctx) => {
    for (let attempt = 1; ; attempt++) {
      ctx.state.attempts++;
      try {
        return await next(message, ctx);
      } catch (thrown) {
        const error = toError(thrown);
        const now = new Date();
        ctx.state.firstFailureAt ??= now;
        ctx.state.lastFailureAt = now;
        ctx.state.lastError = error;
        if (ctx.signal.aborted || !isRetriable(error) || attempt >= resolved.maxAttempts) throw error;
        const delayMs = retryDelayMs(resolved, attempt, random);
        ctx.logger.warn('Message processing failed; retrying', {
          attempt,
          maxAttempts: resolved.maxAttempts,
          delayMs,
          errorName: error.name,
          errorCode: isGomesError(error) ? error.code : undefined,
          errorMessage: error.message,
        });
        hooks.onRetry?.(message, error, attempt, delayMs, ctx);
        await sleep(delayMs, ctx.signal);
      }
    }
  };
}
