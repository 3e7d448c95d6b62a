import {
  context as otelContext,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
} from '@opentelemetry/api';
import type { Delivery } from '../channel/consumer-channel.js';
import { toError } from '../errors/gomes-error.js';
import type { Message } from '../message/message.js';
import type { GomesTelemetry } from './gomes-telemetry.js';
import { MessagingAttributes as A, MessagingSpanEvents } from './messaging-attributes.js';
import { failSpan, messageAttributes } from './span-helpers.js';
import { extractTraceContext } from './trace-context.js';

/**
 * Request-reply over a channel, requester side: a CLIENT span `request <route>` covering the send
 * (its PRODUCER span is a child) and the wait for the reply. `work` gets an `onReply` callback to
 * hand the reply to: the span records a `gomes.reply_received` event and a link to the reply's
 * context (the responder's reply PRODUCER span, in the same trace).
 *
 * @internal
 */
export async function traceRequest<R>(
  telemetry: GomesTelemetry | undefined,
  message: Message,
  channelName: string,
  work: (onReply: ((reply: Message) => void) | undefined) => Promise<R>,
): Promise<R> {
  if (!telemetry?.tracing) return work(undefined);
  const span = telemetry.tracer.startSpan(`request ${message.route ?? channelName}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      ...messageAttributes(message),
      [A.DESTINATION_NAME]: channelName,
      [A.OPERATION_NAME]: 'request',
    },
  });
  const onReply = (reply: Message): void => {
    const replyContext = trace.getSpanContext(extractTraceContext(reply, ROOT_CONTEXT));
    span.addEvent(MessagingSpanEvents.REPLY_RECEIVED, { [A.MESSAGE_ID]: reply.messageId });
    if (replyContext && isSpanContextValid(replyContext)) span.addLink({ context: replyContext });
  };
  try {
    return await otelContext.with(trace.setSpan(otelContext.active(), span), async () => work(onReply));
  } catch (error) {
    failSpan(span, toError(error));
    throw error;
  } finally {
    span.end();
  }
}

/**
 * A reply consumed by a requester's reply subscription: CONSUMER span `process <reply channel>`,
 * child of the reply's PRODUCER span (from its `traceparent`), so the reply closes the trace.
 *
 * @internal
 */
export async function traceReplyDelivery(
  telemetry: GomesTelemetry | undefined,
  delivery: Delivery,
  system: string,
  work: () => Promise<void>,
): Promise<void> {
  if (!telemetry?.tracing) return work();
  const message = delivery.message;
  const parent = extractTraceContext(message, ROOT_CONTEXT);
  const producer = trace.getSpanContext(parent);
  const attributes: Attributes = {
    ...messageAttributes(message),
    [A.SYSTEM]: system,
    [A.DESTINATION_NAME]: delivery.position.channel,
    [A.OPERATION_NAME]: 'process',
    [A.OPERATION_TYPE]: 'process',
  };
  if (delivery.position.partition !== undefined)
    attributes[A.PARTITION_ID] = String(delivery.position.partition);
  if (delivery.position.group !== undefined) attributes[A.CONSUMER_GROUP] = delivery.position.group;
  const span = telemetry.tracer.startSpan(
    `process ${delivery.position.channel}`,
    {
      kind: SpanKind.CONSUMER,
      attributes,
      links: producer && isSpanContextValid(producer) ? [{ context: producer }] : [],
    },
    parent,
  );
  try {
    await otelContext.with(trace.setSpan(parent, span), work);
  } catch (error) {
    failSpan(span, toError(error));
    throw error;
  } finally {
    span.end();
  }
}
