import { type Delivery, type Logger, type Message } from '@gomes/core';
import { PartitionOffsetTracker } from '@gomes/core/transport';
import type { DriverBatchControl, DriverInboundRecord } from './driver/kafka-driver.js';
import type { DeadLetterResult } from './dead-letter-writer.js';
import { KafkaDelivery, type Token } from './kafka-delivery.js';
import type { KafkaMessageTranslator } from './kafka-message-translator.js';
import { asError } from './internal/async-utils.js';

/** What a worker needs from its consumer channel. @internal */
export interface PartitionWorkerHost {
  /**
   * Hands `delivery` to the subscription's handler, one delivery at a time across all partitions
   * (the core contract: the handler's promise is awaited before the next hand-over). Skipped when
   * `stillWanted()` turns false while it waits for its turn.
   *
   * @returns whether the handler ran (`false`: skipped; the worker then takes the record back).
   */
  handOver(delivery: Delivery, stillWanted: () => boolean): Promise<boolean>;
  readonly translator: KafkaMessageTranslator;
  /** Most records of the partition handed over and not settled yet (acked or nacked). */
  readonly queueCapacity: number;
  /**
   * The batch handler returns (lets the driver fetch again) once at most this many bytes (record
   * values + keys) of the partition are fetched and not handed over yet.
   */
  readonly prefetchLowWaterBytes: number;
  /** How often the batch handler heartbeats while it waits for the buffer to drain. */
  readonly heartbeatIntervalMs: number;
  /** Consumer group, stamped on each delivery's position. */
  readonly groupId?: string;
  readonly logger: Logger;
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  seek(topic: string, partition: number, offset: bigint): void;
  /** The committable offset of this partition moved. */
  onCommittable(): void;
  /**
   * Dead-letters an undecodable record: `stored`, `halted` (retried until `halted()`), or `failed`
   * (not retriable: the worker keeps the record and blocks the partition).
   */
  deadLetter(record: DriverInboundRecord, error: Error, halted: () => boolean): Promise<DeadLetterResult>;
  /**
   * Waits until the translator can decode `record`, given its first pending `prepareInbound`:
   * retriable failures (registry unreachable) are retried with backoff. `true`: decodable; `false`:
   * `halted()` turned true first; rejects when the record is undecodable (non-retriable).
   */
  whenDecodable(record: DriverInboundRecord, pending: Promise<void>, halted: () => boolean): Promise<boolean>;
  /** Reports an error that belongs to no delivery. */
  reportError(error: Error): void;
}

/** Bytes a buffered record accounts for (value + key; headers are small next to them). */
function recordBytes(record: DriverInboundRecord): number {
  return (record.value === null ? 0 : record.value.length) + (record.key === null ? 0 : record.key.length);
}

