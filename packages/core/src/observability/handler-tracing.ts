import { context as otelContext, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import type { GomesTelemetry } from './gomes-telemetry.js';
import { MessagingAttributes as A } from './messaging-attributes.js';
import { correlatedLogger, failSpan, messageAttributes } from './span-helpers.js';

/**
 * Runs `work` in an INTERNAL span of the active context, with a logger carrying the span's ids.
 * Without tracing (or telemetry) it just runs `work(logger)`.
 */
async function inSpan<R>(
  telemetry: GomesTelemetry | undefined,
  name: string,
  attributes: Attributes,
  logger: Logger,
  work: (logger: Logger) => Promise<R>,
): Promise<R> {
  if (!telemetry?.tracing) return work(logger);
  const span = telemetry.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes });
  const ctx = trace.setSpan(otelContext.active(), span);
  try {
    return await otelContext.with(ctx, async () => work(correlatedLogger(logger, span)));
  } catch (error) {
    failSpan(span, toError(error));
    throw error;
  } finally {
    span.end();
  }
}

/**
 * A handler call: span `handle <route>` (INTERNAL, child of the process or dispatch span) with
 * `gomes.handler.name`; a failure marks it ERROR.
 *
 * @internal
 */
export async function traceHandler<R>(
  telemetry: GomesTelemetry | undefined,
  handlerName: string,
  message: Message,
  logger: Logger,
  work: (logger: Logger) => Promise<R>,
): Promise<R> {
  if (!telemetry?.tracing) return work(logger);
  const attributes = { ...messageAttributes(message), [A.GOMES_HANDLER]: handlerName };
  return inSpan(telemetry, `handle ${message.route ?? 'message'}`, attributes, logger, work);
}

/**
 * An in-process bus dispatch: span `dispatch <route>` (INTERNAL, child of the caller's context),
 * parent of the handler spans.
 *
 * @internal
 */
export async function traceDispatch<R>(
  telemetry: GomesTelemetry | undefined,
  endpointName: string,
  message: Message,
  logger: Logger,
  work: (logger: Logger) => Promise<R>,
): Promise<R> {
  if (!telemetry?.tracing) return work(logger);
  const attributes = {
    ...messageAttributes(message),
    [A.GOMES_ENDPOINT]: endpointName,
    [A.OPERATION_NAME]: 'dispatch',
  };
  return inSpan(telemetry, `dispatch ${message.route ?? 'message'}`, attributes, logger, work);
}
