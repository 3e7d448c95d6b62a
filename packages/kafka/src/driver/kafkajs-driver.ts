// The ambient `kafkajs-snappy` declaration must also load when only test files are compiled.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./kafkajs-snappy.d.ts" />
/**
 * The kafkajs implementation of {@link KafkaDriver}. This is the only module that imports kafkajs.
 *
 * @packageDocumentation
 */
import type { LogFields, Logger } from '@gomes/core';
import kafkajs from 'kafkajs';
import type {
  Admin,
  Assigner,
  Consumer,
  IHeaders,
  KafkaConfig,
  LogEntry,
  PartitionAssigner,
  Producer,
  SASLOptions,
} from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import { clampKafkajsTimers } from './kafkajs-node24.js';
import { lz4Codec, zstdCodec } from './compression-codecs.js';
import { withLeaderRetry } from './kafkajs-leader-retry.js';
import type { ConnectionOptions } from 'node:tls';
import type {
  CompressionCodec,
  DriverAdmin,
  DriverBatchHandler,
  DriverClusterInfo,
  DriverConsumer,
  DriverConsumerListener,
  DriverConsumerOptions,
  DriverPartitionOffsets,
  DriverOutboundRecord,
  DriverProduceRequest,
  DriverProducer,
  DriverProducerOptions,
  DriverRecordMetadata,
  DriverTopicInfo,
  DriverTopicSpec,
  KafkaDriver,
  KafkaDriverConfig,
  KafkaGroupProtocol,
  TopicPartitionOffset,
  TopicPartitions,
} from './kafka-driver.js';

const {
  Kafka,
  KafkaJSError,
  CompressionTypes,
  CompressionCodecs,
  Partitioners,
  AssignerProtocol,
  ConfigResourceTypes,
  logLevel,
} = kafkajs;

// kafkajs ships only gzip; snappy (kafkajs-snappy), lz4 (lz4js) and zstd (zstd-codec, WebAssembly)
// are pure-JS codecs registered once, globally in kafkajs, so consumers can also read records that
// other clients compressed with them.
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.Snappy] = SnappyCodec;
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.LZ4] = lz4Codec;
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.ZSTD] = zstdCodec;
clampKafkajsTimers();

const SUPPORTED_COMPRESSION: ReadonlySet<CompressionCodec> = new Set<CompressionCodec>([
  'none',
  'gzip',
  'snappy',
  'lz4',
  'zstd',
]);

const COMPRESSION_TYPES: Record<CompressionCodec, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/**
 * Creates a kafkajs-backed driver.
 *
 * @internal
 */
export function createKafkajsDriver(config: KafkaDriverConfig): KafkaDriver {
  return new KafkajsDriver(config);
}

const GROUP_PROTOCOLS: ReadonlySet<KafkaGroupProtocol> = new Set<KafkaGroupProtocol>(['classic']);

class KafkajsDriver implements KafkaDriver {
  readonly name = 'kafkajs' as const;
  readonly supportedCompression = SUPPORTED_COMPRESSION;
  /** kafkajs has no KIP-848 (consumer group protocol). */
  readonly supportedGroupProtocols = GROUP_PROTOCOLS;
  readonly #config: KafkaDriverConfig;

  constructor(config: KafkaDriverConfig) {
    this.#config = config;
  }

  createProducer(options: DriverProducerOptions): DriverProducer {
    const requestTimeoutMs = producerRequestTimeoutMs(
      this.#config.requestTimeoutMs,
      options.produceTimeoutMs,
    );
    const kafka = this.#client(this.#config.retries, requestTimeoutMs);
    const producer = kafka.producer({
      idempotent: options.idempotent,
      maxInFlightRequests: options.maxInFlightRequests,
      allowAutoTopicCreation: options.allowAutoTopicCreation,
      // murmur2, Java-compatible: the same key lands on the same partition as with Java/Go clients.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { ...this.#retry(options.maxAttempts - 1) },
    });
    return new KafkajsProducer(producer, options.produceTimeoutMs);
  }

