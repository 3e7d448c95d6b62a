import type { PartitionedSource } from '../transport/spi/partitioned-source.js';
import type { Message } from '../message/message.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import { MAX_PROCESSING_TIMEOUT_MS } from '../pipeline/middleware/processing-timeout.js';
import {
  DEFAULT_CONSUMER_STOP_BUDGET_MS,
  DEFAULT_EVENT_DRIVEN_CONSUMER_OPTIONS,
  validateEventDrivenConsumerOptions,
  type EventDrivenConsumerInit,
  type EventDrivenConsumerOptions,
  type EventDrivenConsumerState,
  type EventDrivenConsumerStats,
} from './event-driven-consumer-options.js';
import { zeroCounters, type ConsumerCounters } from '../consume/consumer-counters.js';
import {
  startPositionProblems,
  type SeekedPartition,
  type SeekOptions,
  type StartPosition,
} from '../consume/start-position.js';
import type { ConsumeEngine } from '../consume/consume-engine.js';
import type { SubscriptionSource } from '../consume/subscription-source.js';
import { eventDrivenConsumerEngine } from './event-driven-consumer-engine.js';
import { stopConsumeEngine } from './event-driven-consumer-stop.js';
import { copiedEndpointError } from './copied-endpoint-error.js';

/**
 * Event-Driven Consumer: runs every message of a consumer channel through the consumer pipeline
 * (see `consumerPipeline`: dead letter, reply, retry, timeout, middleware, interceptors, filter,
 * then `handler`) on gomes' consume engine — one path for every channel: the channel's
 * partitioned source (`ConsumerChannel.openSource`: Kafka, in-memory) or, for a subscribe-only
 * channel, its subscription as a one-partition source with per-record settlement.
 *
 * - **Settlement:** a message is acked only after its handler succeeded, it was filtered out, or it
 *   was safely dead-lettered. A message that failed for good without a dead letter is never acked:
 *   it runs again after `nackDelayMs` (its key's later messages wait for it). Never dropped silently.
 * - **Concurrency and order:** up to `amountOfProcessors` messages run at once; messages with the
 *   same key (in the same partition) run one at a time, in order; a message waiting for a retry
 *   holds no processor.
 * - **Backpressure:** at most `maxBufferedRecordsPerPartition` (or the deprecated `queueCapacity`)
 *   records per partition are fetched and unsettled; a subscribe-only channel's delivery handler
 *   waits for room before it accepts the next delivery.
 * - **Configuring:** the `with*` methods return a new, configured consumer and leave this one
 *   unchanged; running a consumer a `with*` call was made on fails with a `ConfigurationError`
 *   (run the one `with*` returned).
 * - **Stop:** see {@link EventDrivenConsumer.stop}: accepted messages finish within the budget. `stopOnError` (default false, unlike Go gomes)
 *   stops the consumer when a message fails for good or the transport reports an error; the state
 *   is then `crashed`.
 *
 * @example
 * ```ts
 * const consumer = gomes.eventDrivenConsumer('orders').withAmountOfProcessors(4).withMessageProcessingTimeout(30_000);
 * await consumer.run();
 * // ...
 * await consumer.stop(10_000);
 * ```
 * @public
 */
export class EventDrivenConsumer {
  /** Endpoint name. */
  readonly name: string;
  readonly #init: EventDrivenConsumerInit;
  readonly #logger: Logger;
  readonly #options: EventDrivenConsumerOptions;
  /** Set once a `with*` call made a configured copy of this consumer: `run()` then refuses. */
  #copied = false;
  readonly #counters: ConsumerCounters = zeroCounters();
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => undefined;
  #state: EventDrivenConsumerState = 'idle';
  #error: Error | undefined;
  /** Set by `run()`: the consume engine that runs the consumer. */
  #engine: ConsumeEngine | undefined;
  /** Set when the channel only offers `subscribe`: the engine's source over the subscription. */
  #subscriptionSource: SubscriptionSource | undefined;
  #stopPromise: Promise<void> | undefined;
  /** Removes the abort listener `run(signal)` added. */
  #unlistenRunSignal: (() => void) | undefined;

