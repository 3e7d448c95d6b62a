import type {
  ConsumerChannel,
  DeliveryHandler,
  PartitionLag,
  SubscribeOptions,
} from '../../channel/consumer-channel.js';
import type { ConsumerChannelStatus } from '../../channel/consumer-channel-status.js';
import { GomesError } from '../../errors/gomes-error.js';
import { noopLogger, type Logger } from '../../logging/logger.js';
import { SourceSubscription } from '../../consume/source-subscription.js';
import type { InMemoryBroker } from './in-memory-broker.js';
import type { PartitionedSource } from '../spi/partitioned-source.js';
import { InMemoryPublisherChannel } from './in-memory-publisher-channel.js';
import {
  HANDLER_REJECTED_REDELIVERY_DELAY_MS,
  InMemorySource,
  type InMemoryStartOffset,
} from './in-memory-source.js';

/** What an {@link InMemoryConsumerChannel} reads and how. @public */
export interface InMemoryConsumerChannelParams {
  /** The broker. */
  readonly broker: InMemoryBroker;
  /** Consumer (endpoint) name. */
  readonly consumerName: string;
  /** Topic consumed. */
  readonly topic: string;
  /** Consumer group. */
  readonly groupId: string;
  /** Most deliveries handed over and not settled at once. */
  readonly queueCapacity: number;
  /** Where a group with no committed offset starts. */
  readonly startOffset: InMemoryStartOffset;
  /** Where undecodable records are logged. @default noopLogger */
  readonly logger?: Logger;
  /** Each subscription joins `groupId` as an ephemeral group, forgotten when it closes. @default false */
  readonly ephemeral?: boolean;
}

/**
 * Consumes a topic of an {@link InMemoryBroker} as a member of a consumer group. `subscribe` runs
 * core's {@link SourceSubscription} on an {@link InMemorySource} (see it for how deliveries are
 * handed over, acked and nacked); undecodable records go to `<topic>.DLQ` on the same broker, and a
 * handler that rejects gets its delivery again after {@link HANDLER_REJECTED_REDELIVERY_DELAY_MS}.
 * One subscription at a time; after `close()` it can subscribe again (and gets what was not committed).
 *
 * @public
 */
export class InMemoryConsumerChannel implements ConsumerChannel {
  /** @inheritDoc */
  readonly name: string;
  /** @inheritDoc */
  readonly channelName: string;
  /** The consumer group. */
  readonly groupId: string;
  readonly #params: InMemoryConsumerChannelParams;
  #active: { closed: boolean; since: number } | undefined;
  #stoppedSince = Date.now();
  /** Last progress of each partition (commit advanced, caught up, or subscribed), ms since the epoch. */
  readonly #progressAt = new Map<number, number>();

  constructor(params: InMemoryConsumerChannelParams) {
    this.#params = params;
    this.name = params.consumerName;
    this.channelName = params.topic;
    this.groupId = params.groupId;
  }

  /**
   * Lag of the group on each partition of the topic (end offset − committed offset) while a
   * subscription is open; empty otherwise.
   */
  consumerLag(): readonly PartitionLag[] {
    const { broker, topic, groupId } = this.#params;
    if (!this.#active || this.#active.closed || !broker.hasTopic(topic)) return [];
    return Array.from({ length: broker.partitionCount(topic) }, (_, partition) => {
      const end = broker.endOffset(topic, partition);
      const committed = broker.committedOffset(groupId, topic, partition) ?? 0n;
      return {
        channel: topic,
        partition,
        group: groupId,
        lag: Number(end > committed ? end - committed : 0n),
      };
    });
  }

  /**
   * `running` while a subscription is open (the in-memory transport neither crashes nor rebalances
   * asynchronously), else `stopped`; with the lag and last progress of every partition of the topic.
   * Progress is a commit that advanced, the partition catching up (a record appended to a partition
   * with lag 0 starts its clock), or the subscription starting.
   */
  status(): ConsumerChannelStatus {
    const active = this.#active && !this.#active.closed ? this.#active : undefined;
    if (!active) return { state: 'stopped', since: this.#stoppedSince, partitions: [] };
    const partitions = this.consumerLag().map((lag) => ({
      ...lag,
      lastProgressAt: Math.max(this.#progressAt.get(lag.partition) ?? 0, active.since),
    }));
    return { state: 'running', since: active.since, partitions };
  }

  /**
   * Joins the group and starts handing deliveries to `handler`.
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` while another subscription of this channel is open.
   */
  async subscribe(handler: DeliveryHandler, options: SubscribeOptions = {}): Promise<SourceSubscription> {
    const source = this.#source();
    const subscription = new SourceSubscription({
      name: this.#params.consumerName,
      source,
      handler,
      queueCapacity: this.#params.queueCapacity,
      maxUnsettled: this.#params.queueCapacity,
      onError: options.onError,
      deadLetters: new InMemoryPublisherChannel(this.#params.broker, `${this.#params.topic}.DLQ`),
      logger: this.#params.logger ?? noopLogger,
      rejectedRedeliveryDelayMs: HANDLER_REJECTED_REDELIVERY_DELAY_MS,
      deadLetterRetryDelayMs: HANDLER_REJECTED_REDELIVERY_DELAY_MS,
      deliveryAttempt: (partition, offset) => source.countDelivery(partition, offset),
    });
    await subscription.start();
    return subscription;
  }

  /**
   * The channel as a partitioned source for the consume core (an event-driven consumer runs on it).
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` while another subscription or source of this channel is open.
   */
  openSource(): PartitionedSource {
    return this.#source();
  }

  #source(): InMemorySource {
    const { active, unlisten } = this.#open();
    return new InMemorySource({
      broker: this.#params.broker,
      topic: this.#params.topic,
      groupId: this.#params.groupId,
      startOffset: this.#params.startOffset,
      ephemeral: this.#params.ephemeral === true,
      onCommitted: (partition) => this.#progressAt.set(partition, Date.now()),
      onClosed: () => {
        active.closed = true;
        this.#stoppedSince = Date.now();
        unlisten();
      },
    });
  }

  #open(): { active: { closed: boolean; since: number }; unlisten: () => void } {
    if (this.#active && !this.#active.closed) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Consumer "${this.name}" already has an open subscription; close it first`,
      );
    }
    const active = { closed: false, since: Date.now() };
    this.#active = active;
    const { broker, topic, groupId } = this.#params;
    // A record appended to a partition that had no lag: the partition was caught up until now.
    const unlisten = broker.onAppend(topic, (record) => {
      if ((broker.committedOffset(groupId, topic, record.partition) ?? 0n) >= record.offset) {
        this.#progressAt.set(record.partition, Date.now());
      }
    });
    return { active, unlisten };
  }
}
