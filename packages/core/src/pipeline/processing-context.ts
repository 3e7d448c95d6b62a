import type { Delivery } from '../channel/consumer-channel.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import type { Logger } from '../logging/logger.js';

/**
 * Failure bookkeeping for one delivery, shared by every middleware of its pipeline run. Retry
 * writes it; dead-letter reads it into the envelope.
 *
 * @public
 */
export interface ProcessingState {
  /** Handler executions so far (1 after the first attempt). */
  attempts: number;
  /** When the first attempt failed. */
  firstFailureAt?: Date;
  /** When the latest attempt failed. */
  lastFailureAt?: Date;
  /** The latest failure. */
  lastError?: Error;
  /** Set by `deadLetter` once the message was published to the dead-letter channel. */
  deadLettered?: boolean;
}

/** Looks up publisher channels by name (for dead-letter, replies and routers). @public */
export interface ChannelResolver {
  /** The publisher channel called `name`, or `undefined`. */
  publisher(name: string): PublisherChannel | undefined;
}

/**
 * What every pipeline step gets with the message.
 *
 * @public
 */
export interface ProcessingContext {
  /** Aborted on processing timeout and on shutdown. Handlers should pass it to their I/O. */
  readonly signal: AbortSignal;
  /** Logger bound to the consumer and the message. */
  readonly logger: Logger;
  /** Name of the consumer endpoint (or bus) running the pipeline. */
  readonly endpointName: string;
  /** The transport delivery, when the message came from a consumer channel. */
  readonly delivery?: Delivery;
  /** Publisher channels of the gomes instance. */
  readonly channels: ChannelResolver;
  /** Failure bookkeeping of this run. */
  readonly state: ProcessingState;
}
