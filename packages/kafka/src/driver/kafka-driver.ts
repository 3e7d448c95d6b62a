/**
 * The narrow driver boundary between gomes' Kafka channels and a Kafka client library.
 *
 * Only `kafkajs-driver.ts` imports kafkajs, and only `platformatic-*.ts` import `@platformatic/kafka`
 * (an optional peer dependency, loaded when a connection chooses it); everything else speaks these
 * types, and unit tests can drive the channels with a fake. Offsets are decimal strings (64-bit
 * safe). Header values are UTF-8 strings.
 *
 * @packageDocumentation
 */
import type { Logger } from '@gomes/core';
import type { Secret } from '../internal/secret.js';

/** SASL mechanisms supported. @public */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** SASL credentials. @public */
export interface SaslCredentials {
  /** The mechanism. */
  readonly mechanism: SaslMechanism;
  /** User name. */
  readonly username: string;
  /** Password, wrapped so it is never logged. */
  readonly password: Secret;
}

/** TLS settings (PEM strings or buffers). @public */
export interface TlsSettings {
  /** CA certificate(s) the broker certificate must chain to; omit to use the system CAs. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate for mutual TLS. */
  readonly cert?: string | Buffer;
  /** Client private key for mutual TLS, wrapped so it is never logged. */
  readonly key?: Secret;
  /** Verify the broker certificate and host name. @default true */
  readonly rejectUnauthorized?: boolean;
  /** Server name for SNI / host name verification when it differs from the broker host. */
  readonly servername?: string;
}

/** What a driver needs to reach a cluster. @internal */
export interface KafkaDriverConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly tls: TlsSettings | undefined;
  readonly sasl: SaslCredentials | undefined;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly authenticationTimeoutMs: number;
  /** Client-level retries for broker requests (bounded: no endless retry storm). */
  readonly retries: number;
  readonly initialRetryTimeMs: number;
  readonly maxRetryTimeMs: number;
  readonly logger: Logger;
}

/** Producer acknowledgement level: 0 none, 1 leader, -1 all in-sync replicas. @public */
export type RequiredAcks = -1 | 0 | 1;

/** Record compression codec. @public */
export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/**
 * A record to produce. Drivers take it as it is (no copy); a string value is written as UTF-8.
 *
 * @internal
 */
export interface DriverOutboundRecord {
  readonly key: string | Buffer | null;
  readonly value: Buffer | string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly partition?: number;
}

/** One produce request (records of one topic). @internal */
export interface DriverProduceRequest {
  readonly topic: string;
  readonly records: readonly DriverOutboundRecord[];
  readonly acks: RequiredAcks;
  readonly compression: CompressionCodec;
  readonly timeoutMs: number;
}

/** Where a produced record landed. @internal */
export interface DriverRecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** Base offset of the batch in that partition, when the broker returned it. */
  readonly baseOffset: string | undefined;
}

/** Producer settings. @internal */
export interface DriverProducerOptions {
  readonly idempotent: boolean;
  /** Attempts per request (1 = no retry). */
  readonly maxAttempts: number;
  readonly maxInFlightRequests: number;
  readonly allowAutoTopicCreation: boolean;
  /**
   * Longest `timeoutMs` of this producer's requests (how long the broker may wait for the acks). The
   * driver keeps its client request timeout clearly above it: a request the client gives up on
   * while the broker may still append it is what makes idempotent retries ambiguous.
   */
  readonly produceTimeoutMs: number;
}

/** A producer. @internal */
export interface DriverProducer {
  connect(): Promise<void>;
  /**
   * Optional: the same record (the same bytes on the wire) in the form `send` takes fastest, e.g.
   * encoded to Buffers. The publisher calls it when a record is enqueued, so the work is done while
   * an earlier request is with the broker rather than on the next request's critical path. `send`
   * takes records whether prepared or not. Pure: it does not depend on this producer's state (a
   * record prepared by one producer may be sent by its replacement).
   */
  prepare?(record: DriverOutboundRecord): DriverOutboundRecord;
  /** Resolves once the broker acknowledged with `acks`. */
  send(request: DriverProduceRequest): Promise<DriverRecordMetadata[]>;
  /** Resolves when every `send` started so far has settled. */
  flush(): Promise<void>;
  /** Flushes, then disconnects. Idempotent. */
  close(): Promise<void>;
}

