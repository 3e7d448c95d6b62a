import { GomesError, type Logger } from '@gomes/core';
import type { DriverAdmin } from './driver/kafka-driver.js';

/**
 * How a topic is created when it does not exist (`withTopic(...)` on the builders).
 *
 * @public
 */
export interface KafkaTopicSpec {
  /** Number of partitions. @default 1 */
  partitions?: number;
  /** Replication factor. @default min(3, number of brokers) */
  replicationFactor?: number;
  /** Topic configs, e.g. `{ 'retention.ms': '604800000', 'cleanup.policy': 'compact' }`. @default {} */
  configs?: Record<string, string>;
}

/** Problems with a topic spec (empty when valid). @internal */
export function validateTopicSpec(spec: KafkaTopicSpec, where: string): string[] {
  const problems: string[] = [];
  if (spec.partitions !== undefined && (!Number.isInteger(spec.partitions) || spec.partitions < 1)) {
    problems.push(`${where}: topic partitions must be an integer >= 1, got ${String(spec.partitions)}`);
  }
  if (
    spec.replicationFactor !== undefined &&
    (!Number.isInteger(spec.replicationFactor) || spec.replicationFactor < 1)
  ) {
    problems.push(
      `${where}: topic replicationFactor must be an integer >= 1, got ${String(spec.replicationFactor)}`,
    );
  }
  for (const [name, value] of Object.entries(spec.configs ?? {})) {
    if (typeof value !== 'string') problems.push(`${where}: topic config "${name}" must be a string`);
  }
  return problems;
}

/**
 * Creates `topic` with `spec` unless it exists. An existing topic is left as it is (a warning is
 * logged when it has fewer partitions than asked).
 *
 * @returns `true` when the topic was created.
 * @internal
 */
export async function ensureTopic(
  admin: DriverAdmin,
  topic: string,
  spec: KafkaTopicSpec,
  logger: Logger,
): Promise<boolean> {
  const wanted = spec.partitions ?? 1;
  const [existing] = await admin.describeTopics([topic]);
  if (existing) {
    if (existing.partitions < wanted) {
      logger.warn('Topic exists with fewer partitions than configured; left unchanged', {
        topic,
        partitions: existing.partitions,
        configured: wanted,
      });
    }
    return false;
  }
  const cluster = await admin.describeCluster();
  const replicationFactor = spec.replicationFactor ?? Math.max(1, Math.min(3, cluster.brokers.length));
  await admin.createTopics([
    { topic, partitions: wanted, replicationFactor, configs: { ...(spec.configs ?? {}) } },
  ]);
  logger.info('Topic created', { topic, partitions: wanted, replicationFactor });
  return true;
}

/** The topics of `topics` that do not exist on the cluster, in the order given. @internal */
export async function findMissingTopics(admin: DriverAdmin, topics: readonly string[]): Promise<string[]> {
  const existing = new Set((await admin.describeTopics(topics)).map((t) => t.topic));
  return topics.filter((t) => !existing.has(t));
}

/**
 * `GOMES_TOPIC_NOT_FOUND` for a consumer whose topics do not exist, naming them and saying what to
 * do: create them, or — for the channel topic — `withTopic()` on the consumer builder.
 *
 * @internal
 */
export function topicNotFoundError(
  consumerName: string,
  channelTopic: string,
  missing: readonly string[],
  cause?: unknown,
): GomesError {
  const one = missing.length === 1;
  const names = missing.map((t) => `"${t}"`).join(', ');
  const remedy = missing.includes(channelTopic)
    ? `create ${one ? 'it' : 'them'}, or add withTopic({ partitions }) to the builder of consumer "${consumerName}" so that start() creates "${channelTopic}"`
    : `create ${one ? 'it' : 'them'} (withTopic() only creates the channel topic "${channelTopic}")`;
  return new GomesError(
    'TOPIC_NOT_FOUND',
    `Kafka topic${one ? '' : 's'} ${names} read by consumer "${consumerName}" ${one ? 'does' : 'do'} not exist: ${remedy}`,
    { details: { consumer: consumerName, topics: [...missing] }, ...(cause === undefined ? {} : { cause }) },
  );
}
