import type { Message } from '../message/message.js';
import type { Logger } from '../logging/logger.js';
import { consumerPipeline } from '../pipeline/consumer-pipeline.js';
import type { ProcessingState } from '../pipeline/processing-context.js';
import type { PartitionedSource } from '../transport/spi/partitioned-source.js';
import { ConsumeEngine } from '../consume/consume-engine.js';
import type { ConsumerCounters } from '../consume/consumer-counters.js';
import { SubscriptionSource } from '../consume/subscription-source.js';
import { abortableSleep } from '../internal/abortable-sleep.js';
import { consumerDeadLetterSetup } from './consumer-dead-letter-setup.js';
import type { EventDrivenConsumerInit, EventDrivenConsumerOptions } from './event-driven-consumer-options.js';

/** What {@link eventDrivenConsumerEngine} needs from its consumer. @internal */
export interface EventDrivenConsumerEngineParams {
  readonly init: EventDrivenConsumerInit;
  readonly options: Readonly<EventDrivenConsumerOptions>;
  readonly counters: ConsumerCounters;
  /** The consumer's logger. */
  readonly logger: Logger;
  /** A message failed for good without a dead letter (it runs again after the nack delay). */
  readonly onFailed: (error: Error, message: Message | undefined) => void;
  /** The source (transport) reported an error it cannot hand to a message. */
  readonly onSourceError: (error: Error) => void;
}

/** An event-driven consumer's engine and the source it runs on. @internal */
export interface EventDrivenConsumerEngine {
  readonly engine: ConsumeEngine;
  readonly source: PartitionedSource;
  /** Set when the channel only offers `subscribe`: the source over its subscription. */
  readonly subscription: SubscriptionSource | undefined;
}

/**
 * Wires an event-driven consumer onto the consume engine — the one path for every channel: the
 * channel's own partitioned source (`ConsumerChannel.openSource`) or, for a subscribe-only channel,
 * a {@link SubscriptionSource} over its subscription. Builds the consumer pipeline (settled by the
 * engine; retry waits hold no processor) and the dead-letter wiring. Not started.
 *
 * @throws the channel's error when `openSource` throws.
 * @internal
 */
export function eventDrivenConsumerEngine(
  params: EventDrivenConsumerEngineParams,
): EventDrivenConsumerEngine {
  const { init, options: o, counters, logger } = params;
  const outcomes = new WeakMap<ProcessingState, 'filtered' | 'deadLettered' | 'duplicates'>();
  const deadLetter = consumerDeadLetterSetup(init);
  const sleep = init.retryHooks?.sleep ?? abortableSleep;
  const pipeline = consumerPipeline({
    settledByCaller: true,
    endpointOptions: deadLetter.endpointOptions,
    processingTimeoutMs: o.messageProcessingTimeoutMs,
    handler: init.handler,
    nackDelayMs: o.nackDelayMs,
    retryHooks: {
      ...(init.retryHooks?.random ? { random: init.retryHooks.random } : {}),
      // A message waiting for its next attempt holds no processor (other keys keep flowing).
      sleep: async (ms, signal) => engine.retryWait(async () => sleep(ms, signal)),
    },
    ...(init.observability ? { observability: init.observability } : {}),
    hooks: {
      onRetry: () => void counters.retried++,
      onDeadLettered: (_m, _e, ctx) => outcomes.set(ctx.state, 'deadLettered'),
      onFiltered: (_m, ctx) => outcomes.set(ctx.state, 'filtered'),
      onDuplicate: (_m, _key, ctx) => outcomes.set(ctx.state, 'duplicates'),
      onReplyDropped: () => void counters.repliesDropped++,
      onStaleAttemptSettled: () => void counters.staleAttempts++,
    },
  });
  const channel = init.channel;
  const subscription = channel.openSource ? undefined : new SubscriptionSource(channel, counters, logger);
  const source =
    subscription ??
    (channel.openSource as NonNullable<typeof channel.openSource>)({ consumerName: init.name });
  let maxBuffered = o.maxBufferedRecordsPerPartition;
  if (o.queueCapacity !== undefined) {
    // On a subscription (one pseudo-partition) it keeps its meaning: the bound of accepted deliveries.
    if (!subscription) {
      logger.warn('queueCapacity is deprecated: use withMaxBufferedRecordsPerPartition', {
        queueCapacity: o.queueCapacity,
      });
    }
    maxBuffered = o.queueCapacity;
  }
  const engine: ConsumeEngine = new ConsumeEngine({
    name: init.name,
    source,
    pipeline,
    channels: deadLetter.channels,
    deadLetterChannelName: deadLetter.undecodable,
    processors: o.amountOfProcessors,
    maxBufferedRecordsPerPartition: maxBuffered,
    maxBufferedBytesPerPartition: o.maxBufferedBytesPerPartition,
    nackDelayMs: o.nackDelayMs,
    revokeBudgetMs: o.revokeBudgetMs,
    startPosition: o.startPosition,
    counters,
    logger,
    outcomeOf: (state) => outcomes.get(state),
    onFailed: params.onFailed,
    onSourceError: params.onSourceError,
  });
  return { engine, source, subscription };
}
