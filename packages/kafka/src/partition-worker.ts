import { PartitionOffsetTracker, type Delivery, type Logger, type Message, type NackOptions } from '@gomes/core';
import type { DriverBatchControl, DriverInboundRecord } from './driver/kafka-driver.js';
import type { KafkaMessageTranslator } from './kafka-message-translator.js';
import { asError } from './internal/async-utils.js';

/** What a worker needs from its consumer channel. @internal */
export interface PartitionWorkerHost {
  /**
   * Hands `delivery` to the subscription's handler, one delivery at a time across all partitions
   * (the core contract: the handler's promise is awaited before the next hand-over). Skipped when
   * `stillWanted()` turns false while it waits for its turn.
   */
  handOver(delivery: Delivery, stillWanted: () => boolean): Promise<void>;
  readonly translator: KafkaMessageTranslator;
  readonly queueCapacity: number;
  /** Consumer group, stamped on each delivery's position. */
  readonly groupId?: string;
  readonly logger: Logger;
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  seek(topic: string, partition: number, offset: bigint): void;
  /** The committable offset of this partition moved. */
  onCommittable(): void;
  /** Dead-letters an undecodable record; resolves once it is stored (retries until then or until halted). */
  deadLetter(record: DriverInboundRecord, error: Error, halted: () => boolean): Promise<boolean>;
  /** Reports an error that belongs to no delivery. */
  reportError(error: Error): void;
}

interface Token {
  valid: boolean;
}

/**
 * One assigned partition of a Kafka consumer channel: a bounded buffer of fetched records handed to
 * the delivery handler one at a time, in offset order, with gap-safe commit bookkeeping.
 *
 * - Records are buffered (and their fetch position resolved) until `queueCapacity` records are
 *   buffered or in flight; then the partition is paused and resumed once acks make room.
 * - Each record is tracked in a {@link PartitionOffsetTracker} before it is handed over, so the
 *   committable offset never passes an unacked record.
 * - `nack` rewinds: deliveries at or after the nacked offset are invalidated (their acks are
 *   ignored), the buffer is dropped, and after `delayMs` the partition is sought back and resumed.
 * - `revoke` (rebalance, crash, close) invalidates everything still in flight.
 *
 * @internal
 */
export class PartitionWorker {
  readonly topic: string;
  readonly partition: number;
  readonly #host: PartitionWorkerHost;
  #tracker: PartitionOffsetTracker | undefined;
  #buffer: DriverInboundRecord[] = [];
  #nextOffset: bigint | undefined;
  readonly #inFlight = new Map<bigint, Token>();
  readonly #attempts = new Map<bigint, number>();
  #pausedForRoom = false;
  #rewindTimer: NodeJS.Timeout | undefined;
  #rewinding = false;
  #suspended = false;
  #revoked = false;
  #pumping = false;
  #lastCommitted: bigint | undefined;
  #lastAdvanceAt = Date.now();

  constructor(topic: string, partition: number, host: PartitionWorkerHost) {
    this.topic = topic;
    this.partition = partition;
    this.#host = host;
  }