/**
 * One assigned partition of a Kafka consumer channel: a buffer of fetched records handed to the
 * delivery handler one at a time, in offset order, with gap-safe commit bookkeeping.
 *
 * - **Prefetch buffer.** Every record of a fetched batch is kept (and its fetch position resolved),
 *   so nothing is fetched and decoded twice. The batch handler then waits ({@link
 *   PartitionWorker.waitForRoom}) until at most `prefetchLowWaterBytes` of the partition are still
 *   buffered, heartbeating meanwhile, so the fetch loop fetches more only when there is room: at
 *   most the rest of one fetch plus one new fetch (`maxBytes` per partition) are buffered.
 * - **In flight.** At most `queueCapacity` records are handed over and not settled; then hand-over
 *   waits for acks and the partition is paused (other partitions keep being fetched).
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
  /** Fetched records; those before `#head` were handed over (their slots are cleared). */
  #buffer: (DriverInboundRecord | undefined)[] = [];
  #head = 0;
  #bufferedBytes = 0;
  #nextOffset: bigint | undefined;
  readonly #inFlight = new Map<bigint, Token>();
  readonly #attempts = new Map<bigint, number>();
  #pausedForRoom = false;
  #rewindTimer: NodeJS.Timeout | undefined;
  #rewinding = false;
  #suspended = false;
  #revoked = false;
  /** A dead-letter write failed for good: hand-over stops (the record is kept) until unsuspended. */
  #blocked = false;
  #pumping = false;
  #lastCommitted: bigint | undefined;
  #lastAdvanceAt = Date.now();
  /** Wakes {@link PartitionWorker.waitForRoom} (room in the buffer, halted, or in flight full). */
  #wake: (() => void) | undefined;

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

  /** Records buffered (fetched, not handed over yet). */
  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /** Bytes (values + keys) of the buffered records. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Records buffered or in flight. */
  get load(): number {
    return this.buffered + this.#inFlightCount();
  }

  /** Next offset the fetcher should deliver (last accepted + 1). */
  get nextOffset(): bigint | undefined {
    return this.#nextOffset;
  }

  /** Whether hand-over is halted (suspended, rewinding, blocked or revoked). */
  get halted(): boolean {
    return this.#suspended || this.#rewinding || this.#blocked || this.#revoked;
  }

  /** Whether the partition was revoked (its deliveries and commits are void). */
  get revoked(): boolean {
    return this.#revoked;
  }

  /**
   * Whether the partition is blocked on a record it can neither hand over nor dead-letter (a
   * non-retriable dead-letter failure). It stays paused, its record kept, until the next
   * {@link PartitionWorker.unsuspend} (a rebalance that keeps it) retries.
   */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Records that `offset` is committed. */
  markCommitted(offset: bigint): void {
    if (this.#lastCommitted === undefined || offset > this.#lastCommitted) this.#lastCommitted = offset;
  }

  /** Takes every fetched record not taken yet (called from the driver's batch handler; never blocks). */
  accept(records: readonly DriverInboundRecord[], control: DriverBatchControl): void {
    if (records.length > 0 && !this.halted && control.isRunning() && !control.isStale()) {
      let first = 0;
      const next = this.#nextOffset;
      // Records before the next offset were taken already (re-fetch after a rebalance or a seek).
      if (next !== undefined) while (first < records.length && BigInt(records[first]!.offset) < next) first++;
      if (first < records.length) {
        this.#tracker ??= new PartitionOffsetTracker(BigInt(records[first]!.offset));
        if (this.#head > 0) {
          this.#buffer = this.#head >= this.#buffer.length ? [] : this.#buffer.slice(this.#head);
          this.#head = 0;
        }
        let bytes = 0;
        for (let i = first; i < records.length; i++) {
          const record = records[i]!;
          this.#buffer.push(record);
          bytes += recordBytes(record);
        }
        this.#bufferedBytes += bytes;
      }
      const last = records[records.length - 1]!;
      if (first < records.length) this.#nextOffset = BigInt(last.offset) + 1n;
      control.resolveOffset(last.offset); // the fetch position moves past everything taken
    }
    this.#applyFlow();
    void this.#pump();
  }

  /**
   * Resolves once the driver may fetch this partition again: at most `prefetchLowWaterBytes` are
   * buffered, or hand-over stopped (halted, or `queueCapacity` records in flight: the partition is
   * then paused instead), or the batch is no longer current (consumer stopping, seek, rebalance).
   * Heartbeats every `heartbeatIntervalMs` meanwhile, so a long wait does not get the member
   * evicted; a failed heartbeat (e.g. a rebalance started) ends the wait, and the driver's own
   * heartbeat after the batch then reports it.
   *
   * @returns `true` when it ended because a heartbeat failed.
   */
  async waitForRoom(control: DriverBatchControl): Promise<boolean> {
    while (this.#mustWait() && control.isRunning() && !control.isStale()) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, this.#host.heartbeatIntervalMs);
      });
      clearTimeout(timer);
      this.#wake = undefined;
      if (!this.#mustWait() || !control.heartbeat) continue;
      try {
        await control.heartbeat();
      } catch {
        return true;
      }
    }
    return false;
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
    this.#blocked = false; // retry a blocked dead-letter write
    if (this.#nextOffset !== undefined && !this.#rewinding)
      this.#host.seek(this.topic, this.partition, this.#nextOffset);
    this.#applyFlow();
    void this.#pump();
  }

  /** Drops the partition: in-flight deliveries become stale (their acks and nacks are ignored). */
  revoke(): void {
    this.#revoked = true;
    this.#dropBuffer();
    clearTimeout(this.#rewindTimer);
    for (const token of this.#inFlight.values()) token.valid = false;
    this.#inFlight.clear();
    this.#wakeWaiter();
  }

  #inFlightCount(): number {
    return this.#tracker?.inFlight ?? 0;
  }

  #inFlightFull(): boolean {
    return this.#inFlightCount() >= this.#host.queueCapacity;
  }

  /** Whether the batch handler should keep the fetch loop waiting for buffer room. */
  #mustWait(): boolean {
    return !this.halted && this.#bufferedBytes > this.#host.prefetchLowWaterBytes && !this.#inFlightFull();
  }

  #wakeWaiter(): void {
    const wake = this.#wake;
    if (wake !== undefined && !this.#mustWait()) {
      this.#wake = undefined;
      wake();
    }
  }

  #dropBuffer(): void {
    this.#buffer = [];
    this.#head = 0;
    this.#bufferedBytes = 0;
  }

  /** Re-applies pause/resume to the fetcher: paused while halted or while `queueCapacity` records are in flight. */
  #applyFlow(): void {
    const shouldPause = this.halted || this.#inFlightFull();
    if (shouldPause && !this.#pausedForRoom) {
      this.#pausedForRoom = true;
      this.#host.pause(this.topic, this.partition);
    } else if (!shouldPause && this.#pausedForRoom) {
      this.#pausedForRoom = false;
      this.#host.resume(this.topic, this.partition);
    }
    this.#wakeWaiter();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#head < this.#buffer.length && !this.halted && !this.#inFlightFull()) {
        const record = this.#buffer[this.#head] as DriverInboundRecord;
        this.#buffer[this.#head++] = undefined;
        this.#bufferedBytes -= recordBytes(record);
        if (this.#head === this.#buffer.length) this.#dropBuffer();
        this.#wakeWaiter();
        const offset = BigInt(record.offset);
        this.#tracker?.track(offset);
        const token: Token = { valid: true };
        this.#inFlight.set(offset, token);
        let message: Message;
        try {
          // A serializer with I/O (schema registry) may need to load something first; usually not.
          const pending = this.#host.translator.prepareInbound(record);
          if (
            pending !== undefined &&
            !(await this.#host.whenDecodable(record, pending, () => !token.valid || this.halted))
          ) {
            this.#untake(record, offset, token); // hand-over stopped meanwhile: taken again on resume
            continue;
          }
          message = this.#host.translator.fromRecord(record);
        } catch (error) {
          const result = await this.#host.deadLetter(record, asError(error), () => !token.valid);
          if (!token.valid) continue; // revoked, or rewound to an earlier offset meanwhile
          if (result === 'stored') {
            this.#inFlight.delete(offset);
            this.#settle(offset);
            continue;
          }
          this.#untake(record, offset, token);
          if (result === 'failed') {
            this.#blocked = true;
            this.#applyFlow();
          }
          continue;
        }
        const delivery = new KafkaDelivery(
          this,
          record,
          message,
          offset,
          token,
          this.#attempts.get(offset) ?? 1,
        );
        let handled: boolean;
        try {
          handled = await this.#host.handOver(delivery, () => token.valid && !this.halted);
        } catch (error) {
          this.#host.reportError(asError(error));
          await delivery.nack();
          continue;
        }
        if (!handled) this.#untake(record, offset, token);
      }
    } finally {
      this.#pumping = false;
    }
    this.#applyFlow();
  }

  /**
   * Undoes the take of a record that was not handed over (skipped at its turn because hand-over
   * stopped, or its dead-letter write did not complete): it leaves the tracker and the in-flight
   * set, and goes back to the head of the buffer, so it is handed over when hand-over resumes.
   * Nothing to do when it was revoked or rewound meanwhile (the token is invalid, the buffer dropped).
   */
  #untake(record: DriverInboundRecord, offset: bigint, token: Token): void {
    if (this.#revoked || !token.valid) return;
    token.valid = false;
    this.#inFlight.delete(offset);
    // Records are taken one at a time, in order: nothing after `offset` is tracked yet.
    this.#tracker?.reset(offset);
    if (this.#head > 0) this.#buffer[--this.#head] = record;
    else this.#buffer.unshift(record);
    this.#bufferedBytes += recordBytes(record);
    this.#applyFlow();
  }

  /** A delivery was acked: its offset is settled. @internal (called by {@link KafkaDelivery}) */
  acked(offset: bigint, token: Token): void {
    if (!token.valid) return;
    this.#inFlight.delete(offset);
    this.#attempts.delete(offset);
    this.#settle(offset);
  }

  /** A delivery was nacked: rewind to it after `delayMs`. @internal (called by {@link KafkaDelivery}) */
  nacked(offset: bigint, token: Token, delayMs: number): void {
    if (!token.valid) return;
    this.#rewind(offset, delayMs);
  }

  #settle(offset: bigint): void {
    if (this.#tracker?.ack(offset)) {
      this.#lastAdvanceAt = Date.now();
      this.#host.onCommittable();
    }
    this.#applyFlow();
    if (!this.#pumping && this.#head < this.#buffer.length) void this.#pump();
  }

  #rewind(offset: bigint, delayMs: number): void {
    for (const [o, token] of this.#inFlight) {
      if (o < offset) continue;
      token.valid = false;
      this.#inFlight.delete(o);
      this.#attempts.set(o, (this.#attempts.get(o) ?? 1) + 1);
    }
    this.#tracker?.reset(offset);
    this.#dropBuffer();
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

  /** Consumer group stamped on each delivery's position. */
  get groupId(): string | undefined {
    return this.#host.groupId;
  }
}