  createConsumer(options: DriverConsumerOptions): DriverConsumer {
    const kafka = this.#client(this.#config.retries);
    const consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      minBytes: options.minBytes,
      maxBytes: options.maxBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTimeInMs: options.maxWaitTimeMs,
      readUncommitted: !options.readCommitted,
      metadataMaxAge: options.metadataMaxAgeMs,
      allowAutoTopicCreation: options.allowAutoTopicCreation,
      ...(options.onlyPartitions
        ? { partitionAssigners: [fixedPartitionsAssigner(options.onlyPartitions)] }
        : {}),
      // gomes restarts crashed consumers itself (bounded, with backoff, reported): never kafkajs.
      retry: { ...this.#retry(this.#config.retries), restartOnFailure: async () => false },
    });
    return new KafkajsConsumer(consumer, kafka, options.groupId);
  }

  createAdmin(options: { retries?: number } = {}): DriverAdmin {
    const kafka = this.#client(options.retries ?? this.#config.retries);
    return new KafkajsAdmin(kafka.admin({ retry: this.#retry(options.retries ?? this.#config.retries) }));
  }

  #retry(retries: number): { retries: number; initialRetryTime: number; maxRetryTime: number } {
    return {
      retries: Math.max(0, retries),
      initialRetryTime: this.#config.initialRetryTimeMs,
      maxRetryTime: this.#config.maxRetryTimeMs,
    };
  }

  #client(retries: number, requestTimeoutMs = this.#config.requestTimeoutMs): InstanceType<typeof Kafka> {
    const c = this.#config;
    const kafkaConfig: KafkaConfig = {
      brokers: [...c.brokers],
      clientId: c.clientId,
      connectionTimeout: c.connectionTimeoutMs,
      requestTimeout: requestTimeoutMs,
      authenticationTimeout: c.authenticationTimeoutMs,
      enforceRequestTimeout: true,
      retry: this.#retry(retries),
      logLevel: logLevel.INFO,
      logCreator: () => (entry: LogEntry) => forwardLog(c.logger, entry),
    };
    if (c.tls) kafkaConfig.ssl = toTlsOptions(c);
    if (c.sasl) {
      kafkaConfig.sasl = {
        mechanism: c.sasl.mechanism,
        username: c.sasl.username,
        password: c.sasl.password.reveal(),
      } as SASLOptions;
    }
    return new Kafka(kafkaConfig);
  }
}

/** How much longer than the produce timeout the client waits for a produce response at least. */
const PRODUCE_TIMEOUT_MARGIN_MS = 5000;

/**
 * The client request timeout of a producer: the connection's `requestTimeoutMs`, raised when needed
 * so it stays clearly above the produce timeout (the broker's wait for acks), by at least 5 s and
 * 20 %. Otherwise the client gives up on requests the broker may still append, and retries of an
 * idempotent producer become ambiguous.
 *
 * @internal
 */
export function producerRequestTimeoutMs(clientRequestTimeoutMs: number, produceTimeoutMs: number): number {
  const margin = Math.max(PRODUCE_TIMEOUT_MARGIN_MS, Math.ceil(produceTimeoutMs * 0.2));
  return Math.max(clientRequestTimeoutMs, produceTimeoutMs + margin);
}

function toTlsOptions(c: KafkaDriverConfig): ConnectionOptions {
  const tls = c.tls;
  if (!tls) return {};
  const options: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized ?? true };
  if (tls.ca !== undefined)
    options.ca = Array.isArray(tls.ca) ? [...(tls.ca as (string | Buffer)[])] : (tls.ca as string | Buffer);
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key.reveal();
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

/** Sends kafkajs log lines to the gomes logger (kafkajs INFO lines are demoted to debug). */
function forwardLog(logger: Logger, entry: LogEntry): void {
  const { message, timestamp: _ts, ...rest } = entry.log;
  const fields: LogFields = { ...(rest as Record<string, unknown>), kafkajs: entry.namespace };
  const text = `kafkajs: ${message}`;
  if (entry.level === logLevel.ERROR) logger.error(text, fields);
  else if (entry.level === logLevel.WARN) logger.warn(text, fields);
  else logger.debug(text, fields);
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name in headers) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return out;
}

class KafkajsProducer implements DriverProducer {
  readonly #producer: Producer;
  readonly #produceTimeoutMs: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(producer: Producer, produceTimeoutMs: number) {
    this.#producer = producer;
    this.#produceTimeoutMs = produceTimeoutMs;
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
  }

  async send(request: DriverProduceRequest): Promise<DriverRecordMetadata[]> {
    const promise = this.#producer.send({
      topic: request.topic,
      acks: request.acks,
      // Never above the timeout the client request timeout was derived from.
      timeout: Math.min(request.timeoutMs, this.#produceTimeoutMs),
      compression: COMPRESSION_TYPES[request.compression],
      // The records as they are: kafkajs only reads key, value, headers and partition (it never
      // writes to a message), and a record has no `timestamp`, so kafkajs stamps the send time.
      messages: request.records as DriverOutboundRecord[],
    });
    this.#inFlight.add(promise);
    try {
      const result = await promise;
      return result.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: m.baseOffset }));
    } finally {
      this.#inFlight.delete(promise);
    }
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      await this.#producer.disconnect();
    })();
    return this.#closing;
  }
}

