import { randomBytes } from 'node:crypto';
import { ConfigurationError, type ChannelConnection } from '@gomes/core';
import {
  ConsumerChannelAdapterBuilder,
  type ChannelBuildContext,
  type PreflightContext,
} from '@gomes/core/transport';
import type { KafkaGroupProtocol } from './driver/kafka-driver.js';
import { KafkaConnection } from './kafka-connection.js';
import { KafkaConsumerChannel } from './kafka-consumer-channel.js';
import {
  DEFAULT_KAFKA_CONSUMER_OPTIONS,
  validateKafkaConsumerOptions,
  type KafkaConsumerOptions,
  type KafkaIsolationLevel,
  type KafkaStartOffset,
} from './kafka-consumer-options.js';
import { toConnectionError } from './kafka-errors.js';
import { KafkaMessageTranslator } from './kafka-message-translator.js';
import type { MessageSerializer } from './message-serializer.js';
import {
  ensureTopic,
  findMissingTopics,
  topicNotFoundError,
  type KafkaTopicSpec,
} from './topic-provisioner.js';

/**
 * Builds a {@link KafkaConsumerChannel} (Go gomes' `kafka.NewConsumerChannelAdapterBuilder(connectionName, topic, consumerName)`).
 * Immutable: each `with*` returns a new builder. The endpoint options (dead letter, retry,
 * interceptors, …) come from the core base class.
 *
 * Go gomes option → kafkajs mapping:
 *
 * | Go gomes | here | kafkajs | default (Go) |
 * |---|---|---|---|
 * | `WithPartition(n)` | `withPartition(n)` | custom assigner: only partition `n`, to one member (others stand by) | all (Go panics for n ≠ 0) |
 * | `WithGroupTopics(t...)` | `withGroupTopics(...t)` | `subscribe({ topics })` | channel topic |
 * | `WithQueueCapacity(n)` | `withMaxUnsettledPerPartition(n)` (deprecated alias `withQueueCapacity`) | per-partition bound of handed-over, unacked records; pause while reached | 100 (100) |
 * | `WithMinBytes(n)` | `withMinBytes(n)` | `minBytes` | 1 (1) |
 * | `WithMaxBytes(n)` | `withMaxBytes(n)` | `maxBytesPerPartition` (`maxBytes` = max(n, 10 MiB)) | 1 MiB (1 MB) |
 * | `WithMaxWait(d)` | `withMaxWait(ms)` | `maxWaitTimeInMs` | 500 (10 s) |
 * | `WithReadBatchTimeout(d)` | `withReadBatchTimeout(ms)` | **rejected** by `validate()`: no kafkajs equivalent; use the connection's `requestTimeoutMs` | — (10 s) |
 * | `WithHeartbeatInterval(d)` | `withHeartbeatInterval(ms)` | `heartbeatInterval` | 3000 (3 s) |
 * | `WithCommitInterval(d)` | `withCommitInterval(ms)` | gomes commit timer (auto-commit off); 0 = commit on every advance | 1000 (0 = sync) |
 * | `WithPartitionWatchInterval(d)` | `withPartitionWatchInterval(ms)` | `metadataMaxAge` when watching | 5000 (5 s) |
 * | `WithWatchPartitionChanges(b)` | `withWatchPartitionChanges(b)` | true: `metadataMaxAge` = watch interval; false: kafkajs' 5 min (kafkajs always rebalances on new partitions once it sees them) | false (false) |
 * | `WithSessionTimeout(d)` | `withSessionTimeout(ms)` | `sessionTimeout` | 30000 (30 s) |
 * | `WithRebalanceTimeout(d)` | `withRebalanceTimeout(ms)` | `rebalanceTimeout` | 30000 (30 s) |
 * | `WithStartOffset(o)` | `withStartOffset('earliest' \| 'latest')` | `subscribe({ fromBeginning })` | earliest (first) |
 * | `WithIsolationLevel(l)` | `withIsolationLevel('read_committed' \| 'read_uncommitted')` | `readUncommitted` | read_committed (uncommitted) |
 * | group id `<conn>:<consumer>` | `withGroupId(id)` | `groupId` | consumer name |
 * | — | `withGroupProtocol('consumer')` | KIP-848 (platformatic driver only) | classic |
 * | — | `withDeadLetterTopic(t)` | undecodable records | dead-letter channel name, else `<topic>.DLQ` |
 * | — | `withRestartPolicy({ maxRestarts, backoffMs, maxBackoffMs })` | `restartOnFailure: false` + gomes restarts (capped backoff, jitter; the crashed member is removed from the group first) | ∞, 1000, 5000 |
 * | — | `withTopic(spec)` | create the consumed topic when missing | never |
 *
 * For interop with an existing Go gomes consumer group, use `withGroupId('<connection>:<consumer>')`.
 *
 * @example
 * ```ts
 * gomes.addConsumerChannel(
 *   new KafkaConsumerChannelBuilder('kafka', 'order.events', 'order-service')
 *     .withMaxUnsettledPerPartition(500)
 *     .withDeadLetterChannelName('order.events.dlq'),
 * );
 * ```
 * @public
 */
