import type { Message } from '../message/message.js';
import type { ProcessingContext } from './processing-context.js';

/**
 * One step of a handler pipeline. It returns the result message (a reply, the transformed message)
 * or `undefined` when there is nothing further (e.g. filtered out). Throwing means failure.
 *
 * @public
 */
export type MessageHandlerFn = (message: Message, context: ProcessingContext) => Promise<Message | undefined>;

/**
 * Middleware wraps a handler: `(next) => handler`. In a list, the **first middleware runs
 * outermost**: it sees the message first and the outcome last.
 *
 * @example
 * ```ts
 * const logTime: HandlerMiddleware = (next) => async (msg, ctx) => {
 *   const t = Date.now(); try { return await next(msg, ctx); } finally { ctx.logger.info('took', { ms: Date.now() - t }); }
 * };
 * ```
 * @public
 */
export type HandlerMiddleware = (next: MessageHandlerFn) => MessageHandlerFn;

/**
 * Composes middleware around a terminal handler; `middleware[0]` is outermost.
 *
 * @public
 */
export function composeMiddleware(
  middleware: readonly HandlerMiddleware[],
  terminal: MessageHandlerFn,
): MessageHandlerFn {
  return middleware.reduceRight<MessageHandlerFn>((next, mw) => mw(next), terminal);
}

/**
 * An interceptor sees (and may replace) the message before the handler, or the result after it.
 * Returning `undefined` from a before-interceptor stops processing (the message counts as handled).
 *
 * @public
 */
export type Interceptor = (
  message: Message,
  context: ProcessingContext,
) => Promise<Message | undefined> | Message | undefined;

/** A predicate deciding whether a message is processed; `false` drops it (acked, logged, counted). @public */
export type MessageFilterFn = (message: Message) => boolean | Promise<boolean>;
