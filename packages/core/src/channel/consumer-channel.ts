import type { Message } from '../message/message.js';
import type { PartitionedSource } from '../transport/spi/partitioned-source.js';
import type { ConsumerChannelStatus } from './consumer-channel-status.js';
import type { PublisherChannel } from './publisher-channel.js';

/** Where a delivered message sits in its channel (for dead-letter envelopes and logs). @public */
export interface DeliveryPosition {
  /** Channel (topic) name. */
  readonly channel: string;
  /** Partition, when the channel has partitions. */
  readonly partition?: number;
  /** Offset or sequence within the partition, as a decimal string. */
  readonly offset?: string;
  /**
   * Consumer group the message was delivered to, when the transport has groups (Kafka, in-memory).
   * Optional: transports written before it may leave it out. Used for tracing and metrics.
   */
  readonly group?: string;
}

/** One partition's consumer lag, as reported by {@link ConsumerChannel.consumerLag}. @public */
export interface PartitionLag {
  /** Topic / channel. */
  readonly channel: string;
  /** Partition. */
  readonly partition: number;
  /** Messages between the acked position and the end of the partition (>= 0). */
  readonly lag: number;
  /** Consumer group, when known. */
  readonly group?: string;
}

/** Options of {@link Delivery.nack}. @public */
export interface NackOptions {
  /** Wait this long before the message is delivered again. @default 0 */
  delayMs?: number;
}

/**
 * One message handed to a consumer, with its settlement.
 *
 * Exactly one of `ack` / `nack` must be called once the message is finished:
 * - `ack()`: the message is done (handled, filtered out, or safely dead-lettered). The transport
 *   may now commit past it; it commits only offsets whose earlier messages are all acked.
 * - `nack()`: the message is not done; the transport delivers it again (and, on partitioned
 *   transports, the messages after it in its partition). Nothing is committed past it.
 *
 * @public
 */
export interface Delivery {
  /** The decoded message. */
  readonly message: Message;
  /** Ordering key: deliveries with equal keys are processed one at a time, in order. */
  readonly key: string;
  /** Position in the channel. */
  readonly position: DeliveryPosition;
  /** 1 on first delivery, then +1 each time the transport redelivers it (when it can tell). */
  readonly deliveryAttempt: number;
  /** Marks the message done. Idempotent. */
  ack(): Promise<void>;
  /** Asks for redelivery. Idempotent; ignored after `ack`. */
  nack(options?: NackOptions): Promise<void>;
}

/**
 * Receives deliveries. The returned promise resolves when the consumer has **accepted** the
 * delivery (it has room for it), not when it is processed: transports must await it before
 * handing over the next delivery, which bounds in-flight messages (backpressure).
 *
 * @public
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

/** Options of {@link ConsumerChannel.subscribe}. @public */
export interface SubscribeOptions {
  /** Called when the transport hits an error it cannot hand to a message (e.g. a client crash). */
  onError?: (error: Error) => void;
}

/** A running subscription. @public */
export interface Subscription {
  /**
   * Stops handing over new deliveries. Deliveries already handed over can still be acked or nacked
   * until `close()`. Idempotent.
   */
  stop(): Promise<void>;
  /**
   * Commits what is acked, then releases the subscription. Deliveries not acked by then are
   * redelivered to the next subscriber (never committed). Idempotent; implies `stop()`.
   */
  close(): Promise<void>;
}

/**
 * A consumer channel's own dead-letter channel (see {@link ConsumerChannel.deadLetterChannel}).
 *
 * @public
 */
export interface TransportDeadLetterChannel {
  /** Where dead letters are published (its `name` is the dead-letter channel name). */
  readonly publisher: PublisherChannel;
  /** Whether messages that failed for good go there too (not only undecodable records). */
  readonly forFailedMessages: boolean;
}

/**
 * Inbound contract #2: a channel a consumer subscribes to (a topic with a consumer group, a queue,
 * an in-memory channel).
 *
 * Ordering: deliveries of one partition are handed over in order. Delivery guarantee: at least once
 * — a message is redelivered until it is acked.
 *
 * @public
 */
export interface ConsumerChannel {
  /** The consumer (endpoint) name. */
  readonly name: string;
  /** The channel (topic/queue) consumed. */
  readonly channelName: string;
  /**
   * Optional: the channel as a {@link PartitionedSource} (the transport SPI, see
   * `@gomes/core/transport`). When present, an event-driven consumer runs on it — gomes' consume
   * core then does intake, key ordering, retries, settlement, dead letters, commits and revoke drain
   * — instead of `subscribe`. One source or subscription at a time.
   */
  openSource?(options: { readonly consumerName: string }): PartitionedSource;
  /**
   * Optional: the transport's own dead-letter channel (Kafka: `withDeadLetterTopic`, else
   * `<topic>.DLQ`), used by an event-driven consumer that names no dead-letter channel
   * (`withDeadLetterChannelName`): undecodable records always go there; failed messages only when
   * `forFailedMessages` (the channel was named explicitly). Core's envelope is used either way.
   */
  deadLetterChannel?(): TransportDeadLetterChannel | undefined;
  /** Starts handing deliveries to `handler`. One subscription at a time. */
  subscribe(handler: DeliveryHandler, options?: SubscribeOptions): Promise<Subscription>;
  /**
   * Optional: the lag of each partition assigned to the current subscription (empty when there is
   * none or nothing was fetched yet). gomes reads it for the `gomes.consumer.lag` gauge; transports
   * that cannot tell leave it out.
   */
  consumerLag?(): readonly PartitionLag[];
  /**
   * Optional: the subscription's transport state and per-partition progress, read by
   * `gomes.health()` (a snapshot; no I/O). Transports that leave it out are reported from the
   * event-driven consumer's state alone, without partitions.
   */
  status?(): ConsumerChannelStatus;
}
