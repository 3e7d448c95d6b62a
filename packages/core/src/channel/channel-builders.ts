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
  /** Creates the channel. */
  build(context: ChannelBuildContext): Promise<ConsumerChannel>;
}