/** A fetched record. @internal */
export interface DriverInboundRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Record timestamp, epoch ms as a string. */
  readonly timestamp: string;
}

/** Records of one partition, in offset order. @internal */
export interface DriverBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly DriverInboundRecord[];
  readonly highWatermark: string;
}

/** What a batch handler can do with the batch it is given. @internal */
export interface DriverBatchControl {
  /** Moves the fetch position past `offset` (NOT a commit). */
  resolveOffset(offset: string): void;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when a seek made this batch obsolete. */
  isStale(): boolean;
  /**
   * Sends a group heartbeat when the heartbeat interval has elapsed (a no-op otherwise); for batch
   * handlers that wait. Rejects when the group is rebalancing (then return from the handler).
   */
  heartbeat?(): Promise<void>;
}

/**
 * Handles one fetched batch. Must return quickly: the kafkajs driver heartbeats between batches. A
 * handler that throws crashes the consumer (`onCrash`), on every driver. @internal
 */
export type DriverBatchHandler = (batch: DriverBatch, control: DriverBatchControl) => Promise<void>;

/** Partitions of one topic. @public */
export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** An offset to commit: `offset` is the NEXT offset to read. @internal */
export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * The consumer group protocol: `classic` (JoinGroup / SyncGroup, client-side assignment) or
 * `consumer` (KIP-848, Kafka 4.0+: the broker assigns partitions incrementally, no stop-the-world
 * rebalance). @public
 */
export type KafkaGroupProtocol = 'classic' | 'consumer';

/** Consumer group settings. @internal */
export interface DriverConsumerOptions {
  readonly groupId: string;
  /** Group protocol; `consumer` (KIP-848) only on drivers whose `supportedGroupProtocols` has it. */
  readonly groupProtocol: KafkaGroupProtocol;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
  readonly maxWaitTimeMs: number;
  readonly readCommitted: boolean;
  readonly metadataMaxAgeMs: number;
  /** When set, only these partitions of each subscribed topic are assigned (to one member). */
  readonly onlyPartitions: readonly number[] | undefined;
  readonly allowAutoTopicCreation: boolean;
}

/** Group events a consumer reports. @internal */
export interface DriverConsumerListener {
  /** A rebalance started: the current assignment is about to be revoked. */
  onRebalancing?(): void;
  /**
   * The member joined (or re-joined) the group with this assignment. `memberId` changes when the
   * member was evicted (e.g. `UNKNOWN_MEMBER_ID`) and joined as a new member.
   */
  onGroupJoin?(assignment: readonly TopicPartitions[], memberId: string): void;
  /** The client stopped on an error it will not recover from by itself. */
  onCrash?(error: Error): void;
  /**
   * A fetched batch was processed, also one whose records were all filtered out (transaction
   * markers, aborted records) and never reached the batch handler: `lastOffset` is the last offset
   * it covered. Bounded reads use it to see they reached their end offset.
   */
  onBatchEnd?(topic: string, partition: number, lastOffset: string): void;
}