  /**
   * Made by the gomes instance (`gomes.eventDrivenConsumer(name)`); `options` are the run options
   * a `with*` copy carries over.
   */
  constructor(
    init: EventDrivenConsumerInit,
    options: Readonly<EventDrivenConsumerOptions> = DEFAULT_EVENT_DRIVEN_CONSUMER_OPTIONS,
  ) {
    this.name = init.name;
    this.#init = init;
    this.#options = { ...options };
    this.#logger = init.logger.child({ consumer: init.name });
    this.#done = new Promise<void>((resolve) => (this.#resolveDone = resolve));
  }

  /** Messages processed at once (different keys only). @default 1 */
  withAmountOfProcessors(amount: number): EventDrivenConsumer {
    return this.#set({ amountOfProcessors: amount });
  }

  /**
   * Bound of each handler attempt in ms (its signal is aborted; the attempt is retriable); 0 = none.
   * A handler that ignores its signal keeps running after the timeout: its message's key and
   * processor slot stay held until it settled, and a retry waits for it (at most the timeout
   * again) — see docs/event-driven-consumer.md. Handlers should honour `ctx.signal`.
   * @default 100000
   */
  withMessageProcessingTimeout(timeoutMs: number): EventDrivenConsumer {
    return this.#set({ messageProcessingTimeoutMs: timeoutMs });
  }

  /** Stop when a message ends in failure or the subscription reports an error. @default false */
  withStopOnError(stopOnError: boolean): EventDrivenConsumer {
    return this.#set({ stopOnError });
  }

  /**
   * Records buffered and unsettled per partition (>= processors): on a subscribe-only channel, the
   * deliveries accepted and not settled. Unset: `maxBufferedRecordsPerPartition` applies.
   * @deprecated The same bound as {@link EventDrivenConsumer.withMaxBufferedRecordsPerPartition}
   * (mapped, with a warning at `run()` on a partitioned source); removed in the next release.
   */
  withQueueCapacity(capacity: number): EventDrivenConsumer {
    return this.#set({ queueCapacity: capacity });
  }

  /**
   * Records fetched and not settled per partition (the source pauses the partition when full and
   * resumes it below half). @default 1000
   */
  withMaxBufferedRecordsPerPartition(records: number): EventDrivenConsumer {
    return this.#set({ maxBufferedRecordsPerPartition: records });
  }

  /**
   * Stored value bytes fetched and not settled per partition: the partition is paused when they
   * reach it, as when its records reach `withMaxBufferedRecordsPerPartition`. @default 33554432 (32 MiB)
   */
  withMaxBufferedBytesPerPartition(bytes: number): EventDrivenConsumer {
    return this.#set({ maxBufferedBytesPerPartition: bytes });
  }

  /** How long a revoke waits for the aborted handlers of revoked partitions, in ms. @default 10000 */
  withRevokeBudget(budgetMs: number): EventDrivenConsumer {
    return this.#set({ revokeBudgetMs: budgetMs });
  }

  /** Delay before a failed message is redelivered, in ms. @default 1000 */
  withNackDelay(delayMs: number): EventDrivenConsumer {
    return this.#set({ nackDelayMs: delayMs });
  }

  /** After the stop budget expired, how long to wait for the transport before abandoning it, in ms. @default 5000 */
  withStopGrace(graceMs: number): EventDrivenConsumer {
    return this.#set({ stopGraceMs: graceMs });
  }

  /**
   * Where each partition is read from at its first assignment after `run()`, overriding the
   * group's committed offset: `earliest`, `latest`, a timestamp, or explicit offsets (see
   * {@link StartPosition} and docs/replay.md "Start positions and seek"). Applied once per
   * partition per run: a partition reassigned to this member later resumes from its committed
   * offset. Needs a transport with a partitioned source.
   */
  withStartPosition(position: StartPosition): EventDrivenConsumer {
    return this.#set({ startPosition: position });
  }

