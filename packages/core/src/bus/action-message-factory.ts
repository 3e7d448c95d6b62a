import { newMessageId, MessageBuilder } from '../message/message-builder.js';
import { PARTITION_KEY_HEADER } from '../message/message-headers.js';
import type { Message } from '../message/message.js';
import { ReplyHeaders } from '../pipeline/middleware/send-reply.js';
import { messageTypeOf, type ActionDescriptor } from '../actions/action.js';
import type { SendActionOptions } from './send-action-options.js';

/**
 * Builds the message for an action: route = action name, messageType from its kind, a fresh
 * correlationId unless given, custom headers and the partition key; with `replyTo`, the requester's
 * instance id (header `gomes.reply.instance`, set after the custom headers so they cannot replace it).
 *
 * @internal
 */
export function buildActionMessage(
  payload: unknown,
  descriptor: Pick<ActionDescriptor, 'kind' | 'name' | 'version'>,
  options: SendActionOptions,
  channelName: string | undefined,
  replyTo: string | undefined,
  replyInstanceId?: string,
): Message {
  const builder = MessageBuilder.withPayload(payload)
    .messageType(messageTypeOf(descriptor.kind))
    .route(descriptor.name)
    .correlationId(options.correlationId ?? newMessageId());
  if (descriptor.version !== undefined) builder.version(descriptor.version);
  if (options.causationId !== undefined) builder.causationId(options.causationId);
  if (channelName !== undefined) builder.channelName(channelName);
  if (replyTo !== undefined) builder.replyTo(replyTo);
  if (options.headers) builder.headers(options.headers);
  if (options.partitionKey !== undefined) builder.header(PARTITION_KEY_HEADER, options.partitionKey);
  if (replyTo !== undefined && replyInstanceId !== undefined)
    builder.header(ReplyHeaders.INSTANCE, replyInstanceId);
  return builder.build();
}
