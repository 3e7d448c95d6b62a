/**
 * The kafkajs admin client of the kafkajs driver (kafkajs-driver.ts): cluster and topic metadata,
 * topic creation, offsets and groups.
 *
 * @packageDocumentation
 */
import kafkajs from 'kafkajs';
import type { Admin } from 'kafkajs';
import { withLeaderRetry } from './kafkajs-leader-retry.js';
import { waitForTopicLeaders } from './topic-leader-wait.js';
import type {
  DriverAdmin,
  DriverClusterInfo,
  DriverPartitionOffsets,
  DriverTopicInfo,
  DriverTopicSpec,
} from './kafka-driver.js';

const { KafkaJSError, ConfigResourceTypes } = kafkajs;

/** The kafkajs {@link DriverAdmin}. @internal */
export class KafkajsAdmin implements DriverAdmin {
  readonly #admin: Admin;

  constructor(admin: Admin) {
    this.#admin = admin;
  }

  async connect(): Promise<void> {
    await this.#admin.connect();
  }

  async describeCluster(): Promise<DriverClusterInfo> {
    const info = await this.#admin.describeCluster();
    return {
      clusterId: info.clusterId,
      controller: info.controller,
      brokers: info.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
    };
  }

  async describeTopics(topics: readonly string[]): Promise<DriverTopicInfo[]> {
    const existing = new Set(await this.#admin.listTopics());
    const wanted = topics.filter((t) => existing.has(t));
    if (wanted.length === 0) return [];
    const { topics: meta } = await this.#admin.fetchTopicMetadata({ topics: wanted });
    return meta.map((t) => ({
      topic: t.name,
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    }));
  }

  async describeTopicConfigs(topic: string, names: readonly string[]): Promise<Record<string, string>> {
    const result = await this.#admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [...names] }],
    });
    const out: Record<string, string> = {};
    for (const resource of result.resources) {
      for (const entry of resource.configEntries) out[entry.configName] = entry.configValue;
    }
    return out;
  }

  async createTopics(specs: readonly DriverTopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    await this.#admin.createTopics({
      // kafkajs' own leader wait fails on the UNKNOWN_TOPIC_OR_PARTITION a broker may answer right
      // after the creation (seen with many partitions on a busy machine): wait here instead.
      waitForLeaders: false,
      topics: specs.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
      })),
    });
    await this.#waitForLeaders(specs.map((s) => s.topic));
  }

  /** Resolves once every partition of `topics` has a leader (see waitForTopicLeaders). */
  async #waitForLeaders(topics: readonly string[]): Promise<void> {
    await waitForTopicLeaders(
      topics,
      async () => {
        const { topics: meta } = await this.#admin.fetchTopicMetadata({ topics: [...topics] });
        return (
          meta.length === topics.length &&
          meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
        );
      },
      (message) => new KafkaJSError(message),
    );
  }

  async fetchTopicOffsets(topic: string): Promise<DriverPartitionOffsets[]> {
    const offsets = await this.#leaderRetry(topic, async () => this.#admin.fetchTopicOffsets(topic));
    return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
  }

  async fetchTopicOffsetsByTimestamp(
    topic: string,
    timestampMs: number,
  ): Promise<{ partition: number; offset: string }[]> {
    const offsets = await this.#leaderRetry(topic, async () =>
      this.#admin.fetchTopicOffsetsByTimestamp(topic, timestampMs),
    );
    return offsets.map((o) => ({ partition: o.partition, offset: o.offset }));
  }

  async fetchCommittedOffsets(
    groupId: string,
    topic: string,
  ): Promise<{ partition: number; offset: string }[]> {
    const result = await this.#admin.fetchOffsets({ groupId, topics: [topic] });
    return (result[0]?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset }));
  }

  async fetchEndOffsets(topic: string): Promise<{ partition: number; offset: string }[]> {
    const offsets = await this.#leaderRetry(topic, async () => this.#admin.fetchTopicOffsets(topic));
    return offsets.map((p) => ({ partition: p.partition, offset: p.high }));
  }

  /** Retries `request` while the topic's partition leadership moves (see withLeaderRetry). */
  async #leaderRetry<T>(topic: string, request: () => Promise<T>): Promise<T> {
    return withLeaderRetry(request, async () => this.#admin.fetchTopicMetadata({ topics: [topic] }));
  }

  async listGroups(): Promise<string[]> {
    const { groups } = await this.#admin.listGroups();
    return groups.map((g) => g.groupId);
  }

  async disconnect(): Promise<void> {
    await this.#admin.disconnect();
  }
}
