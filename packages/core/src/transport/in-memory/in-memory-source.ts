import type { PartitionLag } from '../../channel/consumer-channel.js';
import { toError } from '../../errors/gomes-error.js';
import type {
  PartitionedSource,
  SourceListener,
  SourcePosition,
  SourceRecord,
} from '../spi/partitioned-source.js';
import type { InMemoryBroker, InMemoryRecord } from './in-memory-broker.js';
import type { GroupMembership } from './in-memory-consumer-group.js';

/** Where a group with no committed offset starts reading a partition. @public */
export type InMemoryStartOffset = 'earliest' | 'latest';

/** How long a delivery whose handler rejected waits before it is delivered again, in ms. @public */
export const HANDLER_REJECTED_REDELIVERY_DELAY_MS = 100;

/** Most records handed over in one batch of a partition. */
const MAX_BATCH_RECORDS = 500;

/** What an {@link InMemorySource} reads. @internal */
export interface InMemorySourceParams {
  readonly broker: InMemoryBroker;
  readonly topic: string;
  readonly groupId: string;
  readonly startOffset: InMemoryStartOffset;
  readonly ephemeral: boolean;
  /** Called when the committed offset of `partition` advanced. */
  readonly onCommitted?: (partition: number) => void;
  readonly onClosed?: () => void;
}

/** Read state of one owned partition. */
interface Cursor {
  position: bigint;
  paused: boolean;
}

/**
 * The in-memory transport as a {@link PartitionedSource}: a member of a consumer group of an
 * {@link InMemoryBroker} that hands whole batches of each owned partition to the consumer core.
 * Revokes wait for the core's drain before the group hands the partitions to their new owner.
 *
 * @internal
 */
export class InMemorySource implements PartitionedSource {
  readonly channelName: string;
  readonly group: string;
  readonly settlement = 'offsets' as const;
  readonly #p: InMemorySourceParams;
  readonly #cursors = new Map<number, Cursor>();
  #listener: SourceListener | undefined;
  #membership: GroupMembership | undefined;
  #unlisten: (() => void) | undefined;
  #pumpScheduled = false;
  #closed = false;

  constructor(params: InMemorySourceParams) {
    this.#p = params;
    this.channelName = params.topic;
    this.group = params.groupId;
  }

  async start(listener: SourceListener): Promise<void> {
    this.#listener = listener;
    const { broker, topic, groupId } = this.#p;
    this.#unlisten = broker.onAppend(topic, () => this.#schedulePump());
    this.#membership = broker.joinGroup(
      groupId,
      topic,
      {
        onPartitionsAssigned: (partitions) => this.#assign(partitions),
        onPartitionsRevoked: async (partitions) => {
          for (const p of partitions) this.#cursors.delete(p);
          await listener.revoked(partitions);
        },
      },
      { ephemeral: this.#p.ephemeral },
    );
    // Partitions assigned while joining arrived before the membership was known: pin them now.
    for (const partition of this.#cursors.keys()) this.#pin(partition);
    return Promise.resolve();
  }

  /** Counts a delivery of `offset` in the group (attempts survive members and subscriptions). */
  countDelivery(partition: number, offset: bigint): number {
    return this.#membership?.countDelivery(partition, offset) ?? 1;
  }

  pause(partitions: readonly number[]): void {
    for (const p of partitions) {
      const cursor = this.#cursors.get(p);
      if (cursor) cursor.paused = true;
    }
  }

  resume(partitions: readonly number[]): void {
    for (const p of partitions) {
      const cursor = this.#cursors.get(p);
      if (cursor) cursor.paused = false;
    }
    this.#schedulePump();
  }

  seek(partition: number, offset: bigint): void {
    const cursor = this.#cursors.get(partition);
    if (cursor) cursor.position = offset;
    this.#schedulePump();
  }

  async resolveOffsets(
    partitions: readonly number[],
    position: SourcePosition,
  ): Promise<ReadonlyMap<number, bigint>> {
    const { broker, topic } = this.#p;
    const offsets = new Map<number, bigint>();
    for (const partition of partitions) {
      const end = broker.endOffset(topic, partition);
      if (position.kind === 'earliest') offsets.set(partition, 0n);
      else if (position.kind === 'latest') offsets.set(partition, end);
      else {
        const at = position.timestamp.getTime();
        const first = broker.records(topic, partition).find((record) => record.timestampMs >= at);
        offsets.set(partition, first?.offset ?? end);
      }
    }
    return Promise.resolve(offsets);
  }

  async commit(offsets: ReadonlyMap<number, bigint>): Promise<void> {
    for (const [partition, offset] of offsets) {
      if (this.#membership?.commit(partition, offset)) this.#p.onCommitted?.(partition);
    }
    return Promise.resolve();
  }

  lag(): readonly PartitionLag[] {
    const { broker, topic, groupId } = this.#p;
    return [...this.#cursors.keys()].map((partition) => {
      const end = broker.endOffset(topic, partition);
      const committed = broker.committedOffset(groupId, topic, partition) ?? 0n;
      return {
        channel: topic,
        partition,
        group: groupId,
        lag: Number(end > committed ? end - committed : 0n),
      };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten?.();
    this.#membership?.leave();
    this.#cursors.clear();
    this.#p.onClosed?.();
    return Promise.resolve();
  }

  #assign(partitions: readonly number[]): void {
    const { broker, groupId, topic, startOffset } = this.#p;
    for (const partition of partitions) {
      const committed = broker.committedOffset(groupId, topic, partition);
      const start = committed ?? (startOffset === 'latest' ? broker.endOffset(topic, partition) : 0n);
      this.#cursors.set(partition, { position: start, paused: false });
      if (this.#membership) this.#pin(partition);
    }
    this.#listener?.assigned(partitions);
    this.#schedulePump();
  }

  /** Commits the start position when the group has none, so 'latest' means "from joining". */
  #pin(partition: number): void {
    const cursor = this.#cursors.get(partition);
    if (cursor && this.#membership?.committed(partition) === undefined) {
      this.#membership?.commit(partition, cursor.position);
    }
  }

  /** Batches are handed over from a microtask, never synchronously inside the publisher's `send`. */
  #schedulePump(): void {
    if (this.#pumpScheduled || this.#closed) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    const listener = this.#listener;
    if (!listener || this.#closed) return;
    const { broker, topic } = this.#p;
    for (const [partition, cursor] of this.#cursors) {
      if (cursor.paused) continue;
      const records = broker.records(topic, partition, cursor.position, MAX_BATCH_RECORDS);
      if (records.length === 0) continue;
      cursor.position = (records[records.length - 1] as InMemoryRecord).offset + 1n;
      listener
        .batch(
          partition,
          records.map((r) => this.#sourceRecord(r)),
        )
        .catch((error: unknown) => {
          listener.error(toError(error));
        });
      // More may be waiting behind this batch.
      if (records.length === MAX_BATCH_RECORDS) this.#schedulePump();
    }
  }

  #sourceRecord(record: InMemoryRecord): SourceRecord {
    const broker = this.#p.broker;
    return {
      offset: record.offset,
      key: record.key,
      headers: record.headers ?? {},
      rawValue: record.value,
      decode: () => {
        try {
          return { ok: true, message: broker.decode(record) };
        } catch (error) {
          return { ok: false, error: toError(error) };
        }
      },
    };
  }
}
