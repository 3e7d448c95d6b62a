import type { DeliveryPosition, NackOptions } from '../channel/consumer-channel.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import { noopLogger, type Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import { AbortScope, scopedContext } from '../pipeline/abort-scope.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import type { ChannelResolver, ProcessingState } from '../pipeline/processing-context.js';
import { staleAttemptsSettled } from '../pipeline/stale-attempts.js';
import type { PartitionedSource, SourceRecord } from '../transport/spi/partitioned-source.js';
import type { ConsumerCounters } from './consumer-counters.js';
import { withinBudget } from '../internal/within-budget.js';
import { KeyScheduler, type RunResult } from './key-scheduler.js';
import { PartitionIntake, recordBytes } from './partition-intake.js';
import type { PartitionOffsetTracker } from '../channel/partition-offset-tracker.js';
import {
  PROCESSOR_RELEASE,
  type ProcessorHandOff,
  type ProcessorResumer,
  type ReleasableDelivery,
} from './processor-release.js';
import { undecodableDeadLetter, undecodableError } from './undecodable-dead-letter.js';
import type { SeekedPartition, StartPosition } from './start-position.js';
import { PartitionMover } from './partition-mover.js';
import { OffsetCommits } from './offset-commits.js';

/** What the engine needs from its consumer. @internal */
export interface ConsumeEngineParams {
  readonly name: string;
  readonly source: PartitionedSource;
  readonly pipeline: MessageHandlerFn;
  readonly channels: ChannelResolver;
  readonly deadLetterChannelName: string | undefined;
  readonly processors: number;
  readonly maxBufferedRecordsPerPartition: number;
  /** Stored value bytes buffered per partition before it is paused (see `recordBytes`). */
  readonly maxBufferedBytesPerPartition: number;
  /** Delay before a failed message (retries exhausted, not dead-lettered) runs again, in ms. */
  readonly nackDelayMs: number;
  /** How long a revoke waits for the aborted handlers of the revoked partitions, in ms. */
  readonly revokeBudgetMs: number;
  /** Applied at the first assignment of each partition, over the committed offset (see `StartPosition`). */
  readonly startPosition: StartPosition | undefined;
  readonly counters: ConsumerCounters;
  readonly logger: Logger;
  /** The pipeline's outcome for a finished run ('filtered', 'deadLettered', 'duplicates'), if any. */
  readonly outcomeOf: (state: ProcessingState) => 'filtered' | 'deadLettered' | 'duplicates' | undefined;
  /** A message ended failed (it runs again after `nackDelayMs`). */
  readonly onFailed: (error: Error, message: Message | undefined) => void;
  readonly onSourceError: (error: Error) => void;
}

/** One fetched record on its way through the engine. */
interface Work {
  readonly intake: PartitionIntake;
  readonly record: SourceRecord;
  readonly laneKey: string;
  message: Message | undefined;
  state: ProcessingState;
  deliveryAttempt: number;
  scope: AbortScope | undefined;
  /** The running attempt (set while it is in `ConsumeEngine.#running`). */
  running: Promise<RunResult> | undefined;
}

/**
 * The consume machinery of an event-driven consumer, once for every transport: intake of whole
 * fetched batches per partition, the key-ordered scheduler (retries wait without a processor), the
 * single settle point, gap-safe commits, and revoke drain. The transport is a {@link PartitionedSource}.
 *
 * @internal
 */
export class ConsumeEngine {
  readonly #p: ConsumeEngineParams;
  readonly #intakes = new Map<number, PartitionIntake>();
  /** Work whose attempt runs now (its promise is `work.running`). */
  readonly #running = new Set<Work>();
  readonly #scheduler: KeyScheduler<Work>;
  readonly #commits: OffsetCommits;
  #intakeOpen = true;
  readonly #mover: PartitionMover;

