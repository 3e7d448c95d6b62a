import { startPositionProblems, type StartPosition } from '../consume/start-position.js';
import type { ConsumerEndpointOptions } from '../channel/channel-builders.js';
import type { ConsumerChannel } from '../channel/consumer-channel.js';
import type { Logger } from '../logging/logger.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import type { PipelineObservability } from '../observability/pipeline-observability.js';
import { MAX_PROCESSING_TIMEOUT_MS } from '../pipeline/middleware/processing-timeout.js';
import type { ChannelResolver } from '../pipeline/processing-context.js';
import { resolveRetryOptions } from '../pipeline/retry-options.js';
import type { EventDrivenConsumer } from './event-driven-consumer.js';

/**
 * What an {@link EventDrivenConsumer} is made of (supplied by the gomes instance).
 *
 * @public
 */
export interface EventDrivenConsumerInit {
  /** Endpoint name (the consumer channel's name). */
  readonly name: string;
  /** The channel to subscribe to. */
  readonly channel: ConsumerChannel;
  /** Pipeline options from the consumer builder. */
  readonly endpointOptions: ConsumerEndpointOptions;
  /** Terminal handler: dispatches a message to its action handler. */
  readonly handler: MessageHandlerFn;
  /** Publisher channels (dead letter, replies, routers). */
  readonly channels: ChannelResolver;
  /** Instance logger; the consumer logs through `logger.child({ consumer: name })`. */
  readonly logger: Logger;
  /** Receives subscription-level errors (transport crashes) and the error that stopped the consumer. */
  readonly onError?: (error: Error) => void;
  /**
   * Called by `run()` (after its state checks, before it validates or subscribes) with the consumer
   * that runs — a `with*` copy, not the consumer gomes made: the gomes instance registers it for
   * health and `shutdown()`. Throwing refuses the run.
   */
  readonly onRun?: (consumer: EventDrivenConsumer) => void;
  /** Tracing and metrics of the consumer's pipeline (set by the gomes instance). */
  readonly observability?: PipelineObservability;
  /** Random source and sleep of the retry step (tests). */
  readonly retryHooks?: {
    readonly random?: () => number;
    readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  };
}

/**
 * Run options of an {@link EventDrivenConsumer}, set through its `with*` methods (each returns a
 * configured copy).
 *
 * @public
 */
export interface EventDrivenConsumerOptions {
  /** Messages processed at once (different keys only). @default 1 */
  amountOfProcessors: number;
  /**
   * Bound of each handler attempt, in ms; on expiry the handler's signal is aborted and the attempt
   * fails with a retriable `GOMES_PROCESSING_TIMEOUT`. 0 = no bound.
   * @default 100000 (Go gomes' default; it bounds the whole pipeline there, one attempt here)
   */
  messageProcessingTimeoutMs: number;
  /** Stop the consumer when a message ends in failure (nacked) or the subscription reports an error. @default false */
  stopOnError: boolean;
  /**
   * Deprecated alias of `maxBufferedRecordsPerPartition` (on a subscribe-only channel: deliveries
   * accepted and unfinished); `undefined` = use `maxBufferedRecordsPerPartition`.
   */
  queueCapacity: number | undefined;
  /**
   * Records fetched and not settled per partition (a subscribe-only channel: its one
   * pseudo-partition): the source partition is paused when it is full and resumed below half. Bounds memory without a shared queue, so one key's backlog never stops
   * other keys. @default 1000
   */
  maxBufferedRecordsPerPartition: number;
  /**
   * Stored value bytes fetched and not settled per partition (text values count their length): the
   * partition is also paused when they reach it and resumed once both bounds are below half. A
   * fetched batch is kept whole, so a partition holds at most this plus one fetch. Bounds memory for
   * large records, where 1000 records could be gigabytes. @default 33554432 (32 MiB)
   */
  maxBufferedBytesPerPartition: number;
  /**
   * How long a revoke (rebalance) waits for the aborted handlers of the revoked partitions before it
   * releases them, in ms; their results are never acked by this member. @default 10000
   */
  revokeBudgetMs: number;
  /** Delay before a failed (nacked) message is redelivered, in ms. @default 1000 */
  nackDelayMs: number;
  /**
   * After the stop budget expired, how long `stop()` still waits for the transport (the nacks of the
   * aborted deliveries, the subscription's stop and close) before it abandons them, logs what was
   * abandoned and finishes, in ms. Bounds a shutdown with a hung transport to budget + grace.
   * @default 5000
   */
  stopGraceMs: number;
  /**
   * Where each partition is read from at its first assignment after `run()`, over the group's
   * committed offset (transports with a partitioned source). `undefined`: from the committed
   * offset, or where the transport starts a group without one. See `StartPosition`.
   * @default undefined
   */
  startPosition: StartPosition | undefined;
}