export class KafkaConsumerChannelBuilder extends ConsumerChannelAdapterBuilder {
  /** The resolved options. */
  readonly options: Readonly<KafkaConsumerOptions> = DEFAULT_KAFKA_CONSUMER_OPTIONS;
  /** Set by {@link KafkaConsumerChannelBuilder.asEphemeralReader}: the reader it is private to. */
  readonly ephemeralReaderId: string | undefined = undefined;

  constructor(connectionName: string, topic: string, consumerName: string) {
    super(connectionName, topic, consumerName);
  }

  /** Consumer group id (default: the consumer name). */
  withGroupId(groupId: string): this {
    return this.withOptions({ groupId });
  }

  /**
   * The consumer group protocol: `'consumer'` is KIP-848 (Kafka 4.0+; the broker assigns partitions
   * incrementally, members join and leave without stopping the others). Needs the platformatic
   * driver: on kafkajs, `start()` fails with a ConfigurationError. See docs/kafka.md.
   */
  withGroupProtocol(protocol: KafkaGroupProtocol): this {
    return this.withOptions({ groupProtocol: protocol });
  }

  /** Consumes only this partition (one member of the group reads it). */
  withPartition(partition: number): this {
    return this.withOptions({ partition });
  }

  /**
   * The topic the group reads instead of the channel topic. One topic: a consumer reads one
   * partition space (several topics fail `start()` with a ConfigurationError; use one consumer
   * channel per topic).
   */
  withGroupTopics(...topics: string[]): this {
    return this.withOptions({ groupTopics: Object.freeze([...topics]) });
  }

  /**
   * Per-partition bound of buffered + unacked records (backpressure; option `queueCapacity`, default
   * 100). Event-driven consumers bound their buffer with the consumer's
   * `withMaxBufferedRecordsPerPartition`.
   */
  withMaxUnsettledPerPartition(records: number): this {
    return this.withOptions({ queueCapacity: records });
  }

  /**
   * @deprecated Use {@link KafkaConsumerChannelBuilder.withMaxUnsettledPerPartition} (the same
   * bound; "queue capacity" named different bounds on the consumer and in memory). Removed in the
   * next release.
   */
  withQueueCapacity(capacity: number): this {
    return this.withMaxUnsettledPerPartition(capacity);
  }

  /**
   * Does nothing: event-driven consumers of every Kafka channel run on gomes' consume core.
   * @deprecated The consume core is the only Kafka consume path; remove the call. Removed in the
   * next release.
   */
  withConsumeCore(_enabled = true): this {
    return this;
  }

  /** Fetch: least bytes the broker waits for. */
  withMinBytes(bytes: number): this {
    return this.withOptions({ minBytes: bytes });
  }

  /** Fetch: most bytes per partition. */
  withMaxBytes(bytes: number): this {
    return this.withOptions({ maxBytes: bytes });
  }

