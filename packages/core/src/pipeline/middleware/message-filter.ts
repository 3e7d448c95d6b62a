import type { Message } from '../../message/message.js';
import type { HandlerMiddleware, MessageFilterFn } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';

/**
 * Options of {@link messageFilter}.
 *
 * @public
 */
export interface MessageFilterOptions {
  /** Called for every message filtered out (to count it). */
  readonly onFiltered?: (message: Message, context: ProcessingContext) => void;
}

/**
 * Message Filter: messages for which `filter` returns `false` are not processed further; the step
 * returns `undefined` (handled, so the consumer acks them). Every drop is logged and reported
 * through `onFiltered` — never silent. A throwing filter fails the message like a handler would.
 *
 * @example
 * ```ts
 * composeMiddleware([messageFilter((m) => m.header('tenant') === 'acme', { onFiltered: () => filtered++ })], terminal);
 * ```
 * @public
 */
export function messageFilter(
  filter: MessageFilterFn,
  options: MessageFilterOptions = {},
): HandlerMiddleware {
  return (next) => async (message, ctx) => {
    if (await filter(message)) return next(message, ctx);
    ctx.logger.info('Message filtered out; it counts as handled', { route: message.route });
    options.onFiltered?.(message, ctx);
    return undefined;
  };
}
