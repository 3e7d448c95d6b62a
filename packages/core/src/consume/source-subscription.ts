import type {
  Delivery,
  DeliveryHandler,
  DeliveryPosition,
  NackOptions,
  Subscription,
} from '../channel/consumer-channel.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import { sharedPromise } from '../internal/shared-promise.js';
import type { PartitionedSource, SourceRecord } from '../transport/spi/partitioned-source.js';
import { OffsetCommits } from './offset-commits.js';
import { PartitionIntake } from './partition-intake.js';
import { undecodableDeadLetter, undecodableError } from './undecodable-dead-letter.js';

/** What a {@link SourceSubscription} runs on and hands deliveries to. @public */
export interface SourceSubscriptionParams {
  /** Consumer (endpoint) name, written into dead letters. */
  readonly name: string;
  /** The transport. */
  readonly source: PartitionedSource;
  /** Receives the deliveries. */
  readonly handler: DeliveryHandler;
  /** Most deliveries of one partition handed over and not settled at once (also bounds its buffer). */
  readonly queueCapacity: number;
  /** Most deliveries handed over and not settled at once over all partitions. @default unbounded */
  readonly maxUnsettled?: number;
  /** Errors the subscription cannot hand to a delivery (source errors, undecodable records, a rejecting handler). */
  readonly onError: ((error: Error) => void) | undefined;
  /** Where undecodable records go (the channel's dead-letter channel); without it they are dropped and reported. */
  readonly deadLetters: PublisherChannel | undefined;
  readonly logger: Logger;
  /** Delay before a delivery whose handler rejected is delivered again, in ms. */
  readonly rejectedRedeliveryDelayMs: number;
  /** Delay between attempts of a dead-letter write that failed, in ms. @default 1000 */
  readonly deadLetterRetryDelayMs?: number;
  /** The transport counts delivery attempts itself (in-memory: across members); else the subscription does. */
  readonly deliveryAttempt?: (partition: number, offset: bigint) => number;
}

/** One owned partition: its intake (tracker, buffered count, pause), the records to hand over, and what was handed over. */
interface Lane {
  readonly intake: PartitionIntake;
  queue: SourceRecord[];
  head: number;
  /** Identity of each handed-over, unsettled delivery: a rewind or revoke invalidates them. */
  readonly handedOver: Map<bigint, object>;
  /** Delivery attempts of redelivered offsets (when the transport does not count them). */
  readonly attempts: Map<bigint, number>;
  rewindTimer: ReturnType<typeof setTimeout> | undefined;
  /** An undecodable record is being dead-lettered: nothing after it is handed over meanwhile. */
  busy: boolean;
  /** Bumped by each rewind: work started before it is stale. */
  epoch: number;
}

/**
 * `ConsumerChannel.subscribe` on a {@link PartitionedSource}, once for every transport: a
 * `DeliveryHandler` gets deliveries and settles them with `ack()` / `nack()`.
 *
 * - **Order and backpressure.** One loop hands over one delivery at a time, round-robin over the
 *   owned partitions, in offset order within each, awaiting the handler's acceptance before the
 *   next. At most `queueCapacity` deliveries per partition are handed over and unsettled; the source
 *   is paused on a partition whose buffer (fetched, not settled) reached it, and resumed when acks
 *   make room.
 * - **Gap-safe commits** through the source ({@link OffsetCommits}, shared with the consume engine):
 *   only the prefix of settled offsets is committed, whatever order acks arrive in.
 * - **Nack** rewinds the partition to the nacked offset after `delayMs` (a seek): it and the records
 *   after it are delivered again with `deliveryAttempt + 1`; late acks of those are ignored. A handler
 *   that rejects is reported through `onError` and its delivery nacked.
 * - **Undecodable records** are never handed over: they go to the dead-letter channel (core's
 *   envelope, the raw stored value), retried until written, then count as settled.
 * - **Revoke** stops handing over the partitions, forgets their unsettled deliveries (never acked in
 *   a later ownership) and commits what is done.
 *
 * @public
 */
export class SourceSubscription implements Subscription {
  readonly #p: SourceSubscriptionParams;
  readonly #lanes = new Map<number, Lane>();
  readonly #commits: OffsetCommits;
  /**
   * `stopped`: nothing is handed over, acks still commit; `closing`: the final commit is under way
   * (no commit timer starts any more); `closed`: acks are ignored.
   */
  #phase: 'running' | 'stopped' | 'closing' | 'closed' = 'running';
  #roundRobin = 0;
  #deadLettered = 0;
  #wakeUp: (() => void) | undefined;