  /** Fetch: longest broker wait (ms). */
  withMaxWait(ms: number): this {
    return this.withOptions({ maxWaitMs: ms });
  }

  /** Not supported by kafkajs: `validate()` reports it (kept so ported code gets a clear message). */
  withReadBatchTimeout(ms: number): this {
    return this.withOptions({ readBatchTimeoutMs: ms });
  }

  /** Group heartbeat interval (ms). */
  withHeartbeatInterval(ms: number): this {
    return this.withOptions({ heartbeatIntervalMs: ms });
  }

  /** Commit period of acked offsets (ms); 0 commits on every advance. */
  withCommitInterval(ms: number): this {
    return this.withOptions({ commitIntervalMs: ms });
  }

  /** Metadata refresh period used to notice new partitions (ms). */
  withPartitionWatchInterval(ms: number): this {
    return this.withOptions({ partitionWatchIntervalMs: ms });
  }

  /** Notice added partitions every `partitionWatchIntervalMs`. */
  withWatchPartitionChanges(enabled = true): this {
    return this.withOptions({ watchPartitionChanges: enabled });
  }

  /** Group session timeout (ms). */
  withSessionTimeout(ms: number): this {
    return this.withOptions({ sessionTimeoutMs: ms });
  }

  /** Group rebalance timeout (ms). */
  withRebalanceTimeout(ms: number): this {
    return this.withOptions({ rebalanceTimeoutMs: ms });
  }

  /** Where a group with no committed offset starts. */
  withStartOffset(offset: KafkaStartOffset): this {
    return this.withOptions({ startOffset: offset });
  }

  /** Isolation level for transactional topics. */
  withIsolationLevel(level: KafkaIsolationLevel): this {
    return this.withOptions({ isolationLevel: level });
  }

  /** Topic for records that cannot be decoded. */
  withDeadLetterTopic(topic: string): this {
    return this.withOptions({ deadLetterTopic: topic });
  }

  /**
   * How a crashed kafkajs consumer is restarted: capped exponential backoff with jitter, starting at
   * `backoffMs` (1000) and capped at `maxBackoffMs` (5000), for as long as the channel runs unless
   * `maxRestarts` (default `Infinity`) bounds a crash loop — then the consumer gives up and
   * `gomes.health()` turns not live.
   */
  withRestartPolicy(policy: { maxRestarts?: number; backoffMs?: number; maxBackoffMs?: number }): this {
    return this.withOptions({
      maxRestarts: policy.maxRestarts ?? this.options.maxRestarts,
      restartBackoffMs: policy.backoffMs ?? this.options.restartBackoffMs,
      maxRestartBackoffMs: policy.maxBackoffMs ?? this.options.maxRestartBackoffMs,
    });
  }

  /** Creates the consumed topic at start when it is missing. */
  withTopic(spec: KafkaTopicSpec = {}): this {
    return this.withOptions({
      topic: { ...spec, ...(spec.configs ? { configs: { ...spec.configs } } : {}) },
    });
  }

  /** Replaces the record ⇄ message translator. */
  withMessageTranslator(translator: KafkaMessageTranslator): this {
    return this.withOptions({ translator });
  }

  /** Replaces the payload serializer (JSON by default). */
  withSerializer(serializer: MessageSerializer): this {
    return this.withOptions({ translator: new KafkaMessageTranslator(serializer) });
  }

  /**
   * A builder for an ephemeral reader private to `readerId` (gomes reads reply channels with it; see
   * `ConsumerChannelBuilder.asEphemeralReader` in `@gomes/core`). The channel it builds:
   *
   * - is the only member of a group of its own, `<groupId>.<readerId>.<random>` (a new one per build),
   *   so it reads every partition;
   * - reads the end offset of every partition before it joins and seeks there after joining, before
   *   the first fetch: `subscribe()` resolves positioned at the end, nothing written later is missed,
   *   nothing written earlier is read (partitions created later are read from their beginning);
   * - commits nothing: acked positions are kept in memory (and resumed from after a rebalance or a
   *   restart of the member). The broker holds no offsets for the group, and deletes it once it is
   *   empty (Kafka drops empty groups without offsets at its next offsets-retention check).
   *
   * `withStartOffset` and `withCommitInterval` do not apply to it; the other options do.
   */
  asEphemeralReader(readerId: string): this {
    return this.derive({ ephemeralReaderId: readerId } as Partial<Record<keyof this, unknown>>);
  }

