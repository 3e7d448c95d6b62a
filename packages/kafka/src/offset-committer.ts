import type { Logger } from '@gomes/core';
import type { DriverConsumer } from './driver/kafka-driver.js';
import { rootMessage } from './kafka-errors.js';
import { sleepUnlessAborted } from './internal/async-utils.js';
import type { PartitionWorker } from './partition-worker.js';

/**
 * Hand-over pauses once acked offsets have waited this long for a confirmed commit: after a broker
 * loss, what a restart redelivers is then bounded by the commit interval + this, not by the prefetch
 * buffer and the time the client takes to notice.
 *
 * @internal
 */
export const COMMIT_STALL_MS = 2000;

/** Where an {@link OffsetCommitter} reads what to commit. @internal */
export interface OffsetCommitterSource {
  /**
   * What commits: the group member now (`undefined` between a crash and its restart, and after
   * close), or an ephemeral reader's in-memory positions.
   */
  consumer(): Pick<DriverConsumer, 'commit'> | undefined;
  /** The workers of the current assignment (revoked partitions are not among them). */
  workers(): Iterable<PartitionWorker>;
  readonly logger: Logger;
}

/**
 * Sends a subscription's offset commits, one at a time and in order, with the rebalance rules:
 *
 * - What a commit carries is read when it is sent (not when it was asked for): the acked prefix of
 *   each partition of the CURRENT assignment. A partition revoked meanwhile is never committed: once
 *   the member joined a new generation, a commit for a partition it no longer owns could move the new
 *   owner's offset backwards. Its acks after the last commit are dropped; the records are delivered
 *   again to the new owner (at-least-once).
 * - While a rebalance is in progress (between the driver's rebalance signal and the next group
 *   join), only the commit made when the rebalance was detected is sent; the others wait for the
 *   join (the subscription commits again then).
 * - A partition is marked committed only when the driver confirms the broker stored the offsets (a
 *   commit the client skipped, e.g. while not running, is sent again later).
 * - It tracks how long acked offsets have been waiting for a confirmed commit ({@link
 *   OffsetCommitter.unconfirmedForMs}): the subscription stops handing records over while commits
 *   stall (broker gone), so what a restart redelivers stays bounded by the commit interval.
 *
 * @internal
 */
export class OffsetCommitter {
  readonly #source: OffsetCommitterSource;
  #chain: Promise<void> = Promise.resolve();
  /** A regular commit queued and not started yet: later requests share it. */
  #queued: Promise<void> | undefined;
  #rebalancing = false;
  /** Since when acked offsets wait for a commit the broker confirmed (`undefined`: none waits). */
  #unconfirmedSince: number | undefined;
  #flowWaiters: (() => void)[] = [];

  constructor(source: OffsetCommitterSource) {
    this.#source = source;
  }

  /** How long acked offsets have been waiting for a confirmed commit, ms (0: none waits). */
  unconfirmedForMs(now = Date.now()): number {
    return this.#unconfirmedSince === undefined ? 0 : now - this.#unconfirmedSince;
  }

  /** Resolves once nothing waits for a confirmed commit (a commit confirmed, or {@link OffsetCommitter.reset}). */
  async flowing(): Promise<void> {
    if (this.#unconfirmedSince === undefined) return;
    await new Promise<void>((resolve) => this.#flowWaiters.push(resolve));
  }

  /**
   * Resolves at once unless acked offsets have waited more than {@link COMMIT_STALL_MS} for a
   * confirmed commit (the broker is gone, or commits keep failing): handing more records over then
   * only adds to what a restart redelivers. Meanwhile it retries the commit every second, and it
   * resolves once a commit is confirmed, the partitions are dropped ({@link OffsetCommitter.reset}),
   * `wanted()` turns false (rebalance, stop) or `signal` aborts (close).
   */
  async whileStalled(wanted: () => boolean, signal: AbortSignal): Promise<void> {
    if (this.unconfirmedForMs() <= COMMIT_STALL_MS) return;
    this.#source.logger.warn('Kafka offset commits stall; hand-over waits for a confirmed commit', {
      unconfirmedForMs: this.unconfirmedForMs(),
    });
    while (this.unconfirmedForMs() > COMMIT_STALL_MS && wanted() && !signal.aborted) {
      void this.commit();
      await Promise.race([this.flowing(), sleepUnlessAborted(1000, signal)]);
    }
  }

  /** The partitions were dropped (crash, close): no acked offset waits any more. */
  reset(): void {
    this.#confirmed();
  }

  #confirmed(): void {
    this.#unconfirmedSince = undefined;
    this.#flowWaiters.splice(0).forEach((wake) => wake());
  }

  /** Whether a rebalance is in progress (set by the subscription). */
  get rebalancing(): boolean {
    return this.#rebalancing;
  }

  set rebalancing(value: boolean) {
    this.#rebalancing = value;
  }

  /**
   * Commits the acked prefix of every current partition after the commits before it. Resolves when
   * sent (or skipped); never rejects (a failed commit is logged and retried by a later one).
   *
   * @param rebalance - the commit made when a rebalance was detected: sent even while rebalancing.
   */
  async commit(rebalance = false): Promise<void> {
    if (!rebalance && this.#queued) return this.#queued;
    const run = this.#chain.then(async () => {
      if (!rebalance && this.#queued === run) this.#queued = undefined;
      await this.#send(rebalance);
    });
    if (!rebalance) this.#queued = run;
    this.#chain = run;
    return run;
  }

  async #send(rebalance: boolean): Promise<void> {
    const consumer = this.#source.consumer();
    if (!consumer || (this.#rebalancing && !rebalance)) return;
    const entries: { w: PartitionWorker; offset: bigint }[] = [];
    for (const w of this.#source.workers()) {
      const offset = w.pendingCommit;
      if (offset !== undefined && !w.revoked) entries.push({ w, offset });
    }
    if (entries.length === 0) {
      this.#confirmed();
      return;
    }
    this.#unconfirmedSince ??= Date.now();
    try {
      const stored = await consumer.commit(
        entries.map(({ w, offset }) => ({
          topic: w.topic,
          partition: w.partition,
          offset: offset.toString(),
        })),
      );
      if (stored) {
        for (const { w, offset } of entries) w.markCommitted(offset);
        this.#confirmed();
      } else this.#source.logger.debug('Kafka offset commit skipped by the client; it is sent again later');
    } catch (error) {
      this.#source.logger.warn(
        'Kafka offset commit failed; acked offsets will be committed later or redelivered',
        { reason: rootMessage(error) },
      );
    }
  }
}
