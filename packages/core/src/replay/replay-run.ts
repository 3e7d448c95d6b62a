import type { ConsumerEndpointOptions } from '../channel/channel-builders.js';
import type { ChannelReader, ChannelRecord } from '../channel/channel-reader.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, isGomesError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import type { ChannelResolver, ProcessingContext } from '../pipeline/processing-context.js';
import type { ReplayCheckpoint } from './replay-checkpoint-store.js';
import { DEFAULT_REPLAY_OPTIONS, type ReplayOptions } from './replay-options.js';
import { replayPipeline } from './replay-pipeline.js';
import type { ReplayFailure, ReplayReport, ReplayStatus } from './replay-report.js';

/** What a replay run works with. @internal */
export interface ReplayRunInit {
  /** Reads the replayed channel. */
  readonly reader: ChannelReader;
  /** Used when `options.handler` is not given: the registered action handlers. */
  readonly registeredHandler: MessageHandlerFn;
  /** The endpoint options of `options.consumer`, when given. */
  readonly consumer: ConsumerEndpointOptions | undefined;
  /** The instance's publisher channels (for handlers that publish). */
  readonly channels: ChannelResolver;
  readonly logger: Logger;
}

/** One partition's progress during the run. */
interface PartitionProgress {
  handled: number;
  failed: number;
  lastOffset: bigint | undefined;
  next: bigint;
}

/** A `stop` failure, an abort or an infrastructure failure that ends the run. */
class RunStopped extends Error {
  constructor(
    readonly status: Exclude<ReplayStatus, 'completed'>,
    readonly error: Error | undefined,
  ) {
    super(status);
  }
}

/**
 * One bounded replay of a channel's time window `[from, to)` (see `gomes.replay`): reads each
 * partition from its first record at or after `from` (or its checkpoint) up to before its first
 * record at or after `to` (or its end when the run began), and handles the records **one at a
 * time, in offset order per partition**. Owns the run's counts and the checkpoint it saves.
 *
 * @internal
 */
export class ReplayRun {
  readonly #init: ReplayRunInit;
  readonly #options: ReplayOptions;
  readonly #logger: Logger;
  readonly #handle: MessageHandlerFn;
  readonly #progress = new Map<number, PartitionProgress>();
  readonly #failures: ReplayFailure[] = [];
  readonly #resume = new Map<number, bigint>();
  #handled = 0;
  #filtered = 0;
  /** Set by the consumer's filter or interceptors while the current record runs. */
  #filteredNow = 0;
  #skippedCheckpointed = 0;
  #outsideWindow = 0;
  #checkpointsSaved = 0;
  #sinceSave = 0;

