import type { ConsumerEndpointOptions } from '../channel/channel-builders.js';
import type { Message } from '../message/message.js';
import { mergeHooks, type PipelineObservability } from '../observability/pipeline-observability.js';
import { composeMiddleware, type HandlerMiddleware, type MessageHandlerFn } from './message-handler.js';
import { acknowledge } from './middleware/acknowledge.js';
import { deadLetter } from './middleware/dead-letter.js';
import { idempotentConsumer } from './middleware/idempotent-consumer.js';
import { afterInterceptors, beforeInterceptors } from './middleware/interceptors.js';
import { messageFilter } from './middleware/message-filter.js';
import { processingTimeout } from './middleware/processing-timeout.js';
import { retry, type RetryHooks } from './middleware/retry.js';
import { sendReply } from './middleware/send-reply.js';
import type { ProcessingContext } from './processing-context.js';

/**
 * Counting hooks of a consumer pipeline. Each is called once per event, with the message and its
 * context (`ctx.state` is per delivery, so it can key per-message bookkeeping).
 *
 * @public
 */
export interface ConsumerPipelineHooks {
  /** The delivery was acked. */
  readonly onAcked?: (message: Message, context: ProcessingContext) => void;
  /** The delivery was nacked (will be redelivered). */
  readonly onNacked?: (message: Message, error: Error, context: ProcessingContext) => void;
  /** A failed attempt is about to be retried. */
  readonly onRetry?: (
    message: Message,
    error: Error,
    retry: number,
    delayMs: number,
    context: ProcessingContext,
  ) => void;
  /** The message was published to the dead-letter channel (it will be acked). */
  readonly onDeadLettered?: (message: Message, error: Error, context: ProcessingContext) => void;
  /** The message was dropped by the filter or a before-interceptor (it will be acked). */
  readonly onFiltered?: (message: Message, context: ProcessingContext) => void;
  /** A reply was dropped because its `replyTo` channel does not exist. */
  readonly onReplyDropped?: (message: Message, replyTo: string, context: ProcessingContext) => void;
  /** An idempotent consumer skipped a message whose key was already processed (it will be acked). */
  readonly onDuplicate?: (message: Message, key: string, context: ProcessingContext) => void;
  /** A timed-out (or aborted) attempt settled `lateMs` after it was given up (see `processingTimeout`). */
  readonly onStaleAttemptSettled?: (message: Message, lateMs: number, context: ProcessingContext) => void;
}

/**
 * Input of {@link consumerPipeline}.
 *
 * @public
 */
export interface ConsumerPipelineOptions {
  /** Endpoint options of the consumer (dead letter, retry, interceptors, filter, middleware, replies). */
  readonly endpointOptions: ConsumerEndpointOptions;
  /** Bound of each handler attempt in ms; 0 = none. */
  readonly processingTimeoutMs: number;
  /** The terminal handler (dispatch to the action handler). */
  readonly handler: MessageHandlerFn;
  /** Delay before a nacked message is redelivered, in ms. @default 1000 */
  readonly nackDelayMs?: number;
  /** Counting hooks. */
  readonly hooks?: ConsumerPipelineHooks;
  /** Random source and sleep for the retry step (tests). */
  readonly retryHooks?: Pick<RetryHooks, 'random' | 'sleep'>;
  /** Tracing and metrics: a middleware run outermost (step 0) and extra hooks. */
  readonly observability?: PipelineObservability;
  /**
   * The caller settles the delivery from the pipeline's outcome (the event-driven consumer's settle
   * point): no `acknowledge` step. @default false
   */
  readonly settledByCaller?: boolean;
}

