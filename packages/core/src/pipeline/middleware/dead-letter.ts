import { waitWithoutProcessor } from '../../consume/processor-release.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError, isGomesError, toError } from '../../errors/gomes-error.js';
import { deadLetterMessage } from '../../message/dead-letter-envelope.js';
import type { Message } from '../../message/message.js';
import type { HandlerMiddleware } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';

/**
 * Options of {@link deadLetter}.
 *
 * @public
 */
export interface DeadLetterOptions {
  /** Publisher channel (resolved through `ctx.channels`) that receives failed messages. */
  readonly channelName: string;
  /** Called once the dead-letter message was published (the original will be acked). */
  readonly onDeadLettered?: (message: Message, error: Error, context: ProcessingContext) => void;
}

/**
 * Publishes messages whose processing failed (after retries) to a dead-letter channel.
 *
 * When the rest of the pipeline throws, it publishes {@link deadLetterMessage} (original payload,
 * original headers prefixed `gomes.original.`, error envelope in `gomes.dlq.*` headers) and — only if
 * that publish resolved — returns normally, so the outer `acknowledge` acks the original. If the
 * channel is unknown or the publish fails it throws `GOMES_DEAD_LETTER_FAILED` (cause: the publish
 * error), so the original is nacked and redelivered: a message is never lost. Unlike Go gomes it
 * does not re-throw the original error after a successful dead-letter, so `stopOnError` does not
 * stop a consumer for a message that was safely parked.
 *
 * Failures caused by an aborted processing signal (shutdown) are re-thrown without dead-lettering:
 * the message was not processed and will be redelivered.
 *
 * On a consumer, the dead-letter publish runs without holding a processor (like the retry waits):
 * the message's key stays blocked and the message is settled only once the publish resolved, while
 * other keys run meanwhile. Awaited with the processor held, each poison record stalled every key
 * of the consumer for a produce round trip (bench row 2d, 1% poison).
 *
 * @example
 * ```ts
 * composeMiddleware([acknowledge(), deadLetter({ channelName: 'orders.dlq' }), retry()], terminal);
 * ```
 * @throws ConfigurationError when `channelName` is empty.
 * @public
 */
export function deadLetter(options: DeadLetterOptions): HandlerMiddleware {
  if (typeof options.channelName !== 'string' || options.channelName === '') {
    throw new ConfigurationError(['channelName must be a non-empty string'], 'dead-letter options');
  }
  const { channelName } = options;
  return (next) => async (message, ctx) => {
    try {
      return await next(message, ctx);
    } catch (thrown) {
      const error = toError(thrown);
      if (ctx.signal.aborted) throw error;
      const now = new Date();
      if (ctx.state.attempts === 0) ctx.state.attempts = 1;
      ctx.state.firstFailureAt ??= now;
      ctx.state.lastFailureAt ??= now;
      ctx.state.lastError ??= error;
      const publisher = ctx.channels.publisher(channelName);
      if (!publisher) {
        throw new GomesError('DEAD_LETTER_FAILED', `Dead-letter channel "${channelName}" does not exist`, {
          cause: error,
          retriable: false,
          details: { channelName, messageId: message.messageId },
        });
      }
      const dlq = deadLetterMessage(message, error, ctx.state, {
        channelName,
        endpointName: ctx.endpointName,
        now,
        ...(ctx.delivery ? { delivery: ctx.delivery } : {}),
      });
      try {
        await waitWithoutProcessor(message, ctx.delivery, async () =>
          publisher.send(dlq, { signal: ctx.signal }),
        );
      } catch (publishError) {
        throw new GomesError(
          'DEAD_LETTER_FAILED',
          `Publishing message ${message.messageId} to dead-letter channel "${channelName}" failed: ${toError(publishError).message}`,
          {
            cause: publishError,
            details: { channelName, messageId: message.messageId, originalError: error.message },
          },
        );
      }
      ctx.logger.warn('Message dead-lettered', {
        deadLetterChannel: channelName,
        deadLetterMessageId: dlq.messageId,
        errorName: error.name,
        errorCode: isGomesError(error) ? error.code : undefined,
        errorMessage: error.message,
        attempts: ctx.state.attempts,
      });
      ctx.state.deadLettered = true;
      options.onDeadLettered?.(message, error, ctx);
      return undefined;
    }
  };
}
