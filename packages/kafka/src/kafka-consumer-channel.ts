import { GomesError, noopLogger, type Logger } from '@gomes/core';
import {
  SourceSubscription,
  type PartitionedSource,
  type ConsumerChannel,
  type ConsumerChannelStatus,
  type DeliveryHandler,
  type PartitionLag,
  type SubscribeOptions,
  type Subscription,
  type TransportDeadLetterChannel,
} from '@gomes/core/transport';
import type { KafkaDriver, TopicPartitions } from './driver/kafka-driver.js';
import type { KafkaConsumerOptions } from './kafka-consumer-options.js';
import type { KafkaConsumerState, SubscriptionConfig } from './kafka-consumer-state.js';
import { KafkaSource } from './kafka-source.js';
import { DeadLetterPublisher } from './dead-letter-publisher.js';

/** Construction parameters of a {@link KafkaConsumerChannel}. @internal */
export interface KafkaConsumerChannelParams {
  readonly driver: KafkaDriver;
  readonly consumerName: string;
  readonly topic: string;
  readonly groupId: string;
  readonly deadLetterTopic: string;
  readonly options: KafkaConsumerOptions;
  readonly logger?: Logger;
  /** An ephemeral reader: starts at the end, keeps positions in memory, commits nothing. @default false */
  readonly ephemeral?: boolean;
}

/**
 * A Kafka topic, read by a consumer group, as a gomes {@link ConsumerChannel} (Go gomes' inbound
 * channel adapter), with at-least-once delivery and no loss on failure. Both ways of consuming run
 * on a {@link KafkaSource} (one consumer-group member, the `@gomes/core/transport` SPI):
 *
 * - `openSource()`: an event-driven consumer runs gomes' consume core on it.
 * - `subscribe(handler)`: core's `SourceSubscription` runs on it — records of a partition handed over
 *   in offset order, the handler's promise awaited before the next one, at most `queueCapacity`
 *   unsettled per partition (the partition paused meanwhile), gap-safe commits (every
 *   `commitIntervalMs`, on revoke and close), `nack` rewinding the partition (seek) after `delayMs`
 *   with `deliveryAttempt + 1`, undecodable records to the dead-letter topic, revoked partitions'
 *   unsettled deliveries dropped (never committed in the new generation).
 * - **Crashes.** A consumer crash (the broker gone, the network down, …) is reported through
 *   `SubscribeOptions.onError` as `GOMES_CONSUMER_CRASHED` and the member is restarted with capped
 *   exponential backoff and jitter (`withRestartPolicy`), for as long as the channel runs, removing
 *   the crashed member from the group first. A finite `maxRestarts` ends a crash loop (a final
 *   non-retriable `GOMES_CONSUMER_CRASHED`, resources released, `subscribe` may be called again).
 *   `state` shows `running` / `rebalancing` / `crashed` / `stopping` / `stopped`.
 * - **Ephemeral readers** (`KafkaConsumerChannelBuilder.asEphemeralReader`, used by gomes for reply
 *   consumers) are alone in a group of their own, start at the end of every partition (positioned
 *   before `subscribe()` resolves) and keep their positions in memory instead of committing.
 *
 * @public
 */
export class KafkaConsumerChannel implements ConsumerChannel {
  /** @inheritDoc */
  readonly name: string;
  /** @inheritDoc */
  readonly channelName: string;
  /** Consumer group id. */
  readonly groupId: string;
  /** Topics read by the group. */
  readonly topics: readonly string[];
  /** Where undecodable records go. */
  readonly deadLetterTopic: string;
  readonly #params: KafkaConsumerChannelParams;
  readonly #logger: Logger;
  /** The subscription of `subscribe`, running on {@link KafkaConsumerChannel.#source}. */
  #subscription: SourceSubscription | undefined;
  /** The source of the subscription, or the one an event-driven consumer runs on (see `openSource`). */
  #source: KafkaSource | undefined;
  #deadLetters: DeadLetterPublisher | undefined;
  readonly #createdAt = Date.now();

