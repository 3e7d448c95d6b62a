import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { isGomesError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import { MessagingAttributes as A, GOMES_MESSAGING_SYSTEM } from './messaging-attributes.js';

/** `messaging.system` of a connection: its `transport` id when it has one (`kafka`, `gomes:in-memory`). @internal */
export function messagingSystemOf(connection: unknown): string {
  const transport = (connection as { transport?: unknown } | undefined)?.transport;
  return typeof transport === 'string' && transport !== '' ? transport : GOMES_MESSAGING_SYSTEM;
}

/** `error.type` of an error: its gomes `code`, else its `name`. @internal */
export function errorTypeOf(error: Error): string {
  return isGomesError(error) ? error.code : error.name || 'Error';
}

/** Span attributes describing `message` (ids, route, type). @internal */
export function messageAttributes(message: Message): Attributes {
  const attributes: Attributes = {
    [A.MESSAGE_ID]: message.messageId,
    [A.GOMES_MESSAGE_TYPE]: message.messageType,
  };
  if (message.correlationId !== undefined) attributes[A.CONVERSATION_ID] = message.correlationId;
  if (message.causationId !== undefined) attributes[A.GOMES_CAUSATION_ID] = message.causationId;
  if (message.route !== undefined) attributes[A.GOMES_ROUTE] = message.route;
  return attributes;
}

/** Marks `span` failed with `error` (status ERROR, `error.type`, an exception event). @internal */
export function failSpan(span: Span, error: Error): void {
  span.recordException(error);
  span.setAttribute(A.ERROR_TYPE, errorTypeOf(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/** Correlated loggers → the logger they were derived from, so nested spans re-bind instead of stacking. */
const uncorrelated = new WeakMap<Logger, Logger>();

/**
 * A child of `logger` carrying the `traceId` and `spanId` of `span` (log correlation). When `logger`
 * is itself correlated, the child is made from its parent, so each line has one `spanId`.
 *
 * @internal
 */
export function correlatedLogger(logger: Logger, span: Span): Logger {
  const base = uncorrelated.get(logger) ?? logger;
  const { traceId, spanId } = span.spanContext();
  const child = base.child({ traceId, spanId });
  uncorrelated.set(child, base);
  return child;
}
