import type { ConsumerChannel, Delivery, Subscription } from '../channel/consumer-channel.js';
import type { Message } from '../message/message.js';
import type { PartitionedSource } from '../transport/spi/partitioned-source.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import { noopLogger, type Logger } from '../logging/logger.js';
import { consumerPipeline } from '../pipeline/consumer-pipeline.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import { AbortScope, scopedContext } from '../pipeline/abort-scope.js';
import type { ProcessingState } from '../pipeline/processing-context.js';
import { MAX_PROCESSING_TIMEOUT_MS } from '../pipeline/middleware/processing-timeout.js';
import { staleAttemptsSettled } from '../pipeline/stale-attempts.js';
import {
  DEFAULT_CONSUMER_STOP_BUDGET_MS,
  DEFAULT_EVENT_DRIVEN_CONSUMER_OPTIONS,
  validateEventDrivenConsumerOptions,
  type EventDrivenConsumerInit,
  type EventDrivenConsumerOptions,
  type EventDrivenConsumerState,
  type EventDrivenConsumerStats,
} from './event-driven-consumer-options.js';
import { ConsumeEngine } from '../consume/consume-engine.js';
import {
  startPositionProblems,
  type SeekedPartition,
  type SeekOptions,
  type StartPosition,
} from '../consume/start-position.js';
import { abortableSleep } from '../internal/abortable-sleep.js';
import { copiedEndpointError } from './copied-endpoint-error.js';
import { KeyedExecutor } from './keyed-executor.js';
import { TrackedDelivery, zeroCounters, type ConsumerCounters } from './tracked-delivery.js';

type Counters = ConsumerCounters;

interface InFlight {
  readonly delivery: TrackedDelivery;
  readonly seq: number;
  /** Aborted on a forced stop; its `AbortSignal` is created only if the pipeline reads it. */
  readonly scope: AbortScope;
  release?: () => void;
}

