import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError } from '../../errors/gomes-error.js';
import type { Message } from '../../message/message.js';
import type { HandlerMiddleware } from '../message-handler.js';
import { forwardToChannels } from './forward-to-channel.js';

/**
 * Options of {@link contentBasedRouter}.
 *
 * @public
 */
export interface ContentBasedRouterOptions {
  /** Channel used when `select` returns `undefined` or `''`. */
  readonly fallback?: string;
}

/** Picks the one channel a message goes to, or `undefined` for none. @public */
export type ChannelSelector = (message: Message) => string | undefined | Promise<string | undefined>;

/**
 * Content-Based Router: sends each message to the one publisher channel `select` picks (or
 * `fallback`), keeping its `messageId`. It is terminal: it returns `undefined` and never calls the
 * rest of the pipeline.
 *
 * No match and no fallback, or an unknown channel, fail the message with a non-retriable
 * `GOMES_NOT_FOUND` (so it is dead-lettered when a dead-letter channel is configured).
 *
 * @example
 * ```ts
 * contentBasedRouter((m) => ((m.payload as Order).total > 1000 ? 'orders.review' : 'orders.auto'), { fallback: 'orders.unknown' });
 * ```
 * @throws ConfigurationError when `fallback` is an empty string.
 * @public
 */
export function contentBasedRouter(
  select: ChannelSelector,
  options: ContentBasedRouterOptions = {},
): HandlerMiddleware {
  if (options.fallback === '') {
    throw new ConfigurationError(
      ['fallback must be a non-empty channel name when set'],
      'content-based router',
    );
  }
  return () => async (message, ctx) => {
    const selected = await select(message);
    const target = selected === undefined || selected === '' ? options.fallback : selected;
    if (target === undefined) {
      throw new GomesError(
        'NOT_FOUND',
        `No channel matches message ${message.messageId} and there is no fallback`,
        {
          details: { messageId: message.messageId, route: message.route },
        },
      );
    }
    await forwardToChannels([target], message, ctx);
    return undefined;
  };
}