  /** The group id used: `withGroupId`, else the consumer name. */
  get groupId(): string {
    return this.options.groupId ?? this.consumerName;
  }

  /** The dead-letter topic used for undecodable records. */
  get deadLetterTopic(): string {
    return (
      this.options.deadLetterTopic ?? this.endpointOptions.deadLetterChannelName ?? `${this.channelName}.DLQ`
    );
  }

  /** @inheritDoc */
  acceptsConnection(connection: ChannelConnection): boolean {
    return connection instanceof KafkaConnection;
  }

  /** The serializer's preflight (e.g. reader schemas checked against the registry), run by `start()`. */
  async preflight(context: PreflightContext): Promise<string[]> {
    return this.options.translator.preflight({
      role: 'consumer',
      topics: this.options.groupTopics ?? [this.channelName],
      channel: `consumer "${this.consumerName}"`,
      logger: context.logger,
    });
  }

  /** @inheritDoc */
  async build(context: ChannelBuildContext): Promise<KafkaConsumerChannel> {
    ConfigurationError.throwIfAny(this.validate(), `Kafka consumer "${this.consumerName}"`);
    const connection = context.connection;
    if (!(connection instanceof KafkaConnection)) {
      throw new ConfigurationError([
        `consumer "${this.consumerName}" needs a KafkaConnection, got "${connection.name}"`,
      ]);
    }
    const driver = connection.driver;
    if (!driver.supportedGroupProtocols.has(this.options.groupProtocol)) {
      throw new ConfigurationError([
        `consumer "${this.consumerName}": the ${this.options.groupProtocol} group protocol (withGroupProtocol) is not supported by the "${driver.name}" driver of connection "${connection.name}"; use the "platformatic" driver (KafkaConnection option driver: 'platformatic') or the classic protocol`,
      ]);
    }
    const logger = context.logger.child({ consumer: this.consumerName });
    const topics = this.options.groupTopics ?? [this.channelName];
    const admin = driver.createAdmin();
    let missing: string[];
    try {
      await admin.connect();
      if (this.options.topic) await ensureTopic(admin, this.channelName, this.options.topic, logger);
      missing = await findMissingTopics(admin, topics);
    } catch (error) {
      throw toConnectionError(error, `Kafka "${connection.name}" for consumer "${this.consumerName}"`, {
        topic: this.channelName,
      });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (missing.length > 0) throw topicNotFoundError(this.consumerName, this.channelName, missing);
    const readerId = this.ephemeralReaderId;
    return new KafkaConsumerChannel({
      driver,
      consumerName: this.consumerName,
      topic: this.channelName,
      groupId:
        readerId === undefined
          ? this.groupId
          : `${this.groupId}.${readerId}.${randomBytes(6).toString('hex')}`,
      deadLetterTopic: this.deadLetterTopic,
      // An ephemeral reader seeks every partition it knows; a partition it does not know is new.
      options:
        readerId === undefined
          ? this.options
          : { ...this.options, startOffset: 'earliest', commitIntervalMs: 0 },
      logger,
      ephemeral: readerId !== undefined,
    });
  }

  /** @inheritDoc */
  protected validateTransportOptions(): string[] {
    return validateKafkaConsumerOptions(this.options);
  }

  private withOptions(changes: Partial<KafkaConsumerOptions>): this {
    return this.derive({ options: Object.freeze({ ...this.options, ...changes }) } as Partial<
      Record<keyof this, unknown>
    >);
  }
}