/** Defaults of {@link EventDrivenConsumerOptions}. @public */
export const DEFAULT_EVENT_DRIVEN_CONSUMER_OPTIONS: Readonly<EventDrivenConsumerOptions> = Object.freeze({
  amountOfProcessors: 1,
  messageProcessingTimeoutMs: 100_000,
  stopOnError: false,
  queueCapacity: undefined,
  maxBufferedRecordsPerPartition: 1000,
  maxBufferedBytesPerPartition: 32 * 1024 * 1024,
  revokeBudgetMs: 10_000,
  nackDelayMs: 1000,
  stopGraceMs: 5000,
  startPosition: undefined,
});

/** Default time `stop()` lets in-flight messages finish before aborting them, in ms. @public */
export const DEFAULT_CONSUMER_STOP_BUDGET_MS = 30_000;

/** Lifecycle state of an {@link EventDrivenConsumer}. @public */
export type EventDrivenConsumerState = 'idle' | 'running' | 'stopping' | 'stopped' | 'crashed';

/** Counters of an {@link EventDrivenConsumer} (a snapshot). @public */
export interface EventDrivenConsumerStats {
  /** Deliveries handed over by the channel. */
  readonly received: number;
  /** Messages whose handler succeeded (acked). */
  readonly succeeded: number;
  /** Failures for good without a dead letter (the message is never acked: it runs again after the nack delay). */
  readonly failed: number;
  /** Retries made. */
  readonly retried: number;
  /** Messages published to the dead-letter channel (then acked). */
  readonly deadLettered: number;
  /** Messages dropped by the filter or a before-interceptor (acked). */
  readonly filtered: number;
  /** Duplicates an idempotent consumer acked without running the handler (see `withIdempotency`). */
  readonly duplicates: number;
  /** Deliveries acked. */
  readonly acked: number;
  /** Failures that run again (never acked; on a subscribe-only channel nacked to the transport at stop). */
  readonly nacked: number;
  /** Replies dropped because their `replyTo` channel does not exist. */
  readonly repliesDropped: number;
  /** Subscription-level errors reported by the channel. */
  readonly subscriptionErrors: number;
  /** Transport acks that failed (the transport redelivers the message). */
  readonly ackFailures: number;
  /** Transport nacks that failed (the transport redelivers unacknowledged messages on its own). */
  readonly nackFailures: number;
  /**
   * Abandoned handler attempts (timed out, or aborted) that settled afterwards: their handler kept
   * running after its signal was aborted (see `processingTimeout`).
   */
  readonly staleAttempts: number;
  /**
   * Undecodable records dropped because the consumer has no dead-letter channel (each logged as an
   * error and reported to `onError`).
   */
  readonly undecodableDropped: number;
  /** Deliveries accepted and not settled yet. */
  readonly inFlight: number;
}

/**
 * Checks the run options and the endpoint options (and that the dead-letter channel exists);
 * returns every problem (empty when valid).
 *
 * @public
 */
export function validateEventDrivenConsumerOptions(
  options: Readonly<EventDrivenConsumerOptions>,
  init: Pick<EventDrivenConsumerInit, 'name' | 'endpointOptions' | 'channels'>,
): string[] {
  const problems: string[] = [];
  const int = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got ${value})`);
    }
  };
  if (!init.name) problems.push('the consumer needs a non-empty name');
  int('amountOfProcessors', options.amountOfProcessors, 1);
  int('messageProcessingTimeoutMs', options.messageProcessingTimeoutMs, 0, MAX_PROCESSING_TIMEOUT_MS);
  int('nackDelayMs', options.nackDelayMs, 0, MAX_PROCESSING_TIMEOUT_MS);
  int('stopGraceMs', options.stopGraceMs, 0, MAX_PROCESSING_TIMEOUT_MS);
  int('maxBufferedRecordsPerPartition', options.maxBufferedRecordsPerPartition, 1);
  int('maxBufferedBytesPerPartition', options.maxBufferedBytesPerPartition, 1);
  int('revokeBudgetMs', options.revokeBudgetMs, 0, MAX_PROCESSING_TIMEOUT_MS);
  problems.push(...startPositionProblems(options.startPosition));
  if (options.queueCapacity !== undefined) {
    int('queueCapacity', options.queueCapacity, Math.max(1, options.amountOfProcessors));
  }
  const e = init.endpointOptions;
  if (e.retry !== undefined) problems.push(...resolveRetryOptions(e.retry).problems);
  if (e.deadLetterChannelName !== undefined) {
    if (e.deadLetterChannelName === '') problems.push('deadLetterChannelName must not be empty');
    else if (!init.channels.publisher(e.deadLetterChannelName)) {
      problems.push(`dead-letter channel "${e.deadLetterChannelName}" is not a registered publisher channel`);
    }
  }
  return problems;
}