  constructor(init: ReplayRunInit, options: ReplayOptions) {
    this.#init = init;
    this.#options = options;
    this.#logger = init.logger.child({ replay: options.channel, checkpointId: options.checkpoint?.id });
    this.#handle = replayPipeline({
      options,
      registeredHandler: init.registeredHandler,
      consumer: init.consumer,
      onFiltered: () => this.#filteredNow++,
    });
  }

  /**
   * Runs the replay and reports what it did. Throws only before anything was handled: a
   * checkpoint that belongs to another window (`GOMES_CONFIGURATION`) or that could not be loaded.
   */
  async run(): Promise<ReplayReport> {
    const started = performance.now();
    const resumedFrom = await this.#loadCheckpoint();
    const { from, to, signal } = this.#options;
    this.#logger.info('replay started', {
      from: from.toISOString(),
      to: to.toISOString(),
      resumed: !!resumedFrom,
    });
    let status: ReplayStatus = 'completed';
    let error: Error | undefined;
    try {
      const records = this.#init.reader.read({
        start: { kind: 'timestamp', timestamp: from },
        end: { kind: 'timestamp', timestamp: to },
        ...(signal ? { signal } : {}),
      });
      for await (const record of records) {
        if (signal?.aborted) throw new RunStopped('aborted', undefined);
        await this.#record(record);
      }
    } catch (thrown) {
      const stop = this.#asStop(thrown);
      status = stop.status;
      error = stop.error;
    }
    const saveError = await this.#saveCheckpoint().then(
      () => undefined,
      (thrown: unknown) => this.#asStop(thrown).error,
    );
    if (saveError && status !== 'failed') {
      status = 'failed';
      error = saveError;
    }
    return this.#report(status, error, resumedFrom, performance.now() - started);
  }

  async #record(record: ChannelRecord): Promise<void> {
    const { partition } = record.position;
    const offset = BigInt(record.position.offset);
    const resumeAt = this.#resume.get(partition);
    if (resumeAt !== undefined && offset < resumeAt) {
      this.#skippedCheckpointed++;
      return;
    }
    const ms = record.timestamp.getTime();
    if (ms < this.#options.from.getTime() || ms >= this.#options.to.getTime()) {
      this.#outsideWindow++;
      this.#logger.warn(
        'replay: a record inside the window offsets has a timestamp outside it; not handled',
        {
          partition,
          offset: record.position.offset,
          timestamp: record.timestamp.toISOString(),
        },
      );
      this.#decided(partition, offset, 'skipped');
      return;
    }
    this.#filteredNow = 0;
    const failure =
      record.kind === 'undecodable' ? undecodableFailure(record) : await this.#handleMessage(record);
    if (failure) this.#fail(failure, offset);
    this.#decided(partition, offset, failure ? 'failed' : this.#filteredNow > 0 ? 'filtered' : 'handled');
    if (this.#options.checkpoint && ++this.#sinceSave >= this.#every()) await this.#saveCheckpoint();
  }

  /** Handles one message through the retries; the failure to report, if it failed. */
  async #handleMessage(
    record: Extract<ChannelRecord, { kind: 'message' }>,
  ): Promise<ReplayFailure | undefined> {
    const context = this.#context(record);
    try {
      await this.#handle(record.message, context);
      return undefined;
    } catch (thrown) {
      if (this.#options.signal?.aborted) throw new RunStopped('aborted', undefined);
      return {
        position: record.position,
        timestamp: record.timestamp,
        reason: 'handler',
        messageId: record.message.messageId,
        route: record.message.route,
        attempts: context.state.attempts,
        error: toError(thrown),
      };
    }
  }

  /** Reports a failed record; with `onFailure: 'stop'` it ends the run before the record is decided. */
  #fail(failure: ReplayFailure, offset: bigint): void {
    this.#failures.push(Object.freeze(failure));
    const fields = {
      partition: failure.position.partition,
      offset: failure.position.offset,
      reason: failure.reason,
      messageId: failure.messageId,
      route: failure.route,
      attempts: failure.attempts,
      errorCode: isGomesError(failure.error) ? failure.error.code : undefined,
      errorMessage: failure.error.message,
    };
    if ((this.#options.onFailure ?? DEFAULT_REPLAY_OPTIONS.onFailure) === 'stop') {
      this.#logger.error('replay stopped at a record that failed', fields);
      this.#progressOf(failure.position.partition, offset).failed++;
      throw new RunStopped('failed', failure.error);
    }
    this.#logger.error('replay: a record failed; reported and passed (onFailure: continue)', fields);
  }

  #decided(partition: number, offset: bigint, outcome: 'handled' | 'failed' | 'filtered' | 'skipped'): void {
    const progress = this.#progressOf(partition, offset);
    if (outcome === 'handled') {
      progress.handled++;
      this.#handled++;
    } else if (outcome === 'failed') progress.failed++;
    else if (outcome === 'filtered') this.#filtered++;
    progress.lastOffset = offset;
    progress.next = offset + 1n;
  }

  /** The progress of `partition`, where the run met its first record at `offset`. */
  #progressOf(partition: number, offset: bigint): PartitionProgress {
    let progress = this.#progress.get(partition);
    if (!progress) {
      progress = { handled: 0, failed: 0, lastOffset: undefined, next: offset };
      this.#progress.set(partition, progress);
    }
    return progress;
  }

  #context(record: Extract<ChannelRecord, { kind: 'message' }>): ProcessingContext & {
    position: typeof record.position;
    timestamp: Date;
  } {
    return {
      signal: this.#options.signal ?? NEVER_ABORTED,
      logger: this.#logger.child({
        partition: record.position.partition,
        offset: record.position.offset,
        messageId: record.message.messageId,
      }),
      endpointName: `replay:${this.#options.channel}`,
      channels: this.#init.channels,
      state: { attempts: 0 },
      position: record.position,
      timestamp: record.timestamp,
    };
  }

  async #loadCheckpoint(): Promise<Readonly<Record<number, string>> | undefined> {
    const options = this.#options.checkpoint;
    if (!options) return undefined;
    let checkpoint: ReplayCheckpoint | undefined;
    try {
      checkpoint = await options.store.load(options.id);
    } catch (error) {
      throw checkpointError(`could not be loaded from ${options.store.description}`, options.id, error);
    }
    if (!checkpoint) return undefined;
    const { channel, from, to } = this.#options;
    if (
      checkpoint.channel !== channel ||
      checkpoint.from.getTime() !== from.getTime() ||
      checkpoint.to.getTime() !== to.getTime()
    ) {
      throw new ConfigurationError(
        [
          `checkpoint "${options.id}" belongs to a replay of "${checkpoint.channel}" over [${checkpoint.from.toISOString()}, ${checkpoint.to.toISOString()}), not of "${channel}" over [${from.toISOString()}, ${to.toISOString()}); use another checkpoint id, the same window, or delete it`,
        ],
        `replay of "${channel}"`,
      );
    }
    for (const [partition, offset] of Object.entries(checkpoint.offsets))
      this.#resume.set(Number(partition), BigInt(offset));
    return checkpoint.offsets;
  }

  async #saveCheckpoint(): Promise<void> {
    const options = this.#options.checkpoint;
    if (!options) return;
    const offsets: Record<number, string> = {};
    for (const [partition, offset] of this.#resume) offsets[partition] = offset.toString();
    for (const [partition, progress] of this.#progress) offsets[partition] = progress.next.toString();
    const { channel, from, to } = this.#options;
    try {
      await options.store.save(options.id, { channel, from, to, offsets, updatedAt: new Date() });
    } catch (error) {
      const failure = checkpointError(
        `could not be saved to ${options.store.description}`,
        options.id,
        error,
      );
      this.#logger.error('replay checkpoint could not be saved', { errorMessage: failure.message });
      throw new RunStopped('failed', failure);
    }
    this.#checkpointsSaved++;
    this.#sinceSave = 0;
  }

  #every(): number {
    return this.#options.checkpoint?.every ?? DEFAULT_REPLAY_OPTIONS.checkpointEvery;
  }

  #asStop(thrown: unknown): RunStopped {
    if (thrown instanceof RunStopped) return thrown;
    const error = toError(thrown);
    if (this.#options.signal?.aborted && isGomesError(error) && error.code === 'GOMES_ABORTED')
      return new RunStopped('aborted', undefined);
    this.#logger.error('replay read failed', { errorMessage: error.message });
    return new RunStopped('failed', error);
  }

  #report(
    status: ReplayStatus,
    error: Error | undefined,
    resumedFrom: Readonly<Record<number, string>> | undefined,
    durationMs: number,
  ): ReplayReport {
    const partitions = [...this.#progress]
      .sort(([a], [b]) => a - b)
      .map(([partition, p]) =>
        Object.freeze({
          partition,
          handled: p.handled,
          failed: p.failed,
          lastOffset: p.lastOffset?.toString(),
          nextOffset: p.next.toString(),
        }),
      );
    const report: ReplayReport = Object.freeze({
      channel: this.#options.channel,
      from: this.#options.from,
      to: this.#options.to,
      status,
      handled: this.#handled,
      filtered: this.#filtered,
      failed: this.#failures.length,
      undecodable: this.#failures.filter((f) => f.reason === 'undecodable').length,
      skippedCheckpointed: this.#skippedCheckpointed,
      outsideWindow: this.#outsideWindow,
      failures: Object.freeze([...this.#failures]),
      partitions: Object.freeze(partitions),
      resumedFrom,
      checkpointsSaved: this.#checkpointsSaved,
      error,
      durationMs: Math.round(durationMs),
    });
    const fields = {
      status,
      handled: report.handled,
      filtered: report.filtered,
      failed: report.failed,
      skippedCheckpointed: report.skippedCheckpointed,
      outsideWindow: report.outsideWindow,
      durationMs: report.durationMs,
    };
    if (status === 'completed') this.#logger.info('replay finished', fields);
    else this.#logger.warn(`replay ${status}`, { ...fields, errorMessage: error?.message });
    return report;
  }
}

function undecodableFailure(record: Extract<ChannelRecord, { kind: 'undecodable' }>): ReplayFailure {
  return {
    position: record.position,
    timestamp: record.timestamp,
    reason: 'undecodable',
    messageId: undefined,
    route: undefined,
    attempts: 0,
    error: record.error,
  };
}

const NEVER_ABORTED = new AbortController().signal;

function checkpointError(what: string, id: string, cause: unknown): GomesError {
  return new GomesError(
    'REPLAY_CHECKPOINT_FAILED',
    `Replay checkpoint "${id}" ${what}: ${toError(cause).message}`,
    {
      cause,
      details: { checkpointId: id },
    },
  );
}