  /** @internal Built by {@link KafkaConsumerChannelBuilder}. */
  constructor(params: KafkaConsumerChannelParams) {
    this.#params = params;
    this.name = params.consumerName;
    this.channelName = params.topic;
    this.groupId = params.groupId;
    this.topics = Object.freeze([...(params.options.groupTopics ?? [params.topic])]);
    this.deadLetterTopic = params.deadLetterTopic;
    if (params.ephemeral !== true && this.topics.length === 1) this.openSource = () => this.#openSource();
    this.#logger = (params.logger ?? noopLogger).child({
      consumer: params.consumerName,
      groupId: params.groupId,
    });
  }

  /** State of the current subscription (`stopped` when there is none). */
  get state(): KafkaConsumerState {
    return this.#active?.state ?? 'stopped';
  }

  /** Partitions assigned to this member now. */
  get assignment(): TopicPartitions[] {
    return this.#active?.assignment ?? [];
  }

  /** How many times the current subscription joined its group (1 + rebalances + restarts). */
  get groupJoins(): number {
    return this.#active?.groupJoins ?? 0;
  }

  /**
   * Lag per assigned partition (high watermark of the latest fetch − acked position), read by the
   * `gomes.consumer.lag` gauge. Empty without a subscription or before the first fetch.
   */
  consumerLag(): readonly PartitionLag[] {
    return this.#source?.lag() ?? [];
  }

  /**
   * Transport state and per-partition lag and last progress, read by `gomes.health()`: `stopped`
   * without a subscription; `crashed` (with `restarting` while the restart policy still tries)
   * after a kafkajs crash; `rebalancing` while joining the group. Partitions are listed from
   * their first fetch, with the lag of {@link KafkaConsumerChannel.consumerLag}.
   */
  status(): ConsumerChannelStatus {
    return this.#active?.status() ?? { state: 'stopped', since: this.#createdAt, partitions: [] };
  }

  /** Records sent to the dead-letter topic by the current subscription. */
  get deadLettered(): number {
    return this.#subscription?.deadLettered ?? 0;
  }

  /**
   * Joins the group and starts handing deliveries to `handler`. Resolves once the member has its
   * first assignment. A subscription that gave up restarting after crashes (`maxRestarts`) is
   * closed and replaced.
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` when a subscription is already active;
   * `GOMES_TOPIC_NOT_FOUND` when a consumed topic does not exist (any more);
   * `GOMES_CONNECTION_FAILED` / `GOMES_AUTHENTICATION_FAILED` when the group cannot be joined.
   */
  async subscribe(handler: DeliveryHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    await this.#releaseInactive();
    const source = new KafkaSource(this.#subscriptionConfig(), async () => this.#closeDeadLetters());
    const logger = this.#logger;
    const subscription = new SourceSubscription({
      name: this.name,
      source,
      handler,
      queueCapacity: this.#params.options.queueCapacity,
      onError: (error) => {
        logger.error('Kafka consumer error', {
          reason: error.message,
          code: (error as { code?: unknown }).code,
        });
        options.onError?.(error);
      },
      deadLetters: this.#deadLetterPublisher(),
      logger,
      rejectedRedeliveryDelayMs: 0,
      deadLetterRetryDelayMs: this.#params.options.restartBackoffMs,
    });
    this.#source = source;
    this.#subscription = subscription;
    await subscription.start();
    return subscription;
  }

  /**
   * The channel as a {@link PartitionedSource} for gomes' consume core (an event-driven consumer
   * runs on it): a consumer-group member that fetches, reports assignments and revokes, and commits
   * what the core gives it, restarting after crashes like a subscription. Present only when the
   * channel is not an ephemeral reader. One source or subscription
   * at a time: it throws `GOMES_ILLEGAL_STATE` when a subscription or source is already active.
   */
  readonly openSource?: () => PartitionedSource;

  #openSource(): PartitionedSource {
    const active = this.#active;
    if (active && !active.gaveUp && active.state !== 'stopped') {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Kafka consumer "${this.name}" already has an active subscription`,
      );
    }
    // The dead-letter producer the consumer used through this source is released with it (gomes
    // never closes consumer channels themselves).
    const source = new KafkaSource(this.#subscriptionConfig(), async () => this.#closeDeadLetters());
    this.#subscription = undefined;
    this.#source = source;
    return source;
  }

  /**
   * The channel's dead-letter topic as a publisher for gomes' consume core: undecodable records go
   * there (core's envelope, the record's original bytes), and so do messages that failed for good
   * when the topic was named with `withDeadLetterTopic` and the consumer names no dead-letter
   * channel. Created on first use (the topic too, 1 partition, when missing).
   */
  deadLetterChannel(): TransportDeadLetterChannel | undefined {
    if (this.#params.ephemeral === true) return undefined;
    return {
      publisher: this.#deadLetterPublisher(),
      forFailedMessages: this.#params.options.deadLetterTopic !== undefined,
    };
  }

  /** The dead-letter topic's publisher (also of ephemeral readers' subscriptions), created on first use. */
  #deadLetterPublisher(): DeadLetterPublisher {
    this.#deadLetters ??= new DeadLetterPublisher(this.#params.driver, this.deadLetterTopic, this.#logger);
    return this.#deadLetters;
  }

  /** The current source (of a subscription or of an event-driven consumer). */
  get #active(): KafkaSource | undefined {
    return this.#source;
  }

  /** Closes a subscription or source that gave up restarting; rejects when one is still active. */
  async #releaseInactive(): Promise<void> {
    const current = this.#active;
    if (current?.gaveUp) await current.close();
    else if (current && current.state !== 'stopped') {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Kafka consumer "${this.name}" already has an active subscription`,
      );
    }
    this.#source = undefined;
    this.#subscription = undefined;
  }

  #subscriptionConfig(): SubscriptionConfig {
    const p = this.#params;
    return {
      driver: p.driver,
      consumerName: p.consumerName,
      groupId: p.groupId,
      topics: this.topics,
      channelTopic: p.topic,
      deadLetterTopic: p.deadLetterTopic,
      options: p.options,
      logger: this.#logger,
      ephemeral: p.ephemeral === true,
    };
  }

  /** Commits what is acked now (also done every `commitIntervalMs`). */
  async commit(): Promise<void> {
    await this.#subscription?.commit();
  }

  /** Closes the current subscription, if any. Idempotent. */
  async close(): Promise<void> {
    await this.#subscription?.close();
    await this.#active?.close();
    await this.#closeDeadLetters();
  }

  async #closeDeadLetters(): Promise<void> {
    const deadLetters = this.#deadLetters;
    this.#deadLetters = undefined;
    await deadLetters?.close();
  }
}
