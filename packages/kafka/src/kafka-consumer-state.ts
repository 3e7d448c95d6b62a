import type { GomesError, Logger } from '@gomes/core';
import type { ConsumerChannelStatus, ConsumerTransportState, PartitionProgress } from '@gomes/core/transport';
import type { KafkaDriver } from './driver/kafka-driver.js';
import type { KafkaConsumerOptions } from './kafka-consumer-options.js';
import { isUnknownTopicError, toConnectionError } from './kafka-errors.js';
import { findMissingTopics, topicNotFoundError } from './topic-provisioner.js';

/** Lifecycle state of a Kafka consumer (its source). @public */
export type KafkaConsumerState = 'starting' | 'running' | 'rebalancing' | 'crashed' | 'stopping' | 'stopped';

/** Everything a {@link KafkaSource} needs from its channel. @internal */
export interface SubscriptionConfig {
  readonly driver: KafkaDriver;
  readonly consumerName: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** The channel's own topic (the one `withTopic()` creates). */
  readonly channelTopic: string;
  readonly deadLetterTopic: string;
  readonly options: KafkaConsumerOptions;
  readonly logger: Logger;
  /**
   * An ephemeral reader (see `EphemeralPositions`): starts at the end of every partition and keeps
   * its positions in memory, never committing. @default false
   */
  readonly ephemeral?: boolean;
}

/** The core transport state of a Kafka consumer state. @internal */
export function toTransportState(state: KafkaConsumerState): ConsumerTransportState {
  if (state === 'starting') return 'rebalancing';
  if (state === 'stopping') return 'stopped';
  return state;
}

/**
 * The error a failed start rejects with: `GOMES_TOPIC_NOT_FOUND` naming the missing topics when
 * the driver says a topic is unknown (and the cluster confirms it), else the connection error.
 *
 * @internal
 */
export async function startFailure(
  config: SubscriptionConfig,
  error: unknown,
  where: string,
): Promise<GomesError> {
  const { driver, consumerName, groupId, topics, channelTopic } = config;
  if (isUnknownTopicError(error)) {
    const admin = driver.createAdmin();
    const missing = await admin
      .connect()
      .then(async () => findMissingTopics(admin, topics))
      .catch(() => [] as string[])
      .finally(async () => admin.disconnect().catch(() => undefined));
    if (missing.length > 0) return topicNotFoundError(consumerName, channelTopic, missing, error);
  }
  return toConnectionError(error, where, { groupId, topics: [...topics] });
}

/**
 * The lifecycle state of a Kafka consumer, when it last changed, and its crash/restart status, read
 * as the `ConsumerChannelStatus` of `gomes.health()`.
 *
 * @internal
 */
export class ConsumerStateClock {
  #value: KafkaConsumerState = 'starting';
  #since = Date.now();
  /** True from a crash until the restart loop ended (restarted, gave up or closed). */
  restarting = false;
  /** Why the consumer last crashed (or a restart failed). */
  crashReason: string | undefined;

  get value(): KafkaConsumerState {
    return this.#value;
  }

  set value(state: KafkaConsumerState) {
    if (state === this.#value) return;
    this.#value = state;
    this.#since = Date.now();
  }

  /**
   * `starting` (joining the group) counts as `rebalancing`, `stopping` as `stopped`; during a crash
   * restart an attempt under way stays `crashed` (with `restarting`) until the member runs again, so
   * a broker outage reads not ready, however long it lasts.
   */
  status(partitions: PartitionProgress[]): ConsumerChannelStatus {
    const state = this.restarting && this.#value === 'starting' ? 'crashed' : toTransportState(this.#value);
    return {
      state,
      since: this.#since,
      restarting: this.restarting,
      ...(state === 'crashed' && this.crashReason !== undefined ? { error: this.crashReason } : {}),
      partitions,
    };
  }
}
