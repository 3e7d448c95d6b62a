import { GomesError } from '@gomes/core';
import type { PendingRecord } from './pending-record.js';

/**
 * The send buffer of a {@link KafkaPublisherChannel}: the records waiting for a produce request, in
 * send order (and so, with equal timeouts, in deadline order), a lower bound of their size, and the
 * async-mode senders waiting for room (`maxBufferedMessages`). The channel decides when to send and
 * how outcomes are reported; this owns the buffer's state.
 *
 * @internal
 */
export class PublishBuffer {
  readonly #records: PendingRecord[] = [];
  readonly #spaceWaiters: (() => void)[] = [];
  readonly #capacity: number;
  /** Sum of the buffered records' `minBytes`. */
  #minBytes = 0;

  /** @param capacity `maxBufferedMessages`: async senders wait while this many records are buffered. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Records buffered. */
  get length(): number {
    return this.#records.length;
  }

  /** Lower bound of the buffered records' size in a request (see {@link PendingRecord.minBytes}). */
  get minBytes(): number {
    return this.#minBytes;
  }

  /** Whether an async sender must wait for room. */
  get full(): boolean {
    return this.#records.length >= this.#capacity;
  }

  push(pending: PendingRecord): void {
    this.#records.push(pending);
    this.#minBytes += pending.minBytes;
  }

  /** Takes `pending` out (an aborted send); `false` when it already left for a produce request. */
  remove(pending: PendingRecord): boolean {
    const index = this.#records.indexOf(pending);
    if (index < 0) return false;
    this.#records.splice(index, 1);
    this.#minBytes -= pending.minBytes;
    return true;
  }

  /**
   * The next request's records: up to `batchSize`, and at most `batchBytes` (a first record larger
   * than that goes alone). The size is checked on the records' upper bounds, and on their exact
   * sizes only once those bounds come close to the limit. Sends settled meanwhile (aborted, timed
   * out) are left out.
   */
  takeBatch(batchSize: number, batchBytes: number): PendingRecord[] {
    const batch: PendingRecord[] = [];
    let upper = 0;
    let exact: number | undefined;
    while (this.#records.length > 0 && batch.length < batchSize) {
      const next = this.#records[0] as PendingRecord;
      if (batch.length > 0) {
        if (exact === undefined && upper + next.maxBytes > batchBytes) {
          exact = 0;
          for (const p of batch) exact += p.bytes;
        }
        if (exact !== undefined && exact + next.bytes > batchBytes) break;
      }
      this.#records.shift();
      this.#minBytes -= next.minBytes;
      upper += next.maxBytes;
      if (exact !== undefined) exact += next.bytes;
      batch.push(next);
    }
    this.#wakeSpaceWaiters();
    return batch.filter((p) => !p.settled);
  }

  /** Takes out the records past their deadline at `now` (at the head); returns the unsettled ones. */
  takeExpired(now: number): PendingRecord[] {
    const expired: PendingRecord[] = [];
    while (this.#records.length > 0 && (this.#records[0] as PendingRecord).deadline <= now) {
      const p = this.#records.shift() as PendingRecord;
      this.#minBytes -= p.minBytes;
      if (!p.settled) expired.push(p);
    }
    if (expired.length > 0) this.#wakeSpaceWaiters();
    return expired;
  }

  /**
   * Async mode: waits until a record leaves the buffer (or `wakeAll`); rejects `GOMES_ABORTED` on
   * abort, and with `timedOut()` at `deadline` (nothing was buffered).
   */
  async waitForSpace(
    signal: AbortSignal | undefined,
    deadline: number,
    timedOut: () => GomesError,
  ): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.#spaceWaiters.indexOf(wake);
        if (index >= 0) this.#spaceWaiters.splice(index, 1);
      };
      const wake = (): void => {
        leave();
        resolve();
      };
      const onAbort = (): void => {
        leave();
        reject(new GomesError('ABORTED', 'The send was aborted', { cause: signal?.reason }));
      };
      const onTimeout = (): void => {
        leave();
        reject(timedOut());
      };
      if (signal?.aborted) return onAbort();
      const timer = setTimeout(onTimeout, Math.max(0, deadline - Date.now()));
      this.#spaceWaiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wakes every waiting sender (the channel is closing: they see it and fail). */
  wakeAll(): void {
    this.#spaceWaiters.splice(0).forEach((wake) => wake());
  }

  #wakeSpaceWaiters(): void {
    const room = this.#capacity - this.#records.length;
    this.#spaceWaiters.slice(0, Math.max(0, room)).forEach((wake) => wake());
  }
}