class KafkajsConsumer implements DriverConsumer {
  readonly #consumer: Consumer;
  readonly #kafka: InstanceType<typeof Kafka>;
  readonly #groupId: string;
  #disconnecting: Promise<void> | undefined;
  /** Set by `disconnect`: kafkajs lets a disconnected consumer connect, subscribe and run again. */
  #closed = false;

  constructor(consumer: Consumer, kafka: InstanceType<typeof Kafka>, groupId: string) {
    this.#consumer = consumer;
    this.#kafka = kafka;
    this.#groupId = groupId;
  }

  async connect(): Promise<void> {
    this.#throwIfClosed();
    await this.#consumer.connect();
    await this.#afterStep();
  }

  async subscribe(topics: readonly string[], fromBeginning: boolean): Promise<void> {
    this.#throwIfClosed();
    await this.#consumer.subscribe({ topics: [...topics], fromBeginning });
    await this.#afterStep();
  }

  /** A disconnect that raced a start step may have run before it finished: disconnect again. */
  async #afterStep(): Promise<void> {
    if (!this.#closed) return;
    await this.#consumer.disconnect().catch(() => undefined);
    this.#throwIfClosed();
  }

  #throwIfClosed(): void {
    if (this.#closed) throw new KafkaJSError('The consumer was disconnected', { retriable: false });
  }

