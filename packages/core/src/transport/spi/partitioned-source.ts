import type { DeliveryPosition, PartitionLag } from '../../channel/consumer-channel.js';
import type { Message } from '../../message/message.js';

/**
 * What decoding a {@link SourceRecord} yields: the message, or why it cannot be decoded (the
 * record is then dead-lettered by the consumer core, never handed to a handler).
 *
 * @public
 */
export type DecodeResult =
  { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: Error };

/**
 * One fetched record of a {@link PartitionedSource}, not decoded yet.
 *
 * @public
 */
export interface SourceRecord {
  /** Position in its partition; increasing within a batch and across batches of one partition. */
  readonly offset: bigint;
  /** Ordering key (partition key); records with equal keys are processed one at a time, in order. */
  readonly key: string;
  /** The stored headers, as the transport read them (for dead letters of undecodable records). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The stored value as it was read — bytes (a Node `Buffer` is a `Uint8Array`) or text — for dead
   * letters of undecodable records, which keep it exactly; `undefined` when empty.
   */
  readonly rawValue: Uint8Array | string | undefined;
  /**
   * Where the record sits in its channel, when the source knows better than its partition and
   * offset (a subscription's pseudo-partition: the delivery's own position). Absent: the core
   * builds it from the source's channel and group, the partition and `offset`.
   */
  readonly position?: DeliveryPosition;
  /**
   * How many times the transport has delivered the record, this time included, when it counts them
   * (a subscription's delivery: `Delivery.deliveryAttempt`). Absent: 1. The core counts its own
   * redeliveries from there.
   */
  readonly deliveryAttempt?: number;
  /** Decodes the record; called once, by the consumer core, when the record is about to run. */
  decode(): DecodeResult;
}

/**
 * Receives what a {@link PartitionedSource} fetches. Implemented by the consumer core.
 *
 * @public
 */
export interface SourceListener {
  /** These partitions are now owned by this member; batches for them may follow. */
  assigned(partitions: readonly number[]): void;
  /**
   * These partitions are being taken away. The source awaits the promise before it releases them:
   * the core stops their intake, aborts and awaits their in-flight handlers within its budget, and
   * commits what is done. Handlers finishing later are never acked by this member.
   */
  revoked(partitions: readonly number[]): Promise<void>;
  /**
   * A fetched batch of one partition, in offset order. The promise resolves once the core buffered
   * the records (backpressure: a source with a fetch loop awaits it); the core pauses the partition
   * when its buffer is full.
   */
  batch(partition: number, records: readonly SourceRecord[]): Promise<void>;
  /** An error the source cannot hand to a record (a client crash); the source keeps going or closes. */
  error(error: Error): void;
}

/**
 * A position a {@link PartitionedSource} resolves to offsets: the oldest stored record, the end,
 * or the first record at or after a timestamp (the end when there is none).
 *
 * @public
 */
export type SourcePosition =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'timestamp'; readonly timestamp: Date };

/** How a source settles records. @public */
export type SourceSettlement =
  /** Offsets: the core commits the next offset to read, gap-safely (Kafka, in-memory). */
  | 'offsets'
  /** Broker-side ack per record (RabbitMQ-style queues): see {@link PartitionedSource.settle}. */
  | 'per-record';

/**
 * The transport SPI of a consumer: a source of records grouped in partitions (a Kafka topic's
 * partitions, an in-memory log's partitions; a queue is one pseudo-partition). The consumer core
 * (`@gomes/core`'s event-driven consumer) owns everything above it: intake, ordering by key,
 * retries, settlement, dead letters, commits and revoke drain.
 *
 * @public
 */
export interface PartitionedSource {
  /** Channel (topic/queue) read. */
  readonly channelName: string;
  /** Consumer group, when the transport has groups. */
  readonly group?: string;
  /** How records are settled. */
  readonly settlement: SourceSettlement;
  /**
   * How often the core commits the settled offsets, in ms (`settlement: 'offsets'`): settled records
   * are committed on this interval, on revoke and on close — not one commit per record. 0 or absent:
   * as soon as the settled prefix moved.
   */
  readonly commitIntervalMs?: number;
  /** Joins the group (or opens the queue) and starts fetching; resolves once it runs. */
  start(listener: SourceListener): Promise<void>;
  /** Stops fetching these partitions until `resume`. */
  pause(partitions: readonly number[]): void;
  /** Resumes fetching these partitions. */
  resume(partitions: readonly number[]): void;
  /**
   * The next fetch of `partition` starts at `offset`. Every batch of `partition` handed to the
   * listener after `seek` returns starts at `offset` (a batch fetched before must be discarded by
   * the source). The core seeks only a paused partition and resumes it afterwards.
   */
  seek(partition: number, offset: bigint): void;
  /**
   * Resolves `position` to the next offset to read of each of `partitions` (Kafka: list offsets /
   * `offsetsForTimes` on the broker). Needed for start positions and seeks by `earliest`, `latest`
   * or timestamp; a source without it supports explicit offsets only.
   */
  resolveOffsets?(
    partitions: readonly number[],
    position: SourcePosition,
  ): Promise<ReadonlyMap<number, bigint>>;
  /**
   * Stores the next offset to read of each partition (`settlement: 'offsets'`). Resolves once
   * stored, or rejects; the core retries on its next commit.
   */
  commit(offsets: ReadonlyMap<number, bigint>): Promise<void>;
  /**
   * Settles one record broker-side (`settlement: 'per-record'` only): `ack` = done, `requeue` = the
   * broker delivers it again.
   */
  settle?(partition: number, record: SourceRecord, outcome: 'ack' | 'requeue'): Promise<void>;
  /**
   * The settled prefix of `partition` moved to `next` (the next offset to read), before it is
   * committed. For lag and health: lag counts what is not settled, not what is not committed yet.
   */
  settled?(partition: number, next: bigint): void;
  /** Lag of each owned partition (a snapshot; empty when unknown). */
  lag(): readonly PartitionLag[];
  /** Stops fetching, revokes what it owns (through the listener) and leaves. Idempotent. */
  close(): Promise<void>;
}
