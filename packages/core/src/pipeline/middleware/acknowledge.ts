import { ConfigurationError } from '../../errors/configuration-error.js';
import { isGomesError, toError } from '../../errors/gomes-error.js';
import type { Message } from '../../message/message.js';
import type { HandlerMiddleware } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';

/**
 * Options of {@link acknowledge}.
 *
 * @public
 */
export interface AcknowledgeOptions {
  /**
   * How long the transport waits before redelivering a failed message, in ms; a function may pick
   * it per error. Messages failed because processing was aborted (shutdown) are nacked with 0.
   * @default 1000
   */
  readonly nackDelayMs?: number | ((error: Error, context: ProcessingContext) => number);
  /** Called after a successful `ack()`. */
  readonly onAcked?: (message: Message, context: ProcessingContext) => void;
  /** Called after a `nack()` (the message will be redelivered). */
  readonly onNacked?: (message: Message, error: Error, context: ProcessingContext) => void;
}

/** Defaults of {@link AcknowledgeOptions}. @public */
export const DEFAULT_ACKNOWLEDGE_OPTIONS: Readonly<Required<Pick<AcknowledgeOptions, 'nackDelayMs'>>> =
  Object.freeze({
    nackDelayMs: 1000,
  });

/**
 * Settles the delivery of the message: `ack()` after the rest of the pipeline succeeded, `nack()`
 * when it threw — the message is redelivered, never acked on failure (unlike Go gomes, which always
 * committed). The failure is logged with its code and re-thrown, so the consumer can apply its
 * `stopOnError` rule. Without a delivery on the context (bus calls) it passes through.
 *
 * Put it outermost: only then are dead-lettered messages acked and dead-letter failures nacked.
 *
 * @example
 * ```ts
 * const handler = composeMiddleware([acknowledge({ nackDelayMs: 500 }), deadLetter({ channelName: 'dlq' })], terminal);
 * ```
 * @throws ConfigurationError when `nackDelayMs` is not an integer >= 0.
 * @public
 */
export function acknowledge(options: AcknowledgeOptions = {}): HandlerMiddleware {
  const nackDelay = options.nackDelayMs ?? DEFAULT_ACKNOWLEDGE_OPTIONS.nackDelayMs;
  if (typeof nackDelay === 'number' && (!Number.isInteger(nackDelay) || nackDelay < 0)) {
    throw new ConfigurationError(
      [`nackDelayMs must be an integer >= 0 (got ${nackDelay})`],
      'acknowledge options',
    );
  }
  return (next) => async (message, ctx) => {
    const delivery = ctx.delivery;
    if (!delivery) return next(message, ctx);
    let result: Message | undefined;
    try {
      result = await next(message, ctx);
    } catch (thrown) {
      const error = toError(thrown);
      const delayMs = ctx.signal.aborted
        ? 0
        : typeof nackDelay === 'number'
          ? nackDelay
          : nackDelay(error, ctx);
      ctx.logger.error('Message processing failed; nacking it for redelivery', {
        errorName: error.name,
        errorCode: isGomesError(error) ? error.code : undefined,
        errorMessage: error.message,
        attempts: ctx.state.attempts,
        deliveryAttempt: delivery.deliveryAttempt,
        nackDelayMs: delayMs,
      });
      try {
        await delivery.nack({ delayMs });
        options.onNacked?.(message, error, ctx);
      } catch (nackError) {
        ctx.logger.error('Nack failed; the transport redelivers unacked messages on its own', {
          errorMessage: toError(nackError).message,
        });
      }
      throw error;
    }
    await delivery.ack();
    options.onAcked?.(message, ctx);
    return result;
  };
}