/** A consumer group member. @internal */
export interface DriverConsumer {
  connect(): Promise<void>;
  subscribe(topics: readonly string[], fromBeginning: boolean): Promise<void>;
  /** Starts the fetch loop; resolves once it runs. Auto-commit is always off. */
  run(handler: DriverBatchHandler): Promise<void>;
  pause(topic: string, partitions: readonly number[]): void;
  resume(topic: string, partitions: readonly number[]): void;
  /** The next fetch of the partition starts at `offset`. */
  seek(topic: string, partition: number, offset: string): void;
  /**
   * Commits `offsets` for the member's current generation. Resolves `true` once the broker stored
   * them, `false` when the client skipped the commit (it is not running: stopping, crashed,
   * rejoining); rejects when the broker refused them.
   */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<boolean>;
  /** Registers listeners; returns a function that removes them. */
  listen(listener: DriverConsumerListener): () => void;
  /**
   * Sends LeaveGroup on behalf of `memberId`, a member of this consumer's group that no client uses
   * any more (the member of a client that crashed without leaving), so the group rebalances now
   * instead of waiting for its session to time out. Needs `connect()` first. Resolves `true` when
   * the member was removed, `false` when the group did not know it (it had left or expired);
   * rejects when the coordinator could not be reached.
   */
  removeMember(memberId: string): Promise<boolean>;
  /**
   * Stops fetching, leaves the group and closes connections. Idempotent. Final: a `connect`,
   * `subscribe` or `run` still under way, or called later, ends disconnected (never a live member).
   */
  disconnect(): Promise<void>;
}

/** A topic to create. @internal */
export interface DriverTopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
}

/** Cluster description. @internal */
export interface DriverClusterInfo {
  readonly clusterId: string;
  readonly controller: number | null;
  readonly brokers: readonly { nodeId: number; host: string; port: number }[];
}

/** Topic metadata. @internal */
export interface DriverTopicInfo {
  readonly topic: string;
  readonly partitions: number;
  /** Replicas of the first partition. */
  readonly replicationFactor: number;
}

/** Earliest and end offset of one partition. @internal */
export interface DriverPartitionOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/** An admin client. @internal */
export interface DriverAdmin {
  connect(): Promise<void>;
  describeCluster(): Promise<DriverClusterInfo>;
  /** Metadata of the topics that exist (missing ones are left out). */
  describeTopics(topics: readonly string[]): Promise<DriverTopicInfo[]>;
  /** Config values of a topic (only the names asked for). */
  describeTopicConfigs(topic: string, names: readonly string[]): Promise<Record<string, string>>;
  /** Creates the topics that do not exist; waits for their leaders. */
  createTopics(specs: readonly DriverTopicSpec[]): Promise<void>;
  /**
   * Offsets of every partition of `topic`: `low` is the earliest stored offset, `high` the end (the
   * last stable offset, as a read-committed consumer sees it). Rejects when the topic is missing.
   */
  fetchTopicOffsets(topic: string): Promise<DriverPartitionOffsets[]>;
  /**
   * For every partition of `topic`, the first offset whose record timestamp is at or after
   * `timestampMs`, or the partition's end when there is none.
   */
  fetchTopicOffsetsByTimestamp(
    topic: string,
    timestampMs: number,
  ): Promise<{ partition: number; offset: string }[]>;
  /** Committed offsets of a group for one topic (`-1` when none). */
  fetchCommittedOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]>;
  /** End offset (the offset the next record will get) of every partition of a topic. */
  fetchEndOffsets(topic: string): Promise<{ partition: number; offset: string }[]>;
  /** Ids of the consumer groups the cluster knows. */
  listGroups(): Promise<string[]>;
  disconnect(): Promise<void>;
}

/** The Kafka client library a {@link KafkaConnection} runs on. @public */
export type KafkaDriverName = 'kafkajs' | 'platformatic';

/** A client factory bound to one cluster. @internal */
export interface KafkaDriver {
  /** Which client library this is (for logs and error messages). */
  readonly name: KafkaDriverName;
  createProducer(options: DriverProducerOptions): DriverProducer;
  createConsumer(options: DriverConsumerOptions): DriverConsumer;
  /** An admin client whose retries are bounded by `retries` (defaults to the config's). */
  createAdmin(options?: { retries?: number }): DriverAdmin;
  /** Compression codecs this driver can produce and read. */
  readonly supportedCompression: ReadonlySet<CompressionCodec>;
  /** Consumer group protocols this driver can join with. */
  readonly supportedGroupProtocols: ReadonlySet<KafkaGroupProtocol>;
}

/** Creates a driver for a cluster. @internal */
export type KafkaDriverFactory = (config: KafkaDriverConfig) => KafkaDriver;
