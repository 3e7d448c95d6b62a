import type { DriverConsumerOptions, KafkaGroupProtocol } from './driver/kafka-driver.js';
import { KafkaMessageTranslator } from './kafka-message-translator.js';
import { validateTopicSpec, type KafkaTopicSpec } from './topic-provisioner.js';

/** Where a new consumer group starts reading. @public */
export type KafkaStartOffset = 'earliest' | 'latest';

/** Which records a consumer reads on topics written by transactional producers. @public */
export type KafkaIsolationLevel = 'read_uncommitted' | 'read_committed';

/**
 * Options of a Kafka consumer channel (set through {@link KafkaConsumerChannelBuilder}). Durations
 * are milliseconds. See the builder for the Go gomes → kafkajs mapping.
 *
 * @public
 */
export interface KafkaConsumerOptions {
  /** Consumer group id. @default the consumer name */
  readonly groupId: string | undefined;
  /**
   * Consumer group protocol: `classic`, or `consumer` (KIP-848: broker-side incremental assignment,
   * Kafka 4.0+). `consumer` needs the platformatic driver (on kafkajs, `start()` fails with a
   * ConfigurationError), and does not go with `partition`; the broker then owns the session timeout
   * and heartbeat interval (`group.consumer.*`), so `sessionTimeoutMs` and `heartbeatIntervalMs` do
   * not apply. @default 'classic'
   */
  readonly groupProtocol: KafkaGroupProtocol;
  /**
   * The topic consumed by the group instead of the channel topic (Go `WithGroupTopics`); one topic
   * (a consumer reads one partition space). @default [channel topic]
   */
  readonly groupTopics: readonly string[] | undefined;
  /** Consume only this partition (Go `WithPartition`): one member of the group reads it, others stand by. @default all */
  readonly partition: number | undefined;
  /**
   * Most records per partition handed over and not yet acked or nacked; while reached, hand-over
   * waits and the partition is paused. Fetched records are buffered separately, bounded by `maxBytes`
   * (see `KafkaConsumerChannel`). @default 100
   */
  readonly queueCapacity: number;
  /** Fetch: least bytes the broker waits for. @default 1 */
  readonly minBytes: number;
  /**
   * Fetch: most bytes per partition (kafkajs `maxBytesPerPartition`). Also bounds the prefetch
   * buffer: no new fetch while more than `maxBytes` / 2 of a partition is buffered. @default 1048576
   */
  readonly maxBytes: number;
  /** Fetch: longest broker wait when `minBytes` is not reached (also bounds how fast pause/resume/seek apply). @default 500 */
  readonly maxWaitMs: number;
  /** Go `WithReadBatchTimeout`: kafkajs has no equivalent; setting it is rejected (use the connection's `requestTimeoutMs`). */
  readonly readBatchTimeoutMs: number | undefined;
  /** Group heartbeat interval; must be below `sessionTimeoutMs` / 3 is advised. @default 3000 */
  readonly heartbeatIntervalMs: number;
  /** How often acked offsets are committed; 0 commits as soon as the committable offset moves. @default 1000 */
  readonly commitIntervalMs: number;
  /** Metadata refresh period used to notice new partitions when `watchPartitionChanges` is on (kafkajs `metadataMaxAge`). @default 5000 */
  readonly partitionWatchIntervalMs: number;
  /** Notice added partitions quickly (refresh metadata every `partitionWatchIntervalMs`); off = kafkajs' 5-minute refresh. @default false */
  readonly watchPartitionChanges: boolean;
  /** Group session timeout. @default 30000 */
  readonly sessionTimeoutMs: number;
  /** Group rebalance timeout. @default 30000 */
  readonly rebalanceTimeoutMs: number;
  /** Where a group with no committed offset starts. @default 'earliest' */
  readonly startOffset: KafkaStartOffset;
  /** Isolation level. @default 'read_committed' */
  readonly isolationLevel: KafkaIsolationLevel;
  /** Topic for records that cannot be decoded. @default the endpoint dead-letter channel name, else `<topic>.DLQ` */
  readonly deadLetterTopic: string | undefined;
  /**
   * Restarts in a row of a crashed kafkajs consumer before it gives up (each crash is reported; the
   * count resets after a minute of running). `Infinity`: never give up — a broker outage of any length
   * heals by itself. A finite number makes a crash loop end the consumer (`gomes.health()` not live).
   * @default Infinity
   */
  readonly maxRestarts: number;
  /** First restart delay, doubled per restart in a row up to `maxRestartBackoffMs` (with jitter: d/2..d). @default 1000 */
  readonly restartBackoffMs: number;
  /**
   * Cap of the restart delay: the longest wait between two restart attempts, so also how long a
   * consumer may take to notice that the broker is back. @default 5000
   */
  readonly maxRestartBackoffMs: number;
  /** Create the consumed topic at start when it is missing. @default undefined (never create) */
  readonly topic: KafkaTopicSpec | undefined;
  /** Record ⇄ message translation. @default JSON */
  readonly translator: KafkaMessageTranslator;
}

