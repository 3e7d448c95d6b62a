import type { DriverConsumer, TopicPartitionOffset } from './driver/kafka-driver.js';
import { toConnectionError } from './kafka-errors.js';
import type { SubscriptionConfig } from './kafka-consumer-state.js';

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * The read positions of an **ephemeral reader** (`KafkaConsumerChannelBuilder.asEphemeralReader`),
 * kept in memory instead of committed to the group, so the reader leaves no offsets behind and a
 * later reader never resumes from them:
 *
 * - {@link EphemeralPositions.atEnd} reads the end offset of every partition **before** the member
 *   joins its group; after each join, the `KafkaSource` seeks every newly assigned partition there
 *   before its first fetch (a kept partition continues where it was). So every record written after
 *   the subscription started is read, and none written before it.
 * - Commits of the source go to {@link EphemeralPositions.committer}: the acked prefix moves the
 *   position, so a rejoin (eviction, restart after a crash) continues from it.
 * - A partition that did not exist at start has no position: it is read from its beginning (the
 *   member subscribes `fromBeginning`), which holds only records written after the start.
 *
 * @internal
 */
export class EphemeralPositions {
  readonly #next = new Map<string, bigint>();
  /** The offset after the last fetched record of each owned partition. */
  readonly #fetched = new Map<string, bigint>();

  private constructor() {}

  /** The end offsets of every partition of the consumer's topics, read now. */
  static async atEnd(config: SubscriptionConfig): Promise<EphemeralPositions> {
    const { driver, topics, groupId, consumerName } = config;
    const positions = new EphemeralPositions();
    const admin = driver.createAdmin();
    try {
      await admin.connect();
      for (const topic of topics) {
        for (const { partition, offset } of await admin.fetchEndOffsets(topic))
          positions.#next.set(key(topic, partition), BigInt(offset));
      }
    } catch (error) {
      throw toConnectionError(error, `Kafka for consumer "${consumerName}" (group "${groupId}")`, {
        groupId,
        topics: [...topics],
      });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    return positions;
  }

  /** Where reading `topic`/`partition` continues, when known. */
  get(topic: string, partition: number): bigint | undefined {
    return this.#next.get(key(topic, partition));
  }

  /** Stands in for the member's commit: moves the positions (never backwards); always "stored". */
  readonly committer: Pick<DriverConsumer, 'commit'> = {
    commit: async (offsets: readonly TopicPartitionOffset[]) => {
      for (const o of offsets) {
        const k = key(o.topic, o.partition);
        const offset = BigInt(o.offset);
        if ((this.#next.get(k) ?? -1n) < offset) this.#next.set(k, offset);
      }
      return Promise.resolve(true);
    },
  };

  /** A batch of `partition` was handed over; its next fetch starts at `next`. */
  fetched(topic: string, partition: number, next: bigint): void {
    this.#fetched.set(key(topic, partition), next);
  }

  /** `partitions` were revoked: their fetch positions are forgotten. */
  released(topic: string, partitions: readonly number[]): void {
    for (const p of partitions) this.#fetched.delete(key(topic, p));
  }

  /**
   * After a group join, before any fetch: seeks every assigned partition — a kept partition that
   * fetched already to its next fetch (the group has no committed offset to continue from), any
   * other to its position. Partitions with no position are left to the driver (read from the beginning).
   */
  seekAssigned(
    topic: string,
    partitions: readonly number[],
    seek: (partition: number, offset: string) => void,
  ): void {
    for (const p of partitions) {
      const offset = this.#fetched.get(key(topic, p)) ?? this.get(topic, p);
      if (offset !== undefined) seek(p, offset.toString());
    }
  }
}
