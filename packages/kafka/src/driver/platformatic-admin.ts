/**
 * {@link DriverAdmin} on `@platformatic/kafka`'s Admin client.
 *
 * @packageDocumentation
 */
import type { Logger } from '@gomes/core';
import type { Admin, BaseOptions } from '@platformatic/kafka';
import type {
  DriverAdmin,
  DriverClusterInfo,
  DriverPartitionOffsets,
  DriverTopicInfo,
  DriverTopicSpec,
} from './kafka-driver.js';
import type { PlatformaticKafka } from './platformatic-loader.js';
import { findApiId, normalizePlatformaticError } from './platformatic-errors.js';
import { waitForTopicLeaders } from './topic-leader-wait.js';

/** ListOffsets timestamps: the earliest and the latest offset. */
const EARLIEST = -2n;
const LATEST = -1n;
const READ_COMMITTED = 1;
const TOPIC_RESOURCE = 2;

/** @internal */
export class PlatformaticAdmin implements DriverAdmin {
  readonly #admin: Admin;

  constructor(kafka: PlatformaticKafka, options: BaseOptions, _logger: Logger) {
    this.#admin = new kafka.Admin(options);
  }

  async connect(): Promise<void> {
    await this.#call(async () => this.#admin.listApis());
  }

  async describeCluster(): Promise<DriverClusterInfo> {
    const metadata = await this.#call(async () => this.#admin.metadata({ topics: [], forceUpdate: true }));
    return {
      clusterId: metadata.id,
      controller: metadata.controllerId >= 0 ? metadata.controllerId : null,
      brokers: [...metadata.brokers].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port })),
    };
  }

  async describeTopics(topics: readonly string[]): Promise<DriverTopicInfo[]> {
    const existing = new Set(await this.#call(async () => this.#admin.listTopics()));
    const wanted = topics.filter((t) => existing.has(t));
    if (wanted.length === 0) return [];
    const metadata = await this.#metadata(wanted);
    return wanted.flatMap((topic) => {
      const info = metadata.topics.get(topic);
      if (!info) return [];
      return [
        {
          topic,
          partitions: info.partitionsCount,
          replicationFactor: info.partitions[0]?.replicas.length ?? 0,
        },
      ];
    });
  }

  async describeTopicConfigs(topic: string, names: readonly string[]): Promise<Record<string, string>> {
    const result = await this.#call(async () =>
      this.#admin.describeConfigs({
        resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: [...names] }],
        includeSynonyms: false,
      }),
    );
    const out: Record<string, string> = {};
    for (const resource of result) {
      for (const config of resource.configs)
        if (config.value !== null && config.value !== undefined) out[config.name] = config.value;
    }
    return out;
  }

  async createTopics(specs: readonly DriverTopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    for (const spec of specs) {
      try {
        await this.#call(async () =>
          this.#admin.createTopics({
            topics: [spec.topic],
            partitions: spec.partitions,
            replicas: spec.replicationFactor,
            configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          }),
        );
      } catch (error) {
        // Created meanwhile (by another member starting at the same time): it exists, as wanted.
        if (findApiId(error) !== 'TOPIC_ALREADY_EXISTS') throw error;
      }
    }
    await this.#waitForLeaders(specs.map((s) => s.topic));
  }

  /** Resolves once every partition of `topics` has a leader (see waitForTopicLeaders). */
  async #waitForLeaders(topics: readonly string[]): Promise<void> {
    await waitForTopicLeaders(
      topics,
      async () => {
        const metadata = await this.#metadata(topics);
        return topics.every((t) => {
          const info = metadata.topics.get(t);
          return (
            info !== undefined && info.partitionsCount > 0 && info.partitions.every((p) => p.leader >= 0)
          );
        });
      },
      (message) => new Error(message),
    );
  }

  async fetchTopicOffsets(topic: string): Promise<DriverPartitionOffsets[]> {
    const partitions = await this.#partitions(topic);
    const [low, high] = await Promise.all([
      this.#listOffsets(topic, partitions, EARLIEST),
      this.#listOffsets(topic, partitions, LATEST),
    ]);
    return partitions.map((partition) => ({
      partition,
      low: (low.get(partition) ?? 0n).toString(),
      high: (high.get(partition) ?? 0n).toString(),
    }));
  }

  async fetchTopicOffsetsByTimestamp(
    topic: string,
    timestampMs: number,
  ): Promise<{ partition: number; offset: string }[]> {
    const partitions = await this.#partitions(topic);
    const [at, high] = await Promise.all([
      this.#listOffsets(topic, partitions, BigInt(timestampMs)),
      this.#listOffsets(topic, partitions, LATEST),
    ]);
    return partitions.map((partition) => {
      const offset = at.get(partition);
      // No record at or after the timestamp: the end of the partition.
      return {
        partition,
        offset: (offset === undefined || offset < 0n ? (high.get(partition) ?? 0n) : offset).toString(),
      };
    });
  }

  async fetchCommittedOffsets(
    groupId: string,
    topic: string,
  ): Promise<{ partition: number; offset: string }[]> {
    const partitions = await this.#partitions(topic);
    const groups = await this.#call(async () =>
      this.#admin.listConsumerGroupOffsets({
        groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }],
      }),
    );
    const committed = new Map<number, bigint>();
    for (const group of groups)
      for (const t of group.topics)
        if (t.name === topic)
          for (const p of t.partitions) committed.set(p.partitionIndex, p.committedOffset);
    return partitions.map((partition) => ({
      partition,
      offset: (committed.get(partition) ?? -1n).toString(),
    }));
  }

  async fetchEndOffsets(topic: string): Promise<{ partition: number; offset: string }[]> {
    const offsets = await this.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, offset: o.high }));
  }

  async listGroups(): Promise<string[]> {
    const groups = await this.#call(async () => this.#admin.listGroups());
    return [...groups.keys()];
  }

  async disconnect(): Promise<void> {
    await this.#admin.close();
  }

  /**
   * Removes `memberId` from `groupId` (a LeaveGroup sent on its behalf). Resolves `true` when it was
   * removed, `false` when the group did not know it.
   */
  async removeMember(groupId: string, memberId: string): Promise<boolean> {
    try {
      await this.#call(async () =>
        this.#admin.removeMembersFromConsumerGroup({ groupId, members: [{ memberId }] }),
      );
      return true;
    } catch (error) {
      if (findApiId(error) === 'UNKNOWN_MEMBER_ID') return false;
      throw error;
    }
  }

  async #metadata(topics: readonly string[]): ReturnType<Admin['metadata']> {
    return this.#call(async () => this.#admin.metadata({ topics: [...topics], forceUpdate: true }));
  }

  async #partitions(topic: string): Promise<number[]> {
    const metadata = await this.#metadata([topic]);
    const info = metadata.topics.get(topic);
    if (!info) {
      throw Object.assign(new Error(`Topic "${topic}" does not exist`), {
        type: 'UNKNOWN_TOPIC_OR_PARTITION',
      });
    }
    return Array.from({ length: info.partitionsCount }, (_, i) => i);
  }

  async #listOffsets(
    topic: string,
    partitions: readonly number[],
    timestamp: bigint,
  ): Promise<Map<number, bigint>> {
    const result = await this.#call(async () =>
      this.#admin.listOffsets({
        topics: [
          { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
        ],
        isolationLevel: READ_COMMITTED,
      }),
    );
    const offsets = new Map<number, bigint>();
    for (const t of result) for (const p of t.partitions) offsets.set(p.partitionIndex, p.offset);
    return offsets;
  }

  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw normalizePlatformaticError(error);
    }
  }
}
