import type { Message } from '../../message/message.js';
import type { HandlerMiddleware, Interceptor } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';

/**
 * Options of {@link beforeInterceptors}.
 *
 * @public
 */
export interface BeforeInterceptorsOptions {
  /** Called when an interceptor returned `undefined` and processing stopped (the message counts as handled). */
  readonly onStopped?: (message: Message, interceptorIndex: number, context: ProcessingContext) => void;
}

/**
 * Runs `interceptors` in order before the rest of the pipeline; each one gets the previous one's
 * output. An interceptor returning `undefined` stops processing: the message counts as handled
 * (acked), which is logged and reported through `onStopped`.
 *
 * @example
 * ```ts
 * const stamp: Interceptor = (m) => MessageBuilder.from(m).header('seenBy', 'svc').build();
 * composeMiddleware([beforeInterceptors([stamp])], terminal);
 * ```
 * @public
 */
export function beforeInterceptors(
  interceptors: readonly Interceptor[],
  options: BeforeInterceptorsOptions = {},
): HandlerMiddleware {
  const list = [...interceptors];
  return (next) => {
    if (list.length === 0) return next;
    return async (message, ctx) => {
      let current = message;
      for (const [index, interceptor] of list.entries()) {
        const out = await interceptor(current, ctx);
        if (out === undefined) {
          ctx.logger.info('Message processing stopped by a before-interceptor; it counts as handled', {
            interceptorIndex: index,
          });
          options.onStopped?.(current, index, ctx);
          return undefined;
        }
        current = out;
      }
      return next(current, ctx);
    };
  };
}

/**
 * Runs `interceptors` in order on the result of the rest of the pipeline; each one gets the previous
 * one's output and the last output is the step's result. When the result is (or becomes)
 * `undefined`, the remaining interceptors are skipped.
 *
 * @example
 * ```ts
 * composeMiddleware([afterInterceptors([(result) => MessageBuilder.from(result).header('x', '1').build()])], terminal);
 * ```
 * @public
 */
export function afterInterceptors(interceptors: readonly Interceptor[]): HandlerMiddleware {
  const list = [...interceptors];
  return (next) => {
    if (list.length === 0) return next;
    return async (message, ctx) => {
      let result = await next(message, ctx);
      for (const interceptor of list) {
        if (result === undefined) return undefined;
        result = await interceptor(result, ctx);
      }
      return result;
    };
  };
}