  constructor(params: SourceSubscriptionParams) {
    this.#p = params;
    this.#commits = new OffsetCommits({
      source: params.source,
      logger: params.logger,
      owned: () => [...this.#lanes.values()].map((lane) => lane.intake),
      open: () => this.#phase === 'running' || this.#phase === 'stopped',
    });
  }

  /** Starts the source (joins the group); resolves once it runs. */
  async start(): Promise<void> {
    await this.#p.source.start({
      assigned: (partitions) => this.#assigned(partitions),
      revoked: async (partitions) => this.#revoke(partitions),
      batch: async (partition, records) => {
        this.#batch(partition, records);
        return Promise.resolve();
      },
      error: (error) => this.#report(error),
    });
    void this.#run();
  }

  /** Deliveries handed over and not settled yet. */
  get unsettled(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.handedOver.size;
    return n;
  }

  /** Undecodable records written to the dead-letter channel. */
  get deadLettered(): number {
    return this.#deadLettered;
  }

  /** Commits the settled offsets now. */
  async commit(): Promise<void> {
    return this.#commits.commitNow();
  }

  /** @inheritDoc */
  readonly stop: () => Promise<void> = sharedPromise(async () => {
    if (this.#phase === 'running') this.#phase = 'stopped';
    this.#p.source.pause([...this.#lanes.keys()]);
    for (const lane of this.#lanes.values()) clearTimeout(lane.rewindTimer);
    this.#wake();
    return Promise.resolve();
  });

  /** @inheritDoc */
  readonly close: () => Promise<void> = sharedPromise(async () => {
    await this.stop();
    this.#phase = 'closing';
    this.#commits.cancelTimer();
    const owned = [...this.#lanes.values()].map((lane) => lane.intake);
    await this.#commits.commitNow(owned);
    // From here on nothing is acked: what is not settled goes to the next subscriber.
    this.#phase = 'closed';
    for (const intake of owned) intake.revoked = true;
    await this.#p.source.close();
  });

  #assigned(partitions: readonly number[]): void {
    for (const partition of partitions) {
      if (this.#lanes.has(partition)) continue;
      this.#lanes.set(partition, {
        intake: new PartitionIntake(partition),
        queue: [],
        head: 0,
        handedOver: new Map(),
        attempts: new Map(),
        rewindTimer: undefined,
        busy: false,
        epoch: 0,
      });
    }
    if (this.#phase !== 'running') this.#p.source.pause(partitions);
    this.#wake();
  }

  #batch(partition: number, records: readonly SourceRecord[]): void {
    const lane = this.#lanes.get(partition);
    if (!lane || this.#phase !== 'running' || lane.intake.held) return;
    const { intake } = lane;
    // Records fetched again (a kept partition re-read from its committed offset) are skipped.
    for (const record of records) if (intake.track(record.offset)) lane.queue.push(record);
    if (!intake.paused && intake.buffered >= this.#p.queueCapacity) {
      intake.paused = true;
      this.#p.source.pause([partition]);
    }
    this.#wake();
  }

  async #run(): Promise<void> {
    while (this.#phase === 'running') {
      const next = this.#next();
      if (!next) {
        await new Promise<void>((resolve) => (this.#wakeUp = resolve));
        continue;
      }
      const { lane, record } = next;
      const decoded = record.decode();
      if (!decoded.ok) {
        void this.#deadLetter(lane, record, undecodableError(decoded.error));
        continue;
      }
      const delivery = this.#handOver(lane, record, decoded.message);
      try {
        await this.#p.handler(delivery);
      } catch (error) {
        this.#report(error);
        void delivery.nack({ delayMs: this.#p.rejectedRedeliveryDelayMs });
      }
    }
  }

  /** The next record to hand over, round-robin over the partitions that may hand over. */
  #next(): { lane: Lane; record: SourceRecord } | undefined {
    if (this.#p.maxUnsettled !== undefined && this.unsettled >= this.#p.maxUnsettled) return undefined;
    const lanes = [...this.#lanes.values()];
    for (let i = 0; i < lanes.length; i++) {
      const index = (this.#roundRobin + i) % lanes.length;
      const lane = lanes[index] as Lane;
      if (lane.intake.held || lane.busy || lane.head >= lane.queue.length) continue;
      if (lane.handedOver.size >= this.#p.queueCapacity) continue;
      const record = lane.queue[lane.head++] as SourceRecord;
      if (lane.head === lane.queue.length) {
        lane.queue = [];
        lane.head = 0;
      }
      this.#roundRobin = index + 1;
      return { lane, record };
    }
    return undefined;
  }

  #handOver(lane: Lane, record: SourceRecord, message: Delivery['message']): Delivery {
    const { offset } = record;
    const { partition } = lane.intake;
    const token = {};
    lane.handedOver.set(offset, token);
    const deliveryAttempt = this.#p.deliveryAttempt?.(partition, offset) ?? lane.attempts.get(offset) ?? 1;
    const live = (): boolean => this.#live(lane) && lane.handedOver.get(offset) === token;
    let settled = false;
    return Object.freeze({
      message,
      key: record.key,
      position: Object.freeze(this.#position(partition, offset)),
      deliveryAttempt,
      ack: async (): Promise<void> => {
        const ok = !settled && live();
        settled = true;
        if (ok) {
          lane.handedOver.delete(offset);
          lane.attempts.delete(offset);
          this.#settle(lane, offset);
        }
        return Promise.resolve();
      },
      nack: async (options: NackOptions = {}): Promise<void> => {
        const ok = !settled && live();
        settled = true;
        if (ok) this.#rewind(lane, offset, options.delayMs ?? 0);
        return Promise.resolve();
      },
    });
  }

  #live(lane: Lane): boolean {
    return (
      this.#phase !== 'closed' && !lane.intake.revoked && this.#lanes.get(lane.intake.partition) === lane
    );
  }

  #settle(lane: Lane, offset: bigint): void {
    const { intake } = lane;
    if (intake.settle(offset) && intake.tracker) {
      this.#p.source.settled?.(intake.partition, intake.tracker.committable);
      // Without a commit interval the commit starts now (in-memory: stored before `ack` returns).
      if ((this.#p.source.commitIntervalMs ?? 0) <= 0) void this.#commits.commitNow();
      else this.#commits.schedule();
    }
    if (
      intake.paused &&
      !intake.held &&
      intake.buffered < this.#p.queueCapacity &&
      this.#phase === 'running'
    ) {
      intake.paused = false;
      this.#p.source.resume([intake.partition]);
    }
    this.#wake();
  }

  /** Seeks the partition back to `offset` after `delayMs`: everything handed over from there on is forgotten. */
  #rewind(lane: Lane, offset: bigint, delayMs: number): void {
    const { intake } = lane;
    const { partition } = intake;
    for (const o of [...lane.handedOver.keys()]) {
      if (o < offset) continue;
      lane.handedOver.delete(o);
      lane.attempts.set(o, (lane.attempts.get(o) ?? 1) + 1);
    }
    lane.queue = [];
    lane.head = 0;
    lane.busy = false;
    lane.epoch++;
    intake.tracker?.reset(offset);
    intake.buffered = intake.tracker?.inFlight ?? 0;
    // Batches fetched before the seek are dropped until the partition is re-read from `offset`.
    intake.held = true;
    intake.paused = true;
    this.#p.source.pause([partition]);
    clearTimeout(lane.rewindTimer);
    if (this.#phase !== 'running') return;
    this.#wake(); // the forgotten deliveries free room (maxUnsettled) for the other partitions
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    lane.rewindTimer = setTimeout(() => {
      lane.rewindTimer = undefined;
      if (!this.#live(lane) || this.#phase !== 'running') return;
      this.#p.source.seek(partition, offset);
      intake.held = false;
      intake.paused = false;
      this.#p.source.resume([partition]);
      this.#wake();
    }, delay);
  }

  /** Dead-letters an undecodable record (retried until written, or the partition moves on), then settles it. */
  async #deadLetter(lane: Lane, record: SourceRecord, error: Error): Promise<void> {
    const epoch = lane.epoch;
    const current = (): boolean => this.#live(lane) && lane.epoch === epoch;
    lane.busy = true;
    const position = this.#position(lane.intake.partition, record.offset);
    const where = { ...position, reason: error.message };
    const deadLetters = this.#p.deadLetters;
    this.#report(error);
    if (!deadLetters) {
      this.#p.logger.error('Undecodable record dropped: the consumer has no dead-letter channel', where);
    } else {
      const letter = undecodableDeadLetter(record, error, position, deadLetters.name, this.#p.name);
      for (;;) {
        try {
          await deadLetters.send(letter);
          break;
        } catch (publishError) {
          this.#p.logger.error('Undecodable record could not be dead-lettered; retrying', {
            ...where,
            errorMessage: toError(publishError).message,
          });
          this.#report(publishError);
        }
        await new Promise((resolve) => setTimeout(resolve, this.#p.deadLetterRetryDelayMs ?? 1000));
        if (!current()) return; // revoked, rewound or closed: the record is read again by whoever reads it next
      }
      this.#deadLettered++;
      this.#p.logger.warn('Undecodable record dead-lettered', {
        ...where,
        deadLetterChannel: deadLetters.name,
      });
    }
    if (!current()) return;
    lane.busy = false;
    this.#settle(lane, record.offset);
  }

  #position(partition: number, offset: bigint): DeliveryPosition {
    const { channelName, group } = this.#p.source;
    return {
      channel: channelName,
      partition,
      offset: offset.toString(),
      ...(group === undefined ? {} : { group }),
    };
  }

  /** Revoke: stop handing over, forget the unsettled deliveries, commit what is done. */
  async #revoke(partitions: readonly number[]): Promise<void> {
    const intakes: PartitionIntake[] = [];
    for (const partition of partitions) {
      const lane = this.#lanes.get(partition);
      if (!lane) continue;
      clearTimeout(lane.rewindTimer);
      lane.intake.revoked = true;
      this.#lanes.delete(partition);
      intakes.push(lane.intake);
    }
    if (intakes.length > 0) await this.#commits.commitNow(intakes);
    this.#wake();
  }

  #wake(): void {
    const wakeUp = this.#wakeUp;
    this.#wakeUp = undefined;
    wakeUp?.();
  }

  #report(error: unknown): void {
    try {
      this.#p.onError?.(toError(error));
    } catch {
      // An error callback that throws must not stop the subscription.
    }
  }
}