/** Defaults of {@link KafkaConsumerOptions}. @public */
export const DEFAULT_KAFKA_CONSUMER_OPTIONS: Readonly<KafkaConsumerOptions> = Object.freeze({
  groupId: undefined,
  groupProtocol: 'classic',
  groupTopics: undefined,
  partition: undefined,
  queueCapacity: 100,
  minBytes: 1,
  maxBytes: 1048576,
  maxWaitMs: 500,
  readBatchTimeoutMs: undefined,
  heartbeatIntervalMs: 3000,
  commitIntervalMs: 1000,
  partitionWatchIntervalMs: 5000,
  watchPartitionChanges: false,
  sessionTimeoutMs: 30000,
  rebalanceTimeoutMs: 30000,
  startOffset: 'earliest',
  isolationLevel: 'read_committed',
  deadLetterTopic: undefined,
  maxRestarts: Infinity,
  restartBackoffMs: 1000,
  maxRestartBackoffMs: 5000,
  topic: undefined,
  translator: new KafkaMessageTranslator(),
});

/** Every problem with `o` (empty when valid). @public */
export function validateKafkaConsumerOptions(o: KafkaConsumerOptions): string[] {
  const problems: string[] = [];
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min)
      problems.push(`${name} must be an integer >= ${min}, got ${String(v)}`);
  };
  if (o.groupId !== undefined && o.groupId.trim() === '') problems.push('groupId must not be empty');
  if (o.groupProtocol !== 'classic' && o.groupProtocol !== 'consumer') {
    problems.push(`groupProtocol must be 'classic' or 'consumer', got ${String(o.groupProtocol)}`);
  }
  if (o.groupProtocol === 'consumer' && o.partition !== undefined) {
    problems.push(
      'withPartition cannot be used with the consumer group protocol (KIP-848): the broker assigns the partitions; use the classic protocol',
    );
  }
  if (o.groupTopics !== undefined && o.groupTopics.length > 1) {
    problems.push(
      `groupTopics names ${o.groupTopics.length} topics: a consumer reads one topic; use one consumer channel per topic`,
    );
  }
  if (o.groupTopics !== undefined) {
    if (o.groupTopics.length === 0) problems.push('groupTopics must name at least one topic');
    if (o.groupTopics.some((t) => !t)) problems.push('groupTopics must not contain empty names');
  }
  if (o.partition !== undefined) int('partition', o.partition, 0);
  int('queueCapacity', o.queueCapacity, 1);
  int('minBytes', o.minBytes, 1);
  int('maxBytes', o.maxBytes, 1);
  if (o.maxBytes < o.minBytes) problems.push(`maxBytes (${o.maxBytes}) must be >= minBytes (${o.minBytes})`);
  int('maxWaitMs', o.maxWaitMs, 1);
  if (o.readBatchTimeoutMs !== undefined) {
    problems.push(
      'withReadBatchTimeout is not supported by the kafkajs driver (kafka-go only); bound broker requests with the connection option requestTimeoutMs instead',
    );
  }
  int('heartbeatIntervalMs', o.heartbeatIntervalMs, 1);
  int('commitIntervalMs', o.commitIntervalMs, 0);
  int('partitionWatchIntervalMs', o.partitionWatchIntervalMs, 1);
  int('sessionTimeoutMs', o.sessionTimeoutMs, 1);
  int('rebalanceTimeoutMs', o.rebalanceTimeoutMs, 1);
  if (o.heartbeatIntervalMs >= o.sessionTimeoutMs) {
    problems.push(
      `heartbeatIntervalMs (${o.heartbeatIntervalMs}) must be below sessionTimeoutMs (${o.sessionTimeoutMs})`,
    );
  }
  if (o.startOffset !== 'earliest' && o.startOffset !== 'latest') {
    problems.push(`startOffset must be 'earliest' or 'latest', got ${String(o.startOffset)}`);
  }
  if (o.isolationLevel !== 'read_committed' && o.isolationLevel !== 'read_uncommitted') {
    problems.push(
      `isolationLevel must be 'read_committed' or 'read_uncommitted', got ${String(o.isolationLevel)}`,
    );
  }
  if (o.deadLetterTopic !== undefined && o.deadLetterTopic === '')
    problems.push('deadLetterTopic must not be empty');
  if (o.maxRestarts !== Infinity) int('maxRestarts', o.maxRestarts, 0);
  int('restartBackoffMs', o.restartBackoffMs, 0);
  int('maxRestartBackoffMs', o.maxRestartBackoffMs, 1);
  if (o.maxRestartBackoffMs < o.restartBackoffMs) {
    problems.push(
      `maxRestartBackoffMs (${o.maxRestartBackoffMs}) must be >= restartBackoffMs (${o.restartBackoffMs})`,
    );
  }
  if (o.topic) problems.push(...validateTopicSpec(o.topic, 'withTopic'));
  return problems;
}

/** The driver settings of a group member of `groupId` with options `o`. @internal */
export function toDriverConsumerOptions(groupId: string, o: KafkaConsumerOptions): DriverConsumerOptions {
  return {
    groupId,
    groupProtocol: o.groupProtocol,
    sessionTimeoutMs: o.sessionTimeoutMs,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    minBytes: o.minBytes,
    maxBytes: Math.max(o.maxBytes, 10485760),
    maxBytesPerPartition: o.maxBytes,
    maxWaitTimeMs: o.maxWaitMs,
    readCommitted: o.isolationLevel === 'read_committed',
    metadataMaxAgeMs: o.watchPartitionChanges ? o.partitionWatchIntervalMs : 300000,
    onlyPartitions: o.partition === undefined ? undefined : [o.partition],
    allowAutoTopicCreation: false,
  };
}