  /** Offset to commit now, when it moved past the last commit. */
  get pendingCommit(): bigint | undefined {
    const c = this.#tracker?.committable;
    if (c === undefined || (this.#lastCommitted !== undefined && c <= this.#lastCommitted)) return undefined;
    return c;
  }

  /** When the acked prefix last advanced (or the worker was created), ms since the epoch; for health. */
  get lastAdvanceAt(): number {
    return this.#lastAdvanceAt;
  }

  /** Next offset after the acked prefix (what a commit would store), once something was taken. */
  get ackedOffset(): bigint | undefined {
    return this.#tracker?.committable;
  }

  /** Records buffered or in flight. */
  get load(): number {
    return this.#buffer.length + (this.#tracker?.inFlight ?? 0);
  }

  /** Next offset the fetcher should deliver (last accepted + 1). */
  get nextOffset(): bigint | undefined {
    return this.#nextOffset;
  }

  /** Whether hand-over is halted (suspended, rewinding or revoked). */
  get halted(): boolean {
    return this.#suspended || this.#rewinding || this.#revoked;
  }

  /** Records that `offset` is committed. */
  markCommitted(offset: bigint): void {
    if (this.#lastCommitted === undefined || offset > this.#lastCommitted) this.#lastCommitted = offset;
  }

  /** Takes fetched records (called from the driver's batch handler; never blocks). */
  accept(records: readonly DriverInboundRecord[], control: DriverBatchControl): void {
    for (const record of records) {
      if (this.halted || !control.isRunning() || control.isStale()) break;
      const offset = BigInt(record.offset);
      if (this.#nextOffset !== undefined && offset < this.#nextOffset) {
        control.resolveOffset(record.offset); // already taken (re-fetch after a rebalance)
        continue;
      }
      if (this.load >= this.#host.queueCapacity) break;
      this.#tracker ??= new PartitionOffsetTracker(offset);
      this.#buffer.push(record);
      this.#nextOffset = offset + 1n;
      control.resolveOffset(record.offset);
    }
    this.#applyFlow();
    void this.#pump();
  }

  /** Stops hand-over until {@link PartitionWorker.unsuspend} (a rebalance is in progress). */
  suspend(): void {
    this.#suspended = true;
    this.#applyFlow();
  }

  /** Resumes hand-over after a rebalance kept this partition; the fetcher continues after the buffer. */
  unsuspend(): void {
    if (this.#revoked) return;
    this.#suspended = false;
    if (this.#nextOffset !== undefined && !this.#rewinding) this.#host.seek(this.topic, this.partition, this.#nextOffset);
    this.#applyFlow();
    void this.#pump();
  }

  /** Drops the partition: in-flight deliveries become stale (their acks and nacks are ignored). */
  revoke(): void {
    this.#revoked = true;
    this.#buffer = [];
    clearTimeout(this.#rewindTimer);
    for (const token of this.#inFlight.values()) token.valid = false;
    this.#inFlight.clear();
  }

  /** Re-applies pause/resume to the fetcher (after a rebalance). */
  #applyFlow(): void {
    const shouldPause = this.halted || this.load >= this.#host.queueCapacity;
    if (shouldPause && !this.#pausedForRoom) {
      this.#pausedForRoom = true;
      this.#host.pause(this.topic, this.partition);
    } else if (!shouldPause && this.#pausedForRoom) {
      this.#pausedForRoom = false;
      this.#host.resume(this.topic, this.partition);
    }
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#buffer.length > 0 && !this.halted) {
        const record = this.#buffer.shift() as DriverInboundRecord;
        const offset = BigInt(record.offset);
        this.#tracker?.track(offset);
        let message: Message;
        try {
          message = this.#host.translator.fromRecord(record);
        } catch (error) {
          const stored = await this.#host.deadLetter(record, asError(error), () => this.#revoked);
          if (stored && !this.#revoked) this.#settle(offset);
          continue;
        }
        const token: Token = { valid: true };
        this.#inFlight.set(offset, token);
        const delivery = this.#delivery(record, message, offset, token);
        try {
          await this.#host.handOver(delivery, () => token.valid && !this.halted);
        } catch (error) {
          this.#host.reportError(asError(error));
          await delivery.nack();
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #delivery(record: DriverInboundRecord, message: Message, offset: bigint, token: Token): Delivery {
    let settled = false;
    const key = record.key === null ? `${record.topic}/${record.partition}` : record.key.toString('utf8');
    return Object.freeze({
      message,
      key,
      position: { channel: record.topic, partition: record.partition, offset: record.offset, group: this.#host.groupId },
      deliveryAttempt: this.#attempts.get(offset) ?? 1,
      ack: async (): Promise<void> => {
        if (settled) return;
        settled = true;
        if (!token.valid) return;
        this.#inFlight.delete(offset);
        this.#attempts.delete(offset);
        this.#settle(offset);
      },
      nack: async (options: NackOptions = {}): Promise<void> => {
        if (settled) return;
        settled = true;
        if (!token.valid) return;
        this.#rewind(offset, Math.max(0, options.delayMs ?? 0));
      },
    });
  }

  #settle(offset: bigint): void {
    if (this.#tracker?.ack(offset)) {
      this.#lastAdvanceAt = Date.now();
      this.#host.onCommittable();
    }
    this.#applyFlow();
  }

  #rewind(offset: bigint, delayMs: number): void {
    for (const [o, token] of this.#inFlight) {
      if (o < offset) continue;
      token.valid = false;
      this.#inFlight.delete(o);
      this.#attempts.set(o, (this.#attempts.get(o) ?? 1) + 1);
    }
    this.#tracker?.reset(offset);
    this.#buffer = [];
    this.#nextOffset = offset;
    this.#rewinding = true;
    this.#applyFlow();
    clearTimeout(this.#rewindTimer);
    this.#rewindTimer = setTimeout(() => {
      this.#rewindTimer = undefined;
      if (this.#revoked) return;
      this.#rewinding = false;
      this.#host.seek(this.topic, this.partition, offset);
      this.#applyFlow();
    }, delayMs);
  }
}