  /**
   * Moves partitions of the running consumer to `position` (every assigned partition, or
   * `options.partitions`; for `offsets`, the listed ones). Per partition: fetching pauses, its
   * buffered records not started yet are dropped (never acked: they are read again from the new
   * position, or skipped when it is past them), its running handlers finish (including their
   * retries), what is done is committed — never past an unfinished record — then reading resumes at
   * the new position and commits follow from there. Resolves with the partitions moved (those
   * revoked meanwhile are not).
   *
   * @throws ConfigurationError on an invalid position; GomesError `GOMES_ILLEGAL_STATE` when the
   * consumer is not running on a partitioned source; `GOMES_NOT_SUPPORTED` when the transport cannot
   * resolve `earliest` / `latest` / a timestamp; the transport's error when resolving fails
   * (nothing moved then).
   */
  async seek(position: StartPosition, options: SeekOptions = {}): Promise<readonly SeekedPartition[]> {
    ConfigurationError.throwIfAny(
      startPositionProblems(position, 'position'),
      `seek of consumer "${this.name}"`,
    );
    const engine = this.#engine;
    if (this.#state !== 'running' || !engine || this.#subscriptionSource) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Consumer "${this.name}" cannot seek: it is ${this.#state}` +
          (this.#state === 'running' ? ' on a channel without a partitioned source' : ''),
      );
    }
    return engine.seek(position, options.partitions);
  }

