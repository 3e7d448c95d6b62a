import {
  context as otelContext,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { toError } from '../errors/gomes-error.js';
import type { Message } from '../message/message.js';
import type { HandlerMiddleware } from '../pipeline/message-handler.js';
import type { ProcessingContext, ProcessingState } from '../pipeline/processing-context.js';
import type { GomesTelemetry } from './gomes-telemetry.js';
import { MessagingAttributes as A, MessagingSpanEvents } from './messaging-attributes.js';
import type { PipelineObservability } from './pipeline-observability.js';
import { correlatedLogger, errorTypeOf, failSpan, messageAttributes } from './span-helpers.js';
import { extractTraceContext } from './trace-context.js';

/** Which consumer a {@link consumerObservability} instruments. @internal */
export interface ConsumerObservabilityTarget {
  /** Consumer endpoint name. */
  readonly endpoint: string;
  /** Channel (topic) consumed. */
  readonly channelName: string;
  /** `messaging.system` of its connection. */
  readonly system: string;
}

/** A state object with a consumer's run slot (keyed by that consumer's own symbol). */
type RunSlot = ProcessingState & Record<symbol, Run | undefined>;

interface Run {
  readonly attributes: Attributes;
  span: Span | undefined;
  deadLetterError: Error | undefined;
  filtered: boolean;
  duplicate: boolean;
}

/**
 * Observability of one consumer: a middleware run outermost around the whole pipeline of a
 * delivery, plus hooks for retries, dead letters, filtered messages and duplicates.
 *
 * - Metrics (always): consumed, succeeded / failed / dead-lettered, retried, processing duration,
 *   in-flight.
 * - Tracing (when on): a CONSUMER span `process <channel>` whose parent is the producer context
 *   carried in the message's `traceparent` header, with a link to it as well (the semantic
 *   conventions allow either; gomes hands over one message at a time, so the parent keeps
 *   producer → consumer → handler in one trace and the link keeps backends that follow links happy).
 *   Retries are `gomes.retry` span events, a dead letter a `gomes.dead_lettered` event. The span is
 *   the active context of the run, so replies and dead letters are its children; the run's logger
 *   carries its `traceId` and `spanId`.
 *
 * @internal
 */
export function consumerObservability(
  telemetry: GomesTelemetry,
  target: ConsumerObservabilityTarget,
): PipelineObservability {
  // The run in progress of a delivery, in a slot of its state object (cleared when the run
  // finishes): no map entry set and deleted per message (the consume profile showed the map's
  // churn). The slot is this consumer's own symbol.
  const RUN = Symbol('gomes.observedRun');
  const runOf = (state: ProcessingState): Run | undefined => (state as RunSlot)[RUN];
  const { endpoint } = target;
  const attributesOf = metricAttributesCache(target);

  const middleware: HandlerMiddleware = (next) => async (message, ctx) => {
    const attributes = attributesOf(ctx);
    const run: Run = {
      attributes,
      span: undefined,
      deadLetterError: undefined,
      filtered: false,
      duplicate: false,
    };
    (ctx.state as RunSlot)[RUN] = run;
    telemetry.metrics.processStarted(endpoint, attributes);
    const started = performance.now();
    let failure: Error | undefined;
    try {
      if (!telemetry.tracing) return await next(message, ctx);
      const span = startProcessSpan(telemetry, target, message, ctx);
      run.span = span;
      const active = trace.setSpan(extractTraceContext(message, ROOT_CONTEXT), span);
      const traced: ProcessingContext = { ...ctx, logger: correlatedLogger(ctx.logger, span) };
      return await otelContext.with(active, async () => next(message, traced));
    } catch (thrown) {
      failure = toError(thrown);
      throw thrown;
    } finally {
      (ctx.state as RunSlot)[RUN] = undefined;
      finish(telemetry, run, ctx, started, failure, endpoint);
    }
  };

  return {
    middleware,
    hooks: {
      onRetry: (_message, error, retry, delayMs, ctx) => {
        const run = runOf(ctx.state);
        telemetry.metrics.recordRetry(run?.attributes ?? metricAttributes(target, ctx), errorTypeOf(error));
        run?.span?.addEvent(MessagingSpanEvents.RETRY, {
          'gomes.retry.attempt': retry,
          'gomes.retry.delay_ms': delayMs,
          [A.ERROR_TYPE]: errorTypeOf(error),
          'exception.message': error.message,
        });
      },
      onDeadLettered: (_message, error, ctx) => {
        const run = runOf(ctx.state);
        if (!run) return;
        run.deadLetterError = error;
        run.span?.addEvent(MessagingSpanEvents.DEAD_LETTERED, {
          [A.ERROR_TYPE]: errorTypeOf(error),
          'exception.message': error.message,
          [A.GOMES_ATTEMPTS]: ctx.state.attempts,
        });
      },
      onFiltered: (_message, ctx) => {
        const run = runOf(ctx.state);
        if (run) run.filtered = true;
      },
      onDuplicate: (_message, key, ctx) => {
        const run = runOf(ctx.state);
        telemetry.metrics.recordDuplicate(run?.attributes ?? metricAttributes(target, ctx));
        if (!run) return;
        run.duplicate = true;
        run.span?.addEvent(MessagingSpanEvents.DUPLICATE, { [A.GOMES_IDEMPOTENCY_KEY]: key });
      },
    },
  };
}

/**
 * {@link metricAttributes}, reusing the object of the latest (channel, group): every delivery of a
 * consumer usually has the same ones. The objects are never modified after creation.
 */
function metricAttributesCache(target: ConsumerObservabilityTarget): (ctx: ProcessingContext) => Attributes {
  let lastChannel: string | undefined;
  let lastGroup: string | undefined;
  let last: Attributes | undefined;
  return (ctx) => {
    const position = ctx.delivery?.position;
    const channel = position?.channel;
    const group = position?.group;
    if (last !== undefined && channel === lastChannel && group === lastGroup) return last;
    last = metricAttributes(target, ctx);
    lastChannel = channel;
    lastGroup = group;
    return last;
  };
}

function metricAttributes(target: ConsumerObservabilityTarget, ctx: ProcessingContext): Attributes {
  const position = ctx.delivery?.position;
  const attributes: Attributes = {
    [A.SYSTEM]: target.system,
    [A.DESTINATION_NAME]: position?.channel ?? target.channelName,
    [A.OPERATION_NAME]: 'process',
    [A.GOMES_ENDPOINT]: target.endpoint,
  };
  if (position?.group !== undefined) attributes[A.CONSUMER_GROUP] = position.group;
  return attributes;
}

function startProcessSpan(
  telemetry: GomesTelemetry,
  target: ConsumerObservabilityTarget,
  message: Message,
  ctx: ProcessingContext,
): Span {
  const parent = extractTraceContext(message, ROOT_CONTEXT);
  const producer = trace.getSpanContext(parent);
  const links: Link[] = producer && isSpanContextValid(producer) ? [{ context: producer }] : [];
  const delivery = ctx.delivery;
  const destination = delivery?.position.channel ?? target.channelName;
  const attributes: Attributes = {
    ...messageAttributes(message),
    [A.SYSTEM]: target.system,
    [A.DESTINATION_NAME]: destination,
    [A.OPERATION_NAME]: 'process',
    [A.OPERATION_TYPE]: 'process',
    [A.GOMES_ENDPOINT]: target.endpoint,
  };
  if (delivery) {
    const { partition, offset, group } = delivery.position;
    if (partition !== undefined) attributes[A.PARTITION_ID] = String(partition);
    if (group !== undefined) attributes[A.CONSUMER_GROUP] = group;
    attributes[A.GOMES_DELIVERY_ATTEMPT] = delivery.deliveryAttempt;
    if (target.system === 'kafka') {
      attributes[A.KAFKA_MESSAGE_KEY] = delivery.key;
      if (offset !== undefined) attributes[A.KAFKA_OFFSET] = Number(offset);
    }
  }
  return telemetry.tracer.startSpan(
    `process ${destination}`,
    { kind: SpanKind.CONSUMER, attributes, links },
    parent,
  );
}

function finish(
  telemetry: GomesTelemetry,
  run: Run,
  ctx: ProcessingContext,
  started: number,
  failure: Error | undefined,
  endpoint: string,
): void {
  const seconds = (performance.now() - started) / 1000;
  const deadLettered = failure === undefined && run.deadLetterError !== undefined;
  const outcome = failure ? 'failed' : deadLettered ? 'deadLettered' : 'succeeded';
  const error = failure ?? run.deadLetterError;
  telemetry.metrics.processFinished(
    endpoint,
    run.attributes,
    seconds,
    outcome,
    error ? errorTypeOf(error) : undefined,
  );
  const span = run.span;
  if (!span) return;
  span.setAttribute(A.GOMES_ATTEMPTS, ctx.state.attempts);
  span.setAttribute(
    A.GOMES_OUTCOME,
    failure
      ? 'failed'
      : deadLettered
        ? 'dead_lettered'
        : run.filtered
          ? 'filtered'
          : run.duplicate
            ? 'duplicate'
            : 'success',
  );
  if (failure) failSpan(span, failure);
  else if (deadLettered) {
    span.setAttribute(A.ERROR_TYPE, errorTypeOf(run.deadLetterError!));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `dead-lettered: ${run.deadLetterError!.message}` });
  }
  span.end();
}
