import type { Logger } from '../logging/logger.js';
import type { HeaderValues, Message } from '../message/message.js';

/**
 * What a handler receives next to its typed payload.
 *
 * @public
 */
export interface HandlerContext {
  /** The whole message (payload as received, headers). */
  readonly message: Message;
  /** The message headers. */
  readonly headers: HeaderValues;
  /** Aborted on processing timeout and on shutdown: pass it to your I/O. */
  readonly signal: AbortSignal;
  /** Logger bound to the message (messageId, correlationId, route). */
  readonly logger: Logger;
  /** Shortcut for `message.messageId`. */
  readonly messageId: string;
  /** Shortcut for `message.correlationId`. */
  readonly correlationId: string | undefined;
  /** Execution number within this delivery's retries: 1 on the first try, 2 on the first retry, … */
  readonly attempt: number;
  /** How many times the transport has delivered this message (1 on first delivery, when it can tell). */
  readonly deliveryAttempt: number;
}