  constructor(params: ConsumeEngineParams) {
    this.#p = params;
    this.#scheduler = new KeyScheduler<Work>({
      concurrency: params.processors,
      keyOf: (work) => work.laneKey,
      groupOf: (work) => work.intake.partition,
      // The run's own promise, without an async wrapper's extra hop per message.
      // eslint-disable-next-line @typescript-eslint/promise-function-async
      run: (work) => this.#run(work),
      onError: (error) =>
        params.logger.error('Unexpected error in message task', { errorMessage: toError(error).message }),
    });
    this.#commits = new OffsetCommits({
      source: params.source,
      logger: params.logger,
      owned: () => this.#intakes.values(),
      open: () => this.#intakeOpen,
    });
    this.#mover = new PartitionMover({
      name: params.name,
      source: params.source,
      startPosition: params.startPosition,
      retryDelayMs: Math.max(params.nackDelayMs, 100),
      logger: params.logger,
      onSourceError: params.onSourceError,
      intake: (partition) => this.#intakes.get(partition),
      open: () => this.#intakeOpen,
      drain: async (intakes) => {
        this.#scheduler.remove((work) => intakes.has(work.intake));
        const running: Promise<unknown>[] = [];
        for (const work of this.#running)
          if (intakes.has(work.intake) && work.running) running.push(work.running);
        await Promise.all(running);
        // A running message that failed was queued to run again: it is re-read from the new position.
        this.#scheduler.remove((work) => intakes.has(work.intake));
      },
      commit: async (intakes) => this.#commits.commitNow(intakes),
      replace: (intake, movedTo) => {
        intake.revoked = true;
        const fresh = new PartitionIntake(intake.partition, movedTo);
        this.#intakes.set(intake.partition, fresh);
        return fresh;
      },
    });
  }

  /**
   * The retry middleware's wait, run without a processor (see `KeyScheduler.withoutProcessor`): a
   * message waiting for its next attempt keeps its key blocked and lets other keys run.
   */
  async retryWait(wait: () => Promise<void>): Promise<void> {
    return this.#handOff.wait(wait);
  }

  /** How a running message gives its processor back (one object for every delivery). */
  readonly #handOff: ProcessorHandOff = Object.freeze({
    wait: async <R>(wait: () => Promise<R>): Promise<R> => this.#scheduler.withoutProcessor(wait),
    release: (): void => this.#scheduler.releaseProcessor(),
    reacquire: (resumer: ProcessorResumer): void => this.#scheduler.reacquireProcessor(resumer),
  });

  /** Records fetched and not settled (queued, waiting for a retry, or running). */
  get inFlight(): number {
    return this.#scheduler.size;
  }

  /** Starts the source. */
  async start(): Promise<void> {
    this.#mover.checkSupported();
    await this.#p.source.start({
      assigned: (partitions) => {
        for (const p of partitions) if (!this.#intakes.has(p)) this.#intakes.set(p, new PartitionIntake(p));
        this.#mover.assigned(partitions);
      },
      revoked: async (partitions) => this.#revoke(partitions),
      batch: async (partition, records) => {
        this.#intake(partition, records);
        return Promise.resolve();
      },
      error: (error) => this.#p.onSourceError(error),
    });
  }

  /**
   * Stops intake and lets buffered work finish within `budgetMs`; past it (or at once when the
   * consumer crashed), drops what has not started and aborts what runs — never acked. Then commits
   * what is done and closes the source (which revokes what is left).
   */
  async stop(budgetMs: number, crashed: boolean): Promise<void> {
    this.#intakeOpen = false;
    this.#p.source.pause([...this.#intakes.keys()]);
    // Messages waiting to run again after a failure are left to the next owner (never acked).
    this.#scheduler.abandonWaiting();
    if (crashed || !(await withinBudget(this.#scheduler.whenIdle(), budgetMs))) {
      this.#scheduler.remove(() => true);
      const reason = new GomesError(
        'ABORTED',
        `Consumer "${this.#p.name}" stopped before the message finished`,
      );
      for (const work of this.#running) work.scope?.abort(reason);
      if (this.#running.size > 0) {
        // Aborted, not awaited: whatever they do now is never acked (their partitions are released).
        this.#p.logger.warn('Stop budget expired; aborted the handlers still running (never acked)', {
          running: this.#running.size,
        });
      }
    }
    const owned = [...this.#intakes.values()];
    for (const intake of owned) intake.revoked = true;
    this.#commits.cancelTimer();
    await this.#commits.commitNow(owned);
    await this.#p.source.close();
  }

  /**
   * Moves partitions of the running consumer to `position` (see {@link PartitionMover.seek}).
   * Resolves with the partitions moved.
   */
  async seek(position: StartPosition, partitions?: readonly number[]): Promise<SeekedPartition[]> {
    return this.#mover.seek(position, [...this.#intakes.keys()], partitions);
  }

  #intake(partition: number, records: readonly SourceRecord[]): void {
    const intake = this.#intakes.get(partition);
    if (!intake || !this.#intakeOpen || intake.held) return;
    for (const record of records) {
      if (!intake.track(record.offset, recordBytes(record.rawValue))) continue;
      this.#p.counters.received++;
      this.#scheduler.enqueue({
        intake,
        record,
        laneKey: `${partition}\u0000${record.key}`,
        message: undefined,
        state: { attempts: 0 },
        deliveryAttempt: record.deliveryAttempt ?? 1,
        scope: undefined,
        running: undefined,
      });
    }
    if (
      !intake.paused &&
      intake.reaches(this.#p.maxBufferedRecordsPerPartition, this.#p.maxBufferedBytesPerPartition)
    ) {
      intake.paused = true;
      this.#p.source.pause([partition]);
    }
  }

  // The attempt's own promise, without an async wrapper's extra promise and hop per message.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  #run(work: Work): Promise<RunResult> {
    if (work.intake.revoked) return Promise.resolve(DONE);
    // `#attempt` adds `work` to `#running` synchronously and removes it when it ends; the promise
    // is read by revoke and drain, which run in later turns.
    const done = this.#attempt(work);
    if (this.#running.has(work)) work.running = done;
    return done;
  }

  /** Runs one attempt and settles it: the one place that decides done / again / failed. */
  async #attempt(work: Work): Promise<RunResult> {
    this.#running.add(work);
    try {
      const position = this.#position(work);
      if (work.message === undefined) {
        const decoded = work.record.decode();
        if (!decoded.ok)
          return await this.#deadLetterUndecodable(work, undecodableError(decoded.error), position);
        work.message = decoded.message;
      }
      const message = work.message;
      const scope = new AbortScope();
      work.scope = scope;
      const explicit: { nack?: NackOptions; ack?: true } = {};
      const delivery: ReleasableDelivery = {
        [PROCESSOR_RELEASE]: this.#handOff,
        message,
        key: work.record.key,
        position,
        deliveryAttempt: work.deliveryAttempt,
        ack: async () => void (explicit.ack ??= true),
        nack: async (options: NackOptions = {}) =>
          void (explicit.ack === undefined && (explicit.nack ??= options)),
      };
      const ctx = scopedContext(
        scope,
        { endpointName: this.#p.name, delivery, channels: this.#p.channels, state: work.state },
        this.#p.logger === noopLogger ? noopLogger : undefined,
        () => this.#p.logger.child({ messageId: message.messageId, correlationId: message.correlationId }),
      );
      let result: RunResult;
      try {
        await this.#p.pipeline(message, ctx);
        result = explicit.nack ? this.#failed(work, undefined, explicit.nack.delayMs) : this.#done(work);
      } catch (thrown) {
        if (work.intake.revoked || scope.aborted) result = DONE;
        else result = this.#failed(work, toError(thrown), undefined);
      }
      const stale = staleAttemptsSettled(work.state);
      if (stale) await stale;
      return result;
    } finally {
      this.#running.delete(work);
      work.running = undefined;
    }
  }

  #done(work: Work): RunResult {
    if (work.intake.revoked) return DONE;
    const outcome = this.#p.outcomeOf(work.state);
    if (outcome) this.#p.counters[outcome]++;
    else this.#p.counters.succeeded++;
    this.#p.counters.acked++;
    this.#settle(work);
    return DONE;
  }

  /** Failed for good without a dead letter: it runs again (a redelivery) after the nack delay. */
  #failed(work: Work, error: Error | undefined, delayMs: number | undefined): RunResult {
    if (work.intake.revoked) return DONE;
    this.#p.counters.failed++;
    this.#p.counters.nacked++;
    work.deliveryAttempt++;
    work.state = { attempts: 0 };
    this.#p.onFailed(error ?? new GomesError('ABORTED', 'Message nacked by its handler'), work.message);
    // Stopping: left (with its key's later messages) to the next owner, never acked.
    if (!this.#intakeOpen) return ABANDON;
    return { kind: 'again', delayMs: delayMs ?? this.#p.nackDelayMs };
  }

  async #deadLetterUndecodable(work: Work, error: Error, position: DeliveryPosition): Promise<RunResult> {
    const where = { ...position, reason: error.message };
    const channelName = this.#p.deadLetterChannelName;
    const publisher = channelName === undefined ? undefined : this.#p.channels.publisher(channelName);
    if (channelName === undefined || !publisher) {
      this.#p.logger.error('Undecodable record dropped: the consumer has no dead-letter channel', where);
      this.#p.counters.undecodableDropped++;
      this.#p.onSourceError(error);
      this.#settle(work);
      return DONE;
    }
    try {
      // Without holding the processor, as the dead-letter middleware's publish: other keys run meanwhile.
      await this.#handOff.wait(async () =>
        publisher.send(undecodableDeadLetter(work.record, error, position, channelName, this.#p.name)),
      );
    } catch (publishError) {
      this.#p.logger.error('Undecodable record could not be dead-lettered; retrying', {
        ...where,
        errorMessage: toError(publishError).message,
      });
      return { kind: 'again', delayMs: this.#p.nackDelayMs };
    }
    this.#p.logger.warn('Undecodable record dead-lettered', { ...where, deadLetterChannel: channelName });
    this.#p.counters.deadLettered++;
    this.#p.counters.acked++;
    this.#settle(work);
    return DONE;
  }

  #settle(work: Work): void {
    const { intake } = work;
    if (intake.revoked) return;
    const source = this.#p.source;
    if (source.settlement === 'per-record') {
      // Queue brokers: acked broker-side; what is never acked is requeued by the broker on close.
      source.settle?.(intake.partition, work.record, 'ack').catch((error: unknown) =>
        this.#p.logger.warn('Broker ack failed; the broker redelivers the message', {
          errorMessage: toError(error).message,
        }),
      );
    }
    if (intake.settle(work.record.offset, recordBytes(work.record.rawValue))) {
      source.settled?.(intake.partition, (intake.tracker as PartitionOffsetTracker).committable);
      this.#commits.schedule();
    }
    const { maxBufferedRecordsPerPartition: records, maxBufferedBytesPerPartition: bytes } = this.#p;
    if (intake.paused && intake.within(records / 2, bytes / 2)) {
      intake.paused = false;
      if (this.#intakeOpen) this.#p.source.resume([intake.partition]);
    }
  }

  #position(work: Work): DeliveryPosition {
    if (work.record.position) return work.record.position;
    const source = this.#p.source;
    const offset = work.record.offset.toString();
    // One object literal per case (no spread of a temporary object per message).
    return source.group === undefined
      ? { channel: source.channelName, partition: work.intake.partition, offset }
      : { channel: source.channelName, partition: work.intake.partition, offset, group: source.group };
  }

  /** Revoke: stop intake, abort and await the partitions' handlers within the budget, commit, release. */
  async #revoke(partitions: readonly number[]): Promise<void> {
    const intakes = partitions.flatMap((p) => this.#intakes.get(p) ?? []);
    if (intakes.length === 0) return;
    const revoked = new Set(intakes);
    this.#scheduler.remove((work) => revoked.has(work.intake));
    const reason = new GomesError('ABORTED', 'Partition revoked before the message finished');
    const running: Promise<unknown>[] = [];
    for (const work of this.#running) {
      if (revoked.has(work.intake)) {
        work.scope?.abort(reason);
        if (work.running) running.push(work.running);
      }
    }
    if (!(await withinBudget(Promise.all(running), this.#p.revokeBudgetMs))) {
      this.#p.logger.warn('Revoke budget expired; handlers of revoked partitions still run (never acked)', {
        partitions,
      });
    }
    // From here on, a late handler of these partitions is never acked by this member.
    for (const intake of intakes) {
      intake.revoked = true;
      this.#intakes.delete(intake.partition);
    }
    await this.#commits.commitNow(intakes);
  }
}

const DONE: RunResult = Object.freeze({ kind: 'done' });
const ABANDON: RunResult = Object.freeze({ kind: 'abandon' });
