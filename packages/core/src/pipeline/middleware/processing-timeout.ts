import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError } from '../../errors/gomes-error.js';
import { abortError } from '../../internal/abortable-sleep.js';
import type { Message } from '../../message/message.js';
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
    return async (message, ctx) => {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      const timer = new AbortController();
      const signal = AbortSignal.any([ctx.signal, timer.signal]);
      let handle: ReturnType<typeof setTimeout> | undefined;
      let onParentAbort: (() => void) | undefined;
      const guard = new Promise<never>((_resolve, reject) => {
        handle = setTimeout(() => {
          const error = new GomesError(
            'PROCESSING_TIMEOUT',
            `Processing of message ${message.messageId} did not finish within ${timeoutMs} ms`,
            { details: { timeoutMs, messageId: message.messageId } },
          );
          timer.abort(error);
          reject(error);
        }, timeoutMs);
        onParentAbort = () => reject(abortError(ctx.signal));
        ctx.signal.addEventListener('abort', onParentAbort, { once: true });
      });
      const work: Promise<Message | undefined> = (async () => next(message, { ...ctx, signal }))();
      work.catch(() => undefined);
      try {
        return await Promise.race([work, guard]);
      } finally {
        clearTimeout(handle);
        if (onParentAbort) ctx.signal.removeEventListener('abort', onParentAbort);
      }
    };
  };
}
