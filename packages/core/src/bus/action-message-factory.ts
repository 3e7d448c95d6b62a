import { GomesError } from '../errors/gomes-error.js';
import { newMessageId, MessageBuilder } from '../message/message-builder.js';
import { PARTITION_KEY_HEADER, SUBJECT_HEADER } from '../message/message-headers.js';
import type { Message } from '../message/message.js';
import { ReplyHeaders } from '../pipeline/middleware/send-reply.js';
import { messageTypeOf, type ActionDescriptor } from '../actions/action.js';
import type { SendActionOptions } from './send-action-options.js';

/**
 * Builds the message for an action: route = action name, messageType from its kind, a fresh
 * correlationId unless given, `origin` (the option, else `defaultOrigin`), the subject (the option,
 * else the descriptor's `subject` function), custom headers and the partition key; with `replyTo`,
 * the requester's instance id (header `gomes.reply.instance`, set after the custom headers so they
 * cannot replace it).
 *
 * @throws GomesError `GOMES_INVALID_HEADER` for an empty `origin` or `subject` option, or a subject
 * function that returns something else than a string or `undefined`.
 * @internal
 */
export function buildActionMessage(
  payload: unknown,
  descriptor: Pick<ActionDescriptor, 'kind' | 'name' | 'version' | 'subject'>,
  options: SendActionOptions,
  channelName: string | undefined,
  replyTo: string | undefined,
  replyInstanceId?: string,
  defaultOrigin?: string,
): Message {
  const builder = MessageBuilder.withPayload(payload)
    .messageType(messageTypeOf(descriptor.kind))
    .route(descriptor.name)
    .correlationId(options.correlationId ?? newMessageId());
  if (descriptor.version !== undefined) builder.version(descriptor.version);
  if (options.causationId !== undefined) builder.causationId(options.causationId);
  const origin = options.origin ?? defaultOrigin;
  if (origin !== undefined) builder.origin(nonEmpty('origin', origin, descriptor.name));
  const subject = options.subject ?? subjectOf(descriptor, payload);
  if (subject !== undefined) builder.header(SUBJECT_HEADER, nonEmpty('subject', subject, descriptor.name));
  if (channelName !== undefined) builder.channelName(channelName);
  if (replyTo !== undefined) builder.replyTo(replyTo);
  if (options.headers) builder.headers(options.headers);
  if (options.partitionKey !== undefined) builder.header(PARTITION_KEY_HEADER, options.partitionKey);
  if (replyTo !== undefined && replyInstanceId !== undefined)
    builder.header(ReplyHeaders.INSTANCE, replyInstanceId);
  return builder.build();
}

/** The subject the descriptor's function derives from `payload` (`''` counts as none). */
function subjectOf(
  descriptor: Pick<ActionDescriptor, 'name' | 'subject'>,
  payload: unknown,
): string | undefined {
  if (descriptor.subject === undefined) return undefined;
  const subject: unknown = descriptor.subject(payload as never);
  if (subject === undefined || subject === '') return undefined;
  if (typeof subject !== 'string') {
    throw new GomesError(
      'INVALID_HEADER',
      `The subject function of "${descriptor.name}" returned ${typeof subject}; it must return a string or undefined`,
      { details: { route: descriptor.name } },
    );
  }
  return subject;
}

function nonEmpty(option: 'origin' | 'subject', value: string, route: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new GomesError('INVALID_HEADER', `The ${option} of "${route}" must be a non-empty string`, {
      details: { route, [option]: value },
    });
  }
  return value;
}