  /** The run options (a copy). */
  get options(): Readonly<EventDrivenConsumerOptions> {
    return Object.freeze({ ...this.#options });
  }

  /** Lifecycle state. */
  get state(): EventDrivenConsumerState {
    return this.#state;
  }

  /** Counters (a snapshot). */
  get stats(): EventDrivenConsumerStats {
    return Object.freeze({
      ...this.#counters,
      inFlight: this.#engine?.inFlight ?? 0,
    });
  }

  /** The error that stopped the consumer (state `crashed`), if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Resolves (never rejects) once the consumer is `stopped` or `crashed`. */
  get done(): Promise<void> {
    return this.#done;
  }

  /**
   * Validates the options (one `ConfigurationError` listing every problem), opens the channel's
   * source (or subscribes), and resolves once it runs. Aborting `signal` stops the consumer
   * gracefully (as `stop()`).
   *
   * @throws ConfigurationError on invalid options; GomesError `GOMES_ILLEGAL_STATE` when not idle;
   * the channel's error when subscribing fails (the state is then `crashed`).
   */
  async run(signal?: AbortSignal): Promise<void> {
    if (this.#state !== 'idle') {
      throw new GomesError('ILLEGAL_STATE', `Consumer "${this.name}" cannot run: it is ${this.#state}`);
    }
    if (this.#copied) throw copiedEndpointError('event-driven consumer', this.name, 'run()');
    this.#init.onRun?.(this);
    const o = this.#options;
    const channel = this.#init.channel;
    ConfigurationError.throwIfAny(
      [
        ...validateEventDrivenConsumerOptions(o, this.#init),
        ...(o.startPosition !== undefined && channel.openSource === undefined
          ? [
              `startPosition needs a transport with a partitioned source; channel "${channel.channelName}" has none: remove withStartPosition`,
            ]
          : []),
      ],
      `event-driven consumer "${this.name}"`,
    );
    this.#state = 'running';
    let source: PartitionedSource;
    try {
      ({
        engine: this.#engine,
        source,
        subscription: this.#subscriptionSource,
      } = eventDrivenConsumerEngine({
        init: this.#init,
        options: o,
        counters: this.#counters,
        logger: this.#logger,
        onFailed: (error, message) => this.#onEngineFailure(error, message),
        onSourceError: (error) => this.#onSubscriptionError(error),
      }));
    } catch (error) {
      return this.#failedToStart(error);
    }
    try {
      await this.#engine.start();
    } catch (error) {
      await source.close().catch(() => undefined);
      return this.#failedToStart(error);
    }
    this.#listenRunSignal(signal);
    this.#logger.info('Consumer running', { channel: channel.channelName, ...o });
  }

  #failedToStart(error: unknown): never {
    this.#error = toError(error);
    this.#state = 'crashed';
    this.#logger.error('Subscribing failed', { errorMessage: this.#error.message });
    this.#resolveDone();
    throw error;
  }

  #onEngineFailure(error: Error, message: Message | undefined): void {
    if (this.#options.stopOnError && this.#state === 'running') {
      this.#crash(
        new GomesError(
          'CONSUMER_CRASHED',
          `Consumer "${this.name}" stopped: a message failed and stopOnError is set`,
          {
            cause: error,
            details: { messageId: message?.messageId },
          },
        ),
      );
    }
  }

  #listenRunSignal(signal: AbortSignal | undefined): void {
    if (signal) {
      if (signal.aborted) void this.stop();
      else {
        const onAbort = (): void => void this.stop();
        signal.addEventListener('abort', onAbort, { once: true });
        this.#unlistenRunSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
  }

  /**
   * Stops gracefully: stops fetching (a subscription: `Subscription.stop()`), lets the messages
   * accepted — running, waiting for a retry, and buffered but not started — finish within
   * `budgetMs`, then aborts the signals of those still running and drops the ones not started (never
   * acked: they are redelivered — a subscription's are nacked), commits what is done and closes the
   * source. Finishing the accepted messages keeps the committed offsets of a partition gap-free, so a
   * restarted consumer does not get messages already processed. A message waiting to run again after
   * a failure is left to the transport at once. When the consumer stops because it crashed
   * (`stopOnError`), messages not started are dropped (never acked) at once.
   *
   * Bounded: once the budget expired, the transport gets at most `stopGraceMs` (default 5 s) more to
   * settle, commit and close; what is still pending then is abandoned (logged as an error; the
   * transport redelivers whatever it did not settle) and the consumer is `stopped`. `budgetMs`
   * `Infinity` waits for the in-flight messages without a timer.
   * Idempotent; concurrent calls share one promise (the first call's budget applies).
   *
   * @throws GomesError `GOMES_CONFIGURATION` when `budgetMs` is not an integer in 0..2147483647 nor
   * `Infinity` (otherwise it never rejects).
   */
  async stop(budgetMs: number = DEFAULT_CONSUMER_STOP_BUDGET_MS): Promise<void> {
    if (
      budgetMs !== Infinity &&
      !(Number.isInteger(budgetMs) && budgetMs >= 0 && budgetMs <= MAX_PROCESSING_TIMEOUT_MS)
    ) {
      throw new GomesError(
        'CONFIGURATION',
        `stop budget must be an integer between 0 and ${MAX_PROCESSING_TIMEOUT_MS} ms, or Infinity (got ${String(budgetMs)})`,
        { details: { consumer: this.name, budgetMs } },
      );
    }
    this.#stopPromise ??= this.#doStop(budgetMs);
    return this.#stopPromise;
  }

  async #doStop(budgetMs: number): Promise<void> {
    this.#unlistenRunSignal?.();
    this.#unlistenRunSignal = undefined;
    const engine = this.#engine;
    if (this.#state === 'idle' || this.#state === 'crashed' || !engine) {
      if (this.#state !== 'crashed') this.#state = 'stopped';
      this.#resolveDone();
      return;
    }
    this.#state = 'stopping';
    this.#logger.info('Consumer stopping', { inFlight: engine.inFlight, budgetMs });
    await stopConsumeEngine({
      engine,
      subscription: this.#subscriptionSource,
      budgetMs,
      crashed: this.#error !== undefined,
      graceMs: this.#options.stopGraceMs,
      logger: this.#logger,
    });
    this.#state = this.#error ? 'crashed' : 'stopped';
    this.#logger.info('Consumer stopped', { state: this.#state, ...this.#counters });
    this.#resolveDone();
  }

  #onSubscriptionError(error: Error): void {
    this.#counters.subscriptionErrors++;
    this.#logger.error('Subscription error', { errorName: error.name, errorMessage: error.message });
    this.#emitError(error);
    if (this.#options.stopOnError && this.#state === 'running') {
      this.#error = error;
      void this.stop();
    }
  }

  #crash(error: Error): void {
    this.#error = error;
    this.#logger.error('Consumer stopping on error', { errorMessage: error.message });
    this.#emitError(error);
    void this.stop();
  }

  #emitError(error: Error): void {
    try {
      this.#init.onError?.(error);
    } catch (listenerError) {
      this.#logger.error('onError listener threw', { errorMessage: toError(listenerError).message });
    }
  }

  /**
   * A new consumer with `changes` applied over these options (this one is unchanged); this one is
   * marked so that running it fails instead of silently running without `changes`.
   */
  #set(changes: Partial<EventDrivenConsumerOptions>): EventDrivenConsumer {
    if (this.#state !== 'idle') {
      throw new GomesError('ILLEGAL_STATE', `Consumer "${this.name}" options must be set before run()`);
    }
    this.#copied = true;
    return new EventDrivenConsumer(this.#init, { ...this.#options, ...changes });
  }
}
