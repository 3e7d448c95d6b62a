import type {
  DriverConsumer,
  KafkaDriver,
  TopicPartitionOffset,
  TopicPartitions,
} from './driver/kafka-driver.js';

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * The read positions of an **ephemeral reader** (`KafkaConsumerChannelBuilder.asEphemeralReader`),
 * kept in memory instead of committed to the group, so the reader leaves no offsets behind and a
 * later reader never resumes from them:
 *
 * - {@link EphemeralPositions.atEnd} reads the end offset of every partition **before** the member
 *   joins its group; after each join, {@link EphemeralPositions.seekAssigned} seeks every assigned
 *   partition there (a kept partition seeks to where its reading continues itself), before the
 *   first fetch. So every record
 *   written after the subscription started is read, and none written before it.
 * - Commits of the subscription go to {@link EphemeralPositions.committer}: the acked prefix moves
 *   the position, so a rejoin (eviction, restart after a crash) continues from it.
 * - A partition that did not exist at start has no position: it is read from its beginning (the
 *   member subscribes `fromBeginning`), which holds only records written after the start.
 *
 * @internal
 */
export class EphemeralPositions {
  readonly #next = new Map<string, bigint>();

  private constructor() {}

  /** The end offsets of every partition of `topics`, read now. */
  static async atEnd(driver: KafkaDriver, topics: readonly string[]): Promise<EphemeralPositions> {
    const positions = new EphemeralPositions();
    const admin = driver.createAdmin();
    try {
      await admin.connect();
      for (const topic of topics) {
        for (const { partition, offset } of await admin.fetchEndOffsets(topic))
          positions.#next.set(key(topic, partition), BigInt(offset));
      }
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

  /**
   * After a group join: seeks every assigned partition that `placesItself` does not (a kept
   * partition that fetched already seeks to its own next offset) to its position. Partitions with
   * no position are left to the driver (read from the beginning).
   */
  seekAssigned(
    assignment: readonly TopicPartitions[],
    placesItself: (topic: string, partition: number) => boolean,
    seek: (topic: string, partition: number, offset: string) => void,
  ): void {
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) {
        const offset = this.get(topic, partition);
        if (offset !== undefined && !placesItself(topic, partition))
          seek(topic, partition, offset.toString());
      }
    }
  }
}