  async run(handler: DriverBatchHandler): Promise<void> {
    this.#throwIfClosed();
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        await handler(
          {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key ?? null,
              value: m.value ?? null,
              headers: headersToStrings(m.headers),
              timestamp: m.timestamp,
            })),
          },
          {
            resolveOffset: (offset) => payload.resolveOffset(offset),
            isRunning: () => payload.isRunning(),
            isStale: () => payload.isStale(),
            heartbeat: async () => payload.heartbeat(),
          },
        );
      },
    });
    await this.#afterStep();
  }

  pause(topic: string, partitions: readonly number[]): void {
    this.#consumer.pause([{ topic, partitions: [...partitions] }]);
  }

  resume(topic: string, partitions: readonly number[]): void {
    this.#consumer.resume([{ topic, partitions: [...partitions] }]);
  }

  seek(topic: string, partition: number, offset: string): void {
    this.#consumer.seek({ topic, partition, offset });
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<boolean> {
    if (offsets.length === 0) return true;
    // kafkajs resolves without committing when its runner is not running (and swallows errors
    // then): only the COMMIT_OFFSETS event (emitted once the broker stored them) confirms a commit.
    // Auto-commit is off and commits are sequential, so an event during this call is this commit's.
    let confirmed = false;
    const stop = this.#consumer.on(this.#consumer.events.COMMIT_OFFSETS, (event) => {
      const stored = new Set(
        event.payload.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}:${p.partition}:${p.offset}`)),
      );
      confirmed = offsets.every((o) => stored.has(`${o.topic}:${o.partition}:${o.offset}`));
    });
    try {
      await this.#consumer.commitOffsets(offsets.map((o) => ({ ...o })));
    } finally {
      stop();
    }
    return confirmed;
  }

  listen(listener: DriverConsumerListener): () => void {
    const { GROUP_JOIN, REBALANCING, CRASH, END_BATCH_PROCESS } = this.#consumer.events;
    const removers = [
      this.#consumer.on(GROUP_JOIN, (event) => {
        const assignment: TopicPartitions[] = Object.entries(event.payload.memberAssignment).map(
          ([topic, partitions]) => ({ topic, partitions: [...partitions] }),
        );
        listener.onGroupJoin?.(assignment, event.payload.memberId);
      }),
      this.#consumer.on(REBALANCING, () => listener.onRebalancing?.()),
      this.#consumer.on(CRASH, (event) => listener.onCrash?.(event.payload.error)),
    ];
    if (listener.onBatchEnd) {
      const onBatchEnd = listener.onBatchEnd.bind(listener);
      removers.push(
        this.#consumer.on(END_BATCH_PROCESS, (event) =>
          onBatchEnd(event.payload.topic, event.payload.partition, event.payload.lastOffset),
        ),
      );
    }
    return () => removers.forEach((remove) => remove());
  }

  async disconnect(): Promise<void> {
    this.#closed = true;
    this.#disconnecting ??= this.#consumer.disconnect();
    return this.#disconnecting;
  }

  async removeMember(memberId: string): Promise<boolean> {
    this.#throwIfClosed();
    return leaveGroupOnBehalf(this.#kafka, this.#groupId, memberId);
  }
}

/** The part of kafkajs' internal cluster (and broker) that {@link leaveGroupOnBehalf} uses. */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<{
    leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
  }>;
}

/** Attempts of a LeaveGroup that fails transiently (coordinator loading or moving): ~10 s in all. */
const LEAVE_GROUP_ATTEMPTS = 8;

/**
 * LeaveGroup for `memberId` of `groupId`, sent from a cluster client of `kafka`'s configuration
 * (brokers, TLS, SASL, timeouts). kafkajs has no public API for it (its consumer leaves only as
 * itself, and it does not support static membership, KIP-345); its client creates clusters through
 * a private factory, reached here by its symbol's description. kafkajs is pinned to an exact version,
 * and an integration test (kafka-consumer-restart.int.spec.ts) fails if that factory changes.
 */
async function leaveGroupOnBehalf(
  kafka: InstanceType<typeof Kafka>,
  groupId: string,
  memberId: string,
): Promise<boolean> {
  const factory = Object.getOwnPropertySymbols(kafka)
    .filter((symbol) => symbol.description === 'private:Kafka:createCluster')
    .map((symbol) => (kafka as unknown as Record<symbol, unknown>)[symbol])[0];
  if (typeof factory !== 'function') {
    throw new KafkaJSError(
      'this kafkajs version has no cluster factory: LeaveGroup on behalf of a member is unavailable',
      {
        retriable: false,
      },
    );
  }
  const cluster = (factory as (options: object) => KafkajsCluster)({
    metadataMaxAge: 300000,
    allowAutoTopicCreation: false,
  });
  try {
    await cluster.connect();
    for (let attempt = 1; ; attempt++) {
      try {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        await coordinator.leaveGroup({ groupId, memberId });
        return true;
      } catch (error) {
        if ((error as { type?: unknown }).type === 'UNKNOWN_MEMBER_ID') return false;
        if (attempt >= LEAVE_GROUP_ATTEMPTS || (error as { retriable?: unknown }).retriable !== true)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * 2 ** (attempt - 1))));
      }
    }
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** Longest wait for the leaders of newly created topics, in ms. */
const TOPIC_LEADER_WAIT_MS = 30_000;

class KafkajsAdmin implements DriverAdmin {
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

  /**
   * Resolves once every partition of `topics` has a leader. Metadata errors while the new topics
   * propagate (unknown topic, leader not available) are retried with backoff for up to
   * {@link TOPIC_LEADER_WAIT_MS}; then the last error is thrown.
   */
  async #waitForLeaders(topics: readonly string[]): Promise<void> {
    const deadline = Date.now() + TOPIC_LEADER_WAIT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const { topics: meta } = await this.#admin.fetchTopicMetadata({ topics: [...topics] });
        const ready =
          meta.length === topics.length &&
          meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
        if (ready) return;
        if (Date.now() >= deadline) {
          throw new KafkaJSError(`Topics ${topics.join(', ')} have no leader for every partition yet`);
        }
      } catch (error) {
        if (Date.now() >= deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** (attempt - 1))));
    }
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

/**
 * A partition assigner that hands only `partitions` of each subscribed topic to the first member
 * (sorted by member id); other members stay idle as hot standbys. Used by `withPartition(n)`: a
 * group member then consumes exactly that partition, and fail-over still works.
 */
function fixedPartitionsAssigner(partitions: readonly number[]): PartitionAssigner {
  const name = `gomes-fixed-partitions-${[...partitions].sort((a, b) => a - b).join('_')}`;
  return (): Assigner => ({
    name,
    version: 1,
    async assign({ members, topics }) {
      const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
      return sorted.map((member, index) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: index === 0 ? Object.fromEntries(topics.map((t) => [t, [...partitions]])) : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