/**
 * Composes the standard consumer pipeline around `handler`. Outermost first:
 *
 * 0. the `observability` middleware, when given (process span, metrics);
 * 1. `acknowledge` — ack on success, nack (redeliver) on failure, never ack a failure;
 *    1b. `idempotentConsumer` (when `idempotency` is set) — skip (ack) a message whose key was
 *    processed; claim the key for everything below, mark it done on success, release it on
 *    failure or dead letter; a key claimed by another member fails the delivery (→ nack);
 * 2. `deadLetter` (when `deadLetterChannelName` is set) — park failed messages, then succeed;
 *    a failed dead-letter publish fails the message (→ nack);
 * 3. `sendReply` (when `sendReplyUsingReplyTo`) — reply with the result or the final error;
 * 4. `retry` (when `retry` is set) — re-run everything below;
 * 5. `processingTimeout` (when `processingTimeoutMs > 0`) — bounds each attempt, aborts its signal;
 * 6. the user `middleware`, first = outermost;
 * 7. `beforeInterceptors` — may replace the message, or stop processing (= handled);
 * 8. `messageFilter` (when `filter` is set) — `false` = handled, logged and counted;
 * 9. the terminal `handler`;
 * 10. `afterInterceptors` — run on the handler's result.
 *
 * Because the idempotency claim sits outside dead-letter and retry, it covers every attempt, and a
 * busy claim or a store failure is redelivered, never dead-lettered.
 * Because retry sits inside dead-letter and reply, a message is dead-lettered (and an error reply
 * sent) only once all attempts failed; because the timeout sits inside retry, it bounds each
 * attempt and a timed-out attempt is retried.
 *
 * @example
 * ```ts
 * const run = consumerPipeline({ endpointOptions: builder.endpointOptions, processingTimeoutMs: 30_000, handler: dispatch });
 * await run(delivery.message, ctx);
 * ```
 * @throws ConfigurationError when an option of a step is invalid.
 * @public
 */
export function consumerPipeline(options: ConsumerPipelineOptions): MessageHandlerFn {
  const { endpointOptions: e } = options;
  const hooks = mergeHooks(options.hooks ?? {}, options.observability?.hooks);
  const steps: HandlerMiddleware[] = options.observability ? [options.observability.middleware] : [];
  if (options.settledByCaller !== true)
    steps.push(
      acknowledge({
        ...(options.nackDelayMs === undefined ? {} : { nackDelayMs: options.nackDelayMs }),
        ...(hooks.onAcked ? { onAcked: hooks.onAcked } : {}),
        ...(hooks.onNacked ? { onNacked: hooks.onNacked } : {}),
      }),
    );
  if (e.idempotency !== undefined) {
    steps.push(
      idempotentConsumer(
        e.idempotency.store,
        e.idempotency.options,
        hooks.onDuplicate ? { onDuplicate: hooks.onDuplicate } : {},
      ),
    );
  }
  if (e.deadLetterChannelName !== undefined) {
    steps.push(
      deadLetter({
        channelName: e.deadLetterChannelName,
        ...(hooks.onDeadLettered ? { onDeadLettered: hooks.onDeadLettered } : {}),
      }),
    );
  }
  if (e.sendReplyUsingReplyTo) {
    steps.push(sendReply(hooks.onReplyDropped ? { onReplyDropped: hooks.onReplyDropped } : {}));
  }
  if (e.retry !== undefined) {
    steps.push(
      retry(e.retry, {
        ...options.retryHooks,
        ...(hooks.onRetry ? { onRetry: hooks.onRetry } : {}),
      }),
    );
  }
  if (options.processingTimeoutMs > 0) {
    steps.push(
      processingTimeout(
        options.processingTimeoutMs,
        hooks.onStaleAttemptSettled ? { onStaleAttemptSettled: hooks.onStaleAttemptSettled } : {},
      ),
    );
  }
  steps.push(...e.middleware);
  if (e.beforeInterceptors.length > 0) {
    steps.push(
      beforeInterceptors(e.beforeInterceptors, {
        ...(hooks.onFiltered ? { onStopped: (m, _i, ctx) => hooks.onFiltered?.(m, ctx) } : {}),
      }),
    );
  }
  if (e.filter !== undefined) {
    steps.push(messageFilter(e.filter, hooks.onFiltered ? { onFiltered: hooks.onFiltered } : {}));
  }
  if (e.afterInterceptors.length > 0) steps.push(afterInterceptors(e.afterInterceptors));
  return composeMiddleware(steps, options.handler);
}
