import { GomesError, isGomesError, toError } from '../../errors/gomes-error.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { HandlerMiddleware, MessageHandlerFn } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';

/**
 * Header names written on replies by {@link sendReply}.
 *
 * @public
 */
export const ReplyHeaders = {
  /** `'true'` on an error reply; its payload is an {@link ErrorReplyPayload}. */
  ERROR: 'gomes.reply.error',
  /**
   * Id of the gomes instance that waits for the reply: stamped on requests sent through a channel
   * with a reply channel, copied from the request to its reply by {@link sendReply}. A requester's
   * reply consumer drops (and counts) replies naming another instance.
   */
  INSTANCE: 'gomes.reply.instance',
} as const;

/** Payload of an error reply. @public */
export interface ErrorReplyPayload {
  /** The handler's failure. */
  readonly error: { readonly name: string; readonly code: string | undefined; readonly message: string };
}

/**
 * Options of {@link sendReply}.
 *
 * @public
 */
export interface SendReplyOptions {
  /** Called when a reply could not be delivered because its `replyTo` channel does not exist. */
  readonly onReplyDropped?: (message: Message, replyTo: string, context: ProcessingContext) => void;
}

/**
 * Request-Reply, consumer side: after the rest of the pipeline succeeded and the message has a
 * `replyTo` header, publishes the result to that channel (via `ctx.channels`).
 *
 * The reply is a new message: payload = the result's payload; `correlationId` = the request's (or
 * its `messageId` when it has none); `causationId` = the request's `messageId`; `messageType`
 * `Document`; `channelName` = `replyTo`; no `route`; the request's `gomes.reply.instance` header
 * ({@link ReplyHeaders}.INSTANCE), when it has one, so the reply reaches the instance that asked.
 *
 * - No `replyTo`, or no result (filtered): nothing is sent and the message succeeds (Go gomes failed
 *   a processed message here).
 * - Unknown `replyTo` channel: logged as an error and reported through `onReplyDropped`; the message
 *   still succeeds, since processing it again cannot help.
 * - Reply send failure: throws (`GOMES_PUBLISH_FAILED` unless the publisher threw a `GomesError`).
 *   In the consumer pipeline `retry` sits *inside* this step, so the failed reply send is not
 *   retried here and the handler does not run again at once: the request fails as a whole — with a
 *   dead-letter channel it is dead-lettered (then acked; the requester gets no reply and times out),
 *   without one it is nacked and redelivered, and the redelivery runs the handler again and sends a
 *   new reply. Handlers must therefore be idempotent.
 * - Handler failure: an error reply (header `gomes.reply.error: 'true'`, payload
 *   `{ error: { name, code, message } }`) is sent, then the error is re-thrown. Not when the
 *   processing signal was aborted (shutdown): the request will be redelivered.
 *
 * @example
 * ```ts
 * composeMiddleware([acknowledge(), sendReply(), retry()], terminal);
 * ```
 * @public
 */
export function sendReply(options: SendReplyOptions = {}): HandlerMiddleware {
  return (next) => {
    const withReply = replying(next, options);
    // Not `async`: one promise per message instead of an async step's.
    // eslint-disable-next-line @typescript-eslint/promise-function-async
    return (message, ctx) => {
      if (message.replyTo) return withReply(message, ctx);
      // Nothing to reply (result or error): `next`'s outcome, a failure as an Error, with one
      // promise instead of an async step's.
      try {
        return Promise.resolve(next(message, ctx)).then(undefined, rethrowAsError);
      } catch (thrown) {
        return Promise.reject(toError(thrown));
      }
    };
  };
}

const rethrowAsError = (thrown: unknown): never => {
  throw toError(thrown);
};

/** The step for a request with a `replyTo`. */
function replying(next: MessageHandlerFn, options: SendReplyOptions): MessageHandlerFn {
  return async (message, ctx) => {
    let result: Message | undefined;
    try {
      result = await next(message, ctx);
    } catch (thrown) {
      const error = toError(thrown);
      const replyTo = message.replyTo;
      if (replyTo && !ctx.signal.aborted) await sendErrorReply(message, error, replyTo, ctx, options);
      throw error;
    }
    const replyTo = message.replyTo;
    if (!replyTo) return result;
    if (result === undefined) {
      ctx.logger.debug('No result to reply with', { replyTo });
      return result;
    }
    await publishReply(message, replyBuilder(message, replyTo).payload(result.payload).build(), ctx, options);
    return result;
  };
}

function replyBuilder(request: Message, replyTo: string): MessageBuilder {
  const builder = MessageBuilder.withPayload<unknown>(undefined)
    .messageType('Document')
    .channelName(replyTo)
    .correlationId(request.correlationId ?? request.messageId)
    .causationId(request.messageId);
  const instance = request.header(ReplyHeaders.INSTANCE);
  if (instance !== undefined) builder.header(ReplyHeaders.INSTANCE, instance);
  return builder;
}

async function sendErrorReply(
  request: Message,
  error: Error,
  replyTo: string,
  ctx: ProcessingContext,
  options: SendReplyOptions,
): Promise<void> {
  const payload: ErrorReplyPayload = {
    error: { name: error.name, code: isGomesError(error) ? error.code : undefined, message: error.message },
  };
  const reply = replyBuilder(request, replyTo).payload(payload).header(ReplyHeaders.ERROR, 'true').build();
  try {
    await publishReply(request, reply, ctx, options);
  } catch (sendError) {
    ctx.logger.error('Sending the error reply failed', { replyTo, errorMessage: toError(sendError).message });
  }
}

async function publishReply(
  request: Message,
  reply: Message,
  ctx: ProcessingContext,
  options: SendReplyOptions,
): Promise<void> {
  const replyTo = reply.channelName ?? '';
  const publisher = ctx.channels.publisher(replyTo);
  if (!publisher) {
    ctx.logger.error('Reply dropped: the replyTo channel does not exist', { replyTo });
    options.onReplyDropped?.(request, replyTo, ctx);
    return;
  }
  try {
    await publisher.send(reply, { signal: ctx.signal });
  } catch (error) {
    if (isGomesError(error)) throw error;
    throw new GomesError(
      'PUBLISH_FAILED',
      `Sending the reply to "${replyTo}" failed: ${toError(error).message}`,
      {
        cause: error,
        details: { replyTo, messageId: request.messageId },
      },
    );
  }
  ctx.logger.debug('Reply sent', { replyTo, replyMessageId: reply.messageId });
}
