import type { IdempotencyOptions } from '../idempotency/idempotency-options.js';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import type { Logger } from '../logging/logger.js';
import type { HandlerMiddleware, Interceptor, MessageFilterFn } from '../pipeline/message-handler.js';
import type { RetryOptions } from '../pipeline/retry-options.js';
import type { ChannelConnection } from './channel-connection.js';
import type { ChannelReader } from './channel-reader.js';
import type { ConsumerChannel } from './consumer-channel.js';
import type { PublisherChannel } from './publisher-channel.js';

/** What `start()` hands a builder. @public */
export interface ChannelBuildContext {
  /** The connection named by the builder (already connected). */
  readonly connection: ChannelConnection;
  /** The instance logger. */
  readonly logger: Logger;
}

/** What `start()` hands a builder's {@link PublisherChannelBuilder.preflight | preflight}. @public */
export interface PreflightContext {
  /** The instance logger. */
  readonly logger: Logger;
}

/**
 * Builds a publisher channel at `start()`. Registered with `gomes.addPublisherChannel()`.
 *
 * @public
 */
export interface PublisherChannelBuilder {
  /** Channel name (the topic/queue); buses and dead-letter options refer to it. */
  readonly channelName: string;
  /** Name of the connection it needs. */
  readonly connectionName: string;
  /** Channel to stamp as `replyTo` on every message sent, when set. */
  readonly replyChannelName: string | undefined;
  /** Whether `connection` is a connection this builder can use. */
  acceptsConnection(connection: ChannelConnection): boolean;
  /** Every configuration problem (empty when valid). */
  validate(): string[];
  /**
   * Optional checks that need I/O (e.g. registering schemas and checking their compatibility with a
   * schema registry). `start()` runs every builder's preflight after `validate()` found nothing and
   * before any connection connects, and fails with one `ConfigurationError` listing every problem
   * returned (one sentence each).
   */
  preflight?(context: PreflightContext): Promise<string[]>;
  /** Creates the channel. */
  build(context: ChannelBuildContext): Promise<PublisherChannel>;
  /**
   * Optional capability: a {@link ChannelReader} of this builder's channel, decoding records as the
   * channel encodes them. `context.connection` must be connected. The dead-letter API
   * (`gomes.deadLetters(name)`) needs it; transports that cannot read a channel back leave it out.
   */
  createReader?(context: ChannelBuildContext): ChannelReader;
}

/**
 * Transport-independent options of a consumer endpoint, set through the consumer builder and run
 * by its `EventDrivenConsumer`.
 *
 * @public
 */
export interface ConsumerEndpointOptions {
  /** Publisher channel that receives messages that failed for good. */
  readonly deadLetterChannelName: string | undefined;
  /** Retry before dead-lettering; `undefined` = no retry. */
  readonly retry: Partial<RetryOptions> | undefined;
  /** Run before the handler, in order. */
  readonly beforeInterceptors: readonly Interceptor[];
  /** Run on the handler's result, in order. */
  readonly afterInterceptors: readonly Interceptor[];
  /** Messages for which it returns false are acked without processing (logged and counted). */
  readonly filter: MessageFilterFn | undefined;
  /** Extra middleware run inside retry, around the handler (first = outermost). */
  readonly middleware: readonly HandlerMiddleware[];
  /**
   * Publish the handler's result (or its final error) to the channel named by the message's
   * `replyTo` header. Messages without `replyTo` are unaffected. @default true (Go gomes: opt-in)
   */
  readonly sendReplyUsingReplyTo: boolean;
  /** Idempotent consumer: skip messages whose key was already processed (see `withIdempotency`). */
  readonly idempotency: ConsumerIdempotency | undefined;
  /**
   * The channel is read with `gomes.pollingConsumer(name)` (see `withPolling`): it needs no action
   * handler. @default false
   */
  readonly polled: boolean;
}

/** The store and options of an idempotent consumer (`withIdempotency`). @public */
export interface ConsumerIdempotency {
  /** Where processed keys and claims are recorded. */
  readonly store: IdempotencyStore;
  /** Key, time to live, lease and scope. */
  readonly options: IdempotencyOptions;
}

/** Defaults of {@link ConsumerEndpointOptions}. @public */
export const DEFAULT_CONSUMER_ENDPOINT_OPTIONS: Readonly<ConsumerEndpointOptions> = Object.freeze({
  deadLetterChannelName: undefined,
  retry: undefined,
  beforeInterceptors: Object.freeze([]),
  afterInterceptors: Object.freeze([]),
  filter: undefined,
  middleware: Object.freeze([]),
  sendReplyUsingReplyTo: true,
  idempotency: undefined,
  polled: false,
});

/**
 * Builds a consumer channel at `start()`. Registered with `gomes.addConsumerChannel()`; run with
 * `gomes.eventDrivenConsumer(consumerName)`.
 *
 * @public
 */
export interface ConsumerChannelBuilder {
  /** Endpoint name (unique per instance). */
  readonly consumerName: string;
  /** Channel (topic/queue) consumed. */
  readonly channelName: string;
  /** Name of the connection it needs. */
  readonly connectionName: string;
  /** Pipeline options. */
  readonly endpointOptions: ConsumerEndpointOptions;
  /** Whether `connection` is a connection this builder can use. */
  acceptsConnection(connection: ChannelConnection): boolean;
  /** Every configuration problem (empty when valid). */
  validate(): string[];
  /** Optional checks that need I/O, run by `start()` (see {@link PublisherChannelBuilder.preflight}). */
  preflight?(context: PreflightContext): Promise<string[]>;
  /**
   * Creates the channel. Throws `GOMES_TOPIC_NOT_FOUND` when the topic/queue it reads does not
   * exist: `start()` builds the other consumers and reports every such error together, in one.
   */
  build(context: ChannelBuildContext): Promise<ConsumerChannel>;
  /**
   * Optional capability: a builder for an **ephemeral reader** of the same channel, private to the
   * reader `readerId` (a gomes instance id). gomes reads reply channels with it, so that every
   * replica of a service reads every reply. The channel it builds must:
   *
   * - read every partition of the channel alone: no group shared with another reader (the
   *   transport makes the reader's group unique, e.g. `<groupId>.<readerId>.<random>`);
   * - start at the end of the channel, positioned **before `subscribe()` resolves**, so that no
   *   message written after that is missed and none written before is read;
   * - keep its position only while the subscription lives: nothing is committed or stored that
   *   would make a later reader re-read old messages or leave offsets behind.
   *
   * Other options (timeouts, capacities, decoding) are kept. A transport without it has its reply
   * consumers read in the configured (shared) group: `start()` then logs a warning once, since
   * replicas would split the replies.
   */
  asEphemeralReader?(readerId: string): ConsumerChannelBuilder;
}
