import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError } from '../../errors/gomes-error.js';
import type { Message } from '../../message/message.js';
import type { HandlerMiddleware } from '../message-handler.js';
import { forwardToChannels } from './forward-to-channel.js';

/**
 * Options of {@link recipientListRouter}.
 *
 * @public
 */
export interface RecipientListRouterOptions {
  /**
   * After forwarding, also run the rest of the pipeline (and return its result). When `false` the
   * router is terminal and returns `undefined`.
   * @default false
   */
  readonly continue?: boolean;
}

/** Picks the recipient channels of one message. @public */
export type RecipientSelector = (message: Message) => readonly string[] | Promise<readonly string[]>;

/**
 * Recipient List: publishes the message to every named publisher channel (resolved through
 * `ctx.channels`), in order, keeping its `messageId` and setting `channelName` to each target.
 *
 * - Every channel is looked up before anything is sent; an unknown one fails the message with a
 *   non-retriable `GOMES_NOT_FOUND`.
 * - A send failure fails the message (unlike Go gomes, which ignored it); retry/dead-letter then
 *   apply, so recipients already served may get the message again (at-least-once).
 * - An empty recipient list fails the message with `GOMES_NOT_FOUND` unless `continue` is set —
 *   a message is never dropped silently.
 *
 * @example
 * ```ts
 * recipientListRouter(['audit', 'billing']);
 * recipientListRouter((m) => [m.header('region') === 'eu' ? 'orders.eu' : 'orders.us'], { continue: true });
 * ```
 * @throws ConfigurationError when a static list is empty or holds an empty name.
 * @public
 */
export function recipientListRouter(
  recipients: readonly string[] | RecipientSelector,
  options: RecipientListRouterOptions = {},
): HandlerMiddleware {
  const continueAfter = options.continue ?? false;
  if (typeof recipients !== 'function') {
    const problems: string[] = [];
    if (recipients.length === 0 && !continueAfter) problems.push('the recipient list must not be empty');
    if (recipients.some((r) => typeof r !== 'string' || r === ''))
      problems.push('recipient names must be non-empty strings');
    ConfigurationError.throwIfAny(problems, 'recipient list router');
  }
  const staticList = typeof recipients === 'function' ? undefined : [...recipients];
  return (next) => async (message, ctx) => {
    const list = staticList ?? (await (recipients as RecipientSelector)(message));
    if (list.length === 0 && !continueAfter) {
      throw new GomesError('NOT_FOUND', `No recipient for message ${message.messageId}`, {
        details: { messageId: message.messageId, route: message.route },
      });
    }
    await forwardToChannels(list, message, ctx);
    return continueAfter ? next(message, ctx) : undefined;
  };
}