/**
 * Event-Driven Consumer: subscribes to a consumer channel and runs every delivery through the
 * consumer pipeline (see `consumerPipeline`: ack/nack, dead letter, reply, retry, timeout,
 * middleware, interceptors, filter, then `handler`).
 *
 * - **Settlement:** a message is acked only after its handler succeeded, it was filtered out, or it
 *   was safely dead-lettered; otherwise it is nacked and redelivered. Never dropped silently.
 * - **Concurrency and order:** up to `amountOfProcessors` messages run at once; deliveries with the
 *   same `Delivery.key` run one at a time, in order. When a message is nacked, the deliveries of
 *   its key already accepted behind it are nacked unprocessed too, so they are not handled before
 *   its redelivery.
 * - **Backpressure:** the delivery handler resolves once the delivery is accepted; at most
 *   `queueCapacity` deliveries are accepted and unfinished.
 * - **Configuring:** the `with*` methods return a new, configured consumer and leave this one
 *   unchanged; running a consumer a `with*` call was made on fails with a `ConfigurationError`
 *   (run the one `with*` returned).
 * - **Stop:** see {@link EventDrivenConsumer.stop}: accepted deliveries finish within the budget. `stopOnError` (default false, unlike Go gomes)
 *   stops the consumer when a message ends nacked or the subscription reports an error; the state
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
  readonly #counters: Counters = zeroCounters();
  readonly #inFlight = new Set<InFlight>();
  readonly #outcomes = new WeakMap<ProcessingState, 'filtered' | 'deadLettered' | 'duplicates'>();
  readonly #nackedThrough = new Map<string, number>();
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => undefined;
  #state: EventDrivenConsumerState = 'idle';
  #error: Error | undefined;
  #seq = 0;
  #executor: KeyedExecutor | undefined;
  /** Set when the channel offers a partitioned source: the consume core runs the consumer. */
  #engine: ConsumeEngine | undefined;
  #pipeline: MessageHandlerFn | undefined;
  #channels: EventDrivenConsumerInit['channels'];
  #deadLetterChannelName: string | undefined;
  #subscribing: Promise<Subscription> | undefined;
  #subscription: Subscription | undefined;
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
    this.#channels = init.channels;
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
   * Bound on accepted-but-unfinished deliveries (>= processors) of a transport without a partitioned
   * source. @default amountOfProcessors * 2
   * @deprecated On transports with a partitioned source it means
   * {@link EventDrivenConsumer.withMaxBufferedRecordsPerPartition} (mapped, with a warning at `run()`);
   * removed in the next release.
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
    if (this.#state !== 'running' || !engine) {
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
      inFlight: this.#engine ? this.#engine.inFlight : this.#inFlight.size,
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
   * Validates the options (one `ConfigurationError` listing every problem), subscribes, and resolves
   * once subscribed. Aborting `signal` stops the consumer gracefully (as `stop()`).
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
    const onSource = this.#init.channel.openSource !== undefined;
    ConfigurationError.throwIfAny(
      [
        ...validateEventDrivenConsumerOptions(o, this.#init),
        ...(o.startPosition !== undefined && !onSource
          ? [
              `startPosition needs a transport with a partitioned source; channel "${this.#init.channel.channelName}" has none: remove withStartPosition`,
            ]
          : []),
      ],
      `event-driven consumer "${this.name}"`,
    );
    const deadLetter = this.#deadLetterSetup(onSource);
    this.#channels = deadLetter.channels;
    this.#deadLetterChannelName = deadLetter.undecodable;
    this.#pipeline = consumerPipeline({
      settledByCaller: onSource,
      endpointOptions: deadLetter.endpointOptions,
      processingTimeoutMs: o.messageProcessingTimeoutMs,
      handler: this.#init.handler,
      nackDelayMs: o.nackDelayMs,
      ...(onSource
        ? { retryHooks: this.#freeProcessorWhileWaiting(this.#init.retryHooks) }
        : this.#init.retryHooks
          ? { retryHooks: this.#init.retryHooks }
          : {}),
      ...(this.#init.observability ? { observability: this.#init.observability } : {}),
      hooks: {
        onRetry: () => void this.#counters.retried++,
        onDeadLettered: (_m, _e, ctx) => this.#outcomes.set(ctx.state, 'deadLettered'),
        onFiltered: (_m, ctx) => this.#outcomes.set(ctx.state, 'filtered'),
        onDuplicate: (_m, _key, ctx) => this.#outcomes.set(ctx.state, 'duplicates'),
        onReplyDropped: () => void this.#counters.repliesDropped++,
        onStaleAttemptSettled: () => void this.#counters.staleAttempts++,
      },
    });
    this.#executor = new KeyedExecutor({
      concurrency: o.amountOfProcessors,
      capacity: o.queueCapacity ?? o.amountOfProcessors * 2,
      onTaskError: (error) =>
        this.#logger.error('Unexpected error in message task', { errorMessage: error.message }),
    });
    this.#state = 'running';
    if (onSource) return this.#runEngine(signal);
    try {
      this.#subscribing = this.#init.channel.subscribe(async (d) => this.#onDelivery(d), {
        onError: (error) => this.#onSubscriptionError(error),
      });
      this.#subscription = await this.#subscribing;
    } catch (error) {
      this.#error = toError(error);
      this.#state = 'crashed';
      this.#logger.error('Subscribing failed', { errorMessage: this.#error.message });
      this.#resolveDone();
      throw error;
    }
    this.#listenRunSignal(signal);
    this.#logger.info('Consumer running', { channel: this.#init.channel.channelName, ...o });
  }

  async #runEngine(signal: AbortSignal | undefined): Promise<void> {
    const o = this.#options;
    let source: PartitionedSource;
    try {
      source = (this.#init.channel.openSource as NonNullable<ConsumerChannel['openSource']>)({
        consumerName: this.name,
      });
    } catch (error) {
      this.#error = toError(error);
      this.#state = 'crashed';
      this.#logger.error('Subscribing failed', { errorMessage: this.#error.message });
      this.#resolveDone();
      throw error;
    }
    let maxBuffered = o.maxBufferedRecordsPerPartition;
    if (o.queueCapacity !== undefined) {
      this.#logger.warn('queueCapacity is deprecated: use withMaxBufferedRecordsPerPartition', {
        queueCapacity: o.queueCapacity,
      });
      maxBuffered = o.queueCapacity;
    }
    this.#engine = new ConsumeEngine({
      name: this.name,
      source,
      pipeline: this.#pipeline as MessageHandlerFn,
      channels: this.#channels,
      deadLetterChannelName: this.#deadLetterChannelName,
      processors: o.amountOfProcessors,
      maxBufferedRecordsPerPartition: maxBuffered,
      nackDelayMs: o.nackDelayMs,
      revokeBudgetMs: o.revokeBudgetMs,
      startPosition: o.startPosition,
      counters: this.#counters,
      logger: this.#logger,
      outcomeOf: (state) => this.#outcomes.get(state),
      onFailed: (error, message) => this.#onEngineFailure(error, message),
      onSourceError: (error) => this.#onSubscriptionError(error),
    });
    try {
      await this.#engine.start();
    } catch (error) {
      this.#error = toError(error);
      this.#state = 'crashed';
      this.#logger.error('Subscribing failed', { errorMessage: this.#error.message });
      await source.close().catch(() => undefined);
      this.#resolveDone();
      throw error;
    }
    this.#listenRunSignal(signal);
    this.#logger.info('Consumer running', { channel: this.#init.channel.channelName, ...o });
  }

  /**
   * The dead-letter channels: the consumer's (`withDeadLetterChannelName`), else the transport's own
   * (Kafka `withDeadLetterTopic` / `<topic>.DLQ`) — always for undecodable records, and for failed
   * messages when the transport's was named explicitly. One envelope (core's) either way.
   */
  #deadLetterSetup(onSource: boolean): {
    channels: EventDrivenConsumerInit['channels'];
    endpointOptions: EventDrivenConsumerInit['endpointOptions'];
    undecodable: string | undefined;
  } {
    const { channels, endpointOptions } = this.#init;
    const own = endpointOptions.deadLetterChannelName;
    const transport = onSource && own === undefined ? this.#init.channel.deadLetterChannel?.() : undefined;
    if (!transport) return { channels, endpointOptions, undecodable: own };
    const { publisher } = transport;
    return {
      channels: { publisher: (name) => (name === publisher.name ? publisher : channels.publisher(name)) },
      endpointOptions: transport.forFailedMessages
        ? { ...endpointOptions, deadLetterChannelName: publisher.name }
        : endpointOptions,
      undecodable: publisher.name,
    };
  }

  /** Retry waits on the consume core run without a processor (other keys keep flowing). */
  #freeProcessorWhileWaiting(
    hooks: EventDrivenConsumerInit['retryHooks'],
  ): NonNullable<EventDrivenConsumerInit['retryHooks']> {
    const sleep = hooks?.sleep ?? abortableSleep;
    return {
      ...(hooks?.random ? { random: hooks.random } : {}),
      sleep: async (ms, signal) => {
        const engine = this.#engine;
        return engine ? engine.retryWait(async () => sleep(ms, signal)) : sleep(ms, signal);
      },
    };
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
   * Stops gracefully: stops fetching, lets in-flight messages — running, and accepted but not started
   * (at most `queueCapacity`) — finish within `budgetMs`, then aborts the signals of those still
   * running and nacks them with the ones not started (they are redelivered, never acked), then closes
   * the subscription (which commits what was acked). Finishing the accepted deliveries keeps the acked
   * offsets of a partition gap-free, so a restarted consumer does not get messages already processed.
   * When the consumer stops because it crashed (`stopOnError`), deliveries not started are nacked
   * unprocessed at once.
   *
   * Bounded: once the budget expired, the transport gets at most `stopGraceMs` (default 5 s) more to
   * nack the aborted deliveries, stop and close the subscription; what is still pending then is
   * abandoned (logged as an error; the transport redelivers whatever it did not settle) and the
   * consumer is `stopped`. `budgetMs` `Infinity` waits for the in-flight messages without a timer.
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
    if (this.#state === 'idle' || this.#state === 'crashed') {
      if (this.#state === 'idle') this.#state = 'stopped';
      this.#resolveDone();
      return;
    }
    this.#state = 'stopping';
    if (this.#engine) {
      this.#logger.info('Consumer stopping', { inFlight: this.#engine.inFlight, budgetMs });
      await this.#engine
        .stop(budgetMs, this.#error !== undefined)
        .catch((e: unknown) =>
          this.#logger.error('Closing the source failed', { errorMessage: toError(e).message }),
        );
      this.#state = this.#error ? 'crashed' : 'stopped';
      this.#logger.info('Consumer stopped', { state: this.#state, ...this.#counters });
      this.#resolveDone();
      return;
    }
    this.#logger.info('Consumer stopping', { inFlight: this.#inFlight.size, budgetMs });
    await this.#subscribing?.catch(() => undefined);
    const subscription = this.#subscription;
    let fetchingStopped = false;
    const stopFetching = (subscription?.stop() ?? Promise.resolve())
      .catch((e: unknown) =>
        this.#logger.error('Stopping the subscription failed', { errorMessage: toError(e).message }),
      )
      .finally(() => (fetchingStopped = true));
    const drained = Promise.all([stopFetching, this.#executor?.drain()]);
    const graceMs = this.#options.stopGraceMs;
    // Past the budget, the transport gets one grace period in total for everything left.
    let graceEndsAt: number | undefined;
    const remainingGrace = (): number =>
      graceEndsAt === undefined ? graceMs : Math.max(0, graceEndsAt - Date.now());
    if (!(await withinBudget(drained, budgetMs))) {
      graceEndsAt = Date.now() + graceMs;
      this.#logger.warn('Stop budget expired; aborting and nacking in-flight messages', {
        inFlight: this.#inFlight.size,
        stopGraceMs: graceMs,
      });
      if (!(await withinBudget(Promise.all([this.#abortInFlight(), drained]), remainingGrace()))) {
        this.#logger.error('Stop grace expired; abandoning the transport calls still pending', {
          stopGraceMs: graceMs,
          subscriptionStopPending: !fetchingStopped,
          // Not settled by the transport: it redelivers them (they were never acked).
          abandonedDeliveries: [...this.#inFlight].map(({ delivery }) => ({
            messageId: delivery.message.messageId,
            key: delivery.key,
            position: delivery.position,
          })),
        });
      }
    }
    const closing = (async () => subscription?.close())().then(
      () => true,
      (e: unknown) => {
        this.#logger.error('Closing the subscription failed', { errorMessage: toError(e).message });
        return true;
      },
    );
    if (!(await withinBudget(closing, remainingGrace()))) {
      this.#logger.error('Closing the subscription did not finish within the stop grace; abandoned', {
        stopGraceMs: graceMs,
      });
    }
    this.#state = this.#error ? 'crashed' : 'stopped';
    this.#logger.info('Consumer stopped', { state: this.#state, ...this.#counters });
    this.#resolveDone();
  }

  async #abortInFlight(): Promise<void> {
    const reason = new GomesError('ABORTED', `Consumer "${this.name}" stopped before the message finished`);
    const entries = [...this.#inFlight];
    for (const entry of entries) entry.scope.abort(reason);
    await Promise.all(
      entries.map(async (entry) => {
        await entry.delivery.nack({ delayMs: 0 }).catch(() => undefined);
        entry.release?.();
      }),
    );
  }

  async #onDelivery(delivery: Delivery): Promise<void> {
    this.#counters.received++;
    const executor = this.#executor;
    if (this.#state !== 'running' || !executor) {
      await this.#nackUnprocessed(
        new TrackedDelivery(delivery, this.#counters, this.#logger),
        'consumer is stopping',
      );
      return;
    }
    const entry: InFlight = {
      delivery: new TrackedDelivery(delivery, this.#counters, this.#logger),
      seq: ++this.#seq,
      scope: new AbortScope(),
    };
    this.#inFlight.add(entry);
    await executor.submit(delivery.key, async () => this.#process(entry));
  }

  async #process(entry: InFlight): Promise<void> {
    const { delivery, seq } = entry;
    try {
      if (!this.#mayStart(entry)) return await this.#nackUnprocessed(delivery, 'consumer is stopping');
      const guard = this.#nackedThrough.get(delivery.key);
      if (guard !== undefined && seq <= guard) {
        return await this.#nackUnprocessed(delivery, 'an earlier message with the same key was nacked');
      }
      this.#nackedThrough.delete(delivery.key);
      // Finishes with the pipeline, or earlier when a forced stop released the entry.
      await new Promise<void>((resolve, reject) => {
        entry.release = resolve;
        this.#runPipeline(entry).then(resolve, reject);
      });
    } finally {
      this.#inFlight.delete(entry);
      if (this.#inFlight.size === 0) this.#nackedThrough.clear();
    }
  }

  /**
   * Whether an accepted delivery may start: while running, and during a graceful stop until the
   * budget expires (it was handed over, so finishing it keeps the acked offsets gap-free; nacking it
   * would make the transport redeliver the later messages already processed). Not after a crash.
   */
  #mayStart(entry: InFlight): boolean {
    if (this.#state === 'running') return true;
    return this.#state === 'stopping' && this.#error === undefined && !entry.scope.aborted;
  }

  async #runPipeline(entry: InFlight): Promise<void> {
    const { delivery } = entry;
    const message = delivery.message;
    const state: ProcessingState = { attempts: 0 };
    const base = this.#logger;
    const ctx = scopedContext(
      entry.scope,
      { endpointName: this.name, delivery, channels: this.#channels, state },
      // The noop logger's children are itself; other loggers make the child on first use.
      base === noopLogger ? noopLogger : undefined,
      () =>
        base.child({
          messageId: message.messageId,
          correlationId: message.correlationId,
          route: message.route,
        }),
    );
    let failure: Error | undefined;
    try {
      await (this.#pipeline as MessageHandlerFn)(message, ctx);
      if (delivery.settled === undefined) await delivery.ack();
    } catch (thrown) {
      failure = toError(thrown);
      if (delivery.settled === undefined) await delivery.nack({ delayMs: 0 }).catch(() => undefined);
    }
    if (delivery.settled === 'ack' && !delivery.ackFailed) {
      const outcome = this.#outcomes.get(state);
      if (outcome) this.#counters[outcome]++;
      else this.#counters.succeeded++;
    } else if (delivery.endedNacked && !entry.scope.aborted) {
      // Nacked by the pipeline, by the handler through ctx.delivery (even if it then returned
      // normally), or not acknowledged because the ack failed: it will be redelivered, so the
      // deliveries of its key accepted behind it must not run before it.
      this.#counters.failed++;
      this.#nackedThrough.set(delivery.key, this.#seq);
      if (this.#options.stopOnError && this.#state === 'running') {
        this.#crash(
          new GomesError(
            'CONSUMER_CRASHED',
            `Consumer "${this.name}" stopped: a message failed and stopOnError is set`,
            {
              cause: failure,
              details: { messageId: message.messageId },
            },
          ),
        );
      }
    }
    // A timed-out attempt whose handler ignored its signal may still run: keep this key (and the
    // processor slot) until it settled, so the next message of the key never runs concurrently
    // with it. A forced stop releases the entry (see #abortInFlight).
    const stale = staleAttemptsSettled(state);
    if (stale) {
      this.#logger.warn(
        'Holding the key until a timed-out attempt settles (handlers should honour ctx.signal)',
        {
          messageId: message.messageId,
          key: delivery.key,
        },
      );
      await stale;
    }
  }

  async #nackUnprocessed(delivery: TrackedDelivery, why: string): Promise<void> {
    this.#logger.debug(`Nacking message unprocessed: ${why}`, { messageId: delivery.message.messageId });
    try {
      await delivery.nack({ delayMs: 0 });
    } catch (e) {
      this.#logger.error('Nack failed', { errorMessage: toError(e).message });
    }
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

/** Whether `promise` settled within `ms` (`Infinity`: waits for it, with no timer). */
async function withinBudget(promise: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms === Infinity) return promise.then(() => true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
