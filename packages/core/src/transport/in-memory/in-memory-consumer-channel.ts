import type {
  ConsumerChannel,
  DeliveryHandler,
  PartitionLag,
  SubscribeOptions,
} from '../../channel/consumer-channel.js';
import type { ConsumerChannelStatus } from '../../channel/consumer-channel-status.js';
import { GomesError } from '../../errors/gomes-error.js';
import type { Logger } from '../../logging/logger.js';
import type { InMemoryBroker } from './in-memory-broker.js';
import type { PartitionedSource } from '../spi/partitioned-source.js';
import { InMemorySource } from './in-memory-source.js';
import { InMemorySubscription, type InMemoryStartOffset } from './in-memory-subscription.js';

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
 * Consumes a topic of an {@link InMemoryBroker} as a member of a consumer group; see
 * {@link InMemorySubscription} for how deliveries are handed over, acked and nacked. One
 * subscription at a time; after `close()` it can subscribe again (and gets what was not committed).
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
  async subscribe(handler: DeliveryHandler, options: SubscribeOptions = {}): Promise<InMemorySubscription> {
    const { active, unlisten } = this.#open();
    return Promise.resolve(
      new InMemorySubscription({
        broker: this.#params.broker,
        topic: this.#params.topic,
        groupId: this.#params.groupId,
        queueCapacity: this.#params.queueCapacity,
        startOffset: this.#params.startOffset,
        handler,
        onError: options.onError,
        consumerName: this.#params.consumerName,
        deadLetterTopic: `${this.#params.topic}.DLQ`,
        ephemeral: this.#params.ephemeral === true,
        ...(this.#params.logger ? { logger: this.#params.logger } : {}),
        onClosed: () => {
          active.closed = true;
          this.#stoppedSince = Date.now();
          unlisten();
        },
        onCommitted: (partition) => this.#progressAt.set(partition, Date.now()),
      }),
    );
  }

  /**
   * The channel as a partitioned source for the consume core (an event-driven consumer runs on it).
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` while another subscription or source of this channel is open.
   */
  openSource(): PartitionedSource {
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
