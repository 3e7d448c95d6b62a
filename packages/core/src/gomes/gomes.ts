import { ActionDispatcher } from '../actions/action-dispatcher.js';
import { ActionRegistry } from '../actions/action-registry.js';
import {
  resolveActionValidationOptions,
  type ResolvedActionValidationOptions,
} from '../actions/action-validation-options.js';
import { toHandlerDefinition, type HandlerRegistration } from '../actions/handler-definition.js';
import { ChannelBusTransport } from '../bus/channel-bus-transport.js';
import { CommandBus } from '../bus/command-bus.js';
import { EventBus } from '../bus/event-bus.js';
import { InProcessBusTransport } from '../bus/in-process-bus-transport.js';
import { QueryBus } from '../bus/query-bus.js';
import { RequestReplyCoordinator, type RequestReplyStats } from '../bus/request-reply-coordinator.js';
import type { BusTransport } from '../bus/bus-transport.js';
import type { ConsumerChannelBuilder, PublisherChannelBuilder } from '../channel/channel-builders.js';
import type { ChannelConnection } from '../channel/channel-connection.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { DeadLetterChannel } from '../dead-letter/dead-letter-channel.js';
import type { RedriveOptions, RedriveReport } from '../dead-letter/redrive-report.js';
import { EventDrivenConsumer } from '../endpoint/event-driven-consumer.js';
import { PollingConsumer } from '../endpoint/polling-consumer.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import { replayOptionsProblems, type ReplayOptions } from '../replay/replay-options.js';
import type { ReplayReport } from '../replay/replay-report.js';
import { ReplayRun } from '../replay/replay-run.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import { sharedPromise } from '../internal/shared-promise.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import { newMessageId } from '../message/message-id.js';
import { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { consumerObservability } from '../observability/tracing-middleware.js';
import type { ChannelResolver } from '../pipeline/processing-context.js';
import { formatEndpointsTable, listEndpoints, type EndpointInfo } from './active-endpoints.js';
import type { TopicProvisioningReport } from '../topics/topic-provisioning.js';
import type { TopicTemplates } from '../topics/topic-templates.js';
import {
  checkConfiguration,
  consumersWithoutDeadLetter,
  replyChannelNames,
  runPreflights,
  type TopicRegistration,
} from './configuration-check.js';
import { GomesRuntime } from './gomes-runtime.js';
import { resolveGomesOptions, type GomesOptions } from './gomes-options.js';
import { assessHealth } from './health.js';
import { resolveHealthOptions, type ResolvedHealthOptions } from './health-options.js';
import type { HealthReport } from './health-report.js';

/** Lifecycle state of a gomes instance. @public */
export type GomesState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped' | 'failed';

/** Receives errors that have no caller to reject (async sends, consumer crashes). @public */
export type UnhandledErrorListener = (error: Error, message?: Message) => void;

type BusKind = 'Command-Bus' | 'Query-Bus' | 'Event-Bus';

/**
 * A gomes instance: register connections, channels and handlers, `start()`, use the buses and
 * consumers, `shutdown()`. Instances share nothing: two in one process do not see each other.
 * Create one with `createGomes()`.
 *
 * @public
 */
export class Gomes {
  readonly #options: GomesOptions;
  readonly #logger: Logger;
  readonly #registry = new ActionRegistry();
  readonly #connections: ChannelConnection[] = [];
  readonly #publishers: PublisherChannelBuilder[] = [];
  readonly #consumers: ConsumerChannelBuilder[] = [];
  readonly #topics: TopicRegistration[] = [];
  #topicReports: readonly TopicProvisioningReport[] = [];
  readonly #coordinator: RequestReplyCoordinator;
  readonly #buses = new Map<string, { kind: BusKind; bus: CommandBus | QueryBus | EventBus }>();
  readonly #eventDrivenConsumers = new Map<string, EventDrivenConsumer>();
  readonly #pollingConsumers = new Map<string, PollingConsumer>();
  readonly #asyncWork = new Set<Promise<unknown>>();
  readonly #errorListeners = new Set<UnhandledErrorListener>();
  readonly #dispatcher: ActionDispatcher;
  readonly #channels: ChannelResolver;
  readonly #telemetry: GomesTelemetry;
  readonly #health: ResolvedHealthOptions;
  readonly #validation: ResolvedActionValidationOptions;
  #runtime: GomesRuntime | undefined;
  #state: GomesState = 'created';
  #startPromise: Promise<void> | undefined;
  readonly #shutdown = sharedPromise(async () => this.#doShutdown());

  /** @internal Use `createGomes()`. */
  constructor(options: Partial<GomesOptions> = {}) {
    this.#options = resolveGomesOptions(options);
    this.#logger = this.#options.logger.child({ gomes: this.#options.name });
    this.#health = resolveHealthOptions(this.#options.health).options;
    this.#validation = resolveActionValidationOptions(this.#options.validation).options;
    this.#coordinator = new RequestReplyCoordinator(this.#logger, this.#options.instanceId ?? newMessageId());
    this.#telemetry = new GomesTelemetry(this.#options);
    this.#dispatcher = new ActionDispatcher(this.#registry, {
      validate: this.#options.validate,
      validation: this.#validation,
      telemetry: this.#telemetry,
      inheritCausation: this.#options.inheritCausation,
    });
    this.#channels = { publisher: (name) => this.#runtime?.publishers.get(name) };
  }

  /**
   * Turns OpenTelemetry tracing of this instance on (Go gomes' `EnableOtelTrace()`), or off with
   * `false`: spans for bus dispatch, sends (PRODUCER), processing (CONSUMER), handlers, dead letters
   * and request-reply, and W3C trace context in message headers. Off by default (nothing is traced
   * or written); applies to operations started afterwards. Metrics are always recorded through the
   * meter provider. See docs/observability.md.
   */
  enableOtelTrace(enabled = true): this {
    this.#telemetry.setTracing(enabled);
    return this;
  }

  /** Whether OpenTelemetry tracing is on (see {@link Gomes.enableOtelTrace}). */
  get otelTraceEnabled(): boolean {
    return this.#telemetry.tracing;
  }

  /** Current lifecycle state. */
  get state(): GomesState {
    return this.#state;
  }

  /**
   * This instance's id among the replicas of a service (the `instanceId` option, else a random
   * UUID): stamped on requests so that each reply reaches the replica that asked.
   */
  get instanceId(): string {
    return this.#coordinator.instanceId;
  }

  /**
   * Request-reply counters of this instance: requests waiting, and the replies its reply consumers
   * received — matched to a request, dropped as another instance's (`foreign`), or dropped because
   * no request waited for them (`unmatched`: late). The dropped ones are also recorded as the
   * `gomes.reply.dropped.messages` metric.
   */
  requestReplyStats(): RequestReplyStats {
    return this.#coordinator.stats();
  }

  /** Registers a connection (connected by `start()`, disconnected last by `shutdown()`). */
  addChannelConnection(connection: ChannelConnection): this {
    this.#assertConfigurable();
    this.#connections.push(connection);
    return this;
  }

  /** Registers a publisher channel, built at `start()`. */
  addPublisherChannel(builder: PublisherChannelBuilder): this {
    this.#assertConfigurable();
    this.#publishers.push(builder);
    return this;
  }

  /** Registers a consumer channel; run it with `eventDrivenConsumer(name)` after `start()`. */
  addConsumerChannel(builder: ConsumerChannelBuilder): this {
    this.#assertConfigurable();
    this.#consumers.push(builder);
    return this;
  }

  /**
   * Declares topics on the connection `connectionName`: `start()` creates the missing ones and
   * reports — never changes — existing ones that differ (a warning, or a failed start with
   * `onMismatch: 'fail'`); see {@link Gomes.topicReports} and docs/topics.md.
   */
  addTopics(connectionName: string, templates: TopicTemplates): this {
    this.#assertConfigurable();
    this.#topics.push({ connectionName, templates });
    return this;
  }

  /** What provisioning the declared topics found and did at `start()`, one report per `addTopics`. */
  topicReports(): readonly TopicProvisioningReport[] {
    return this.#topicReports;
  }

  /**
   * Registers a handler: a `defineCommandHandler(...)` (or query/event) definition, or an instance
   * of a class decorated with `@CommandHandler` / `@QueryHandler` / `@EventHandler`.
   */
  addActionHandler(handler: HandlerRegistration): this {
    this.#assertConfigurable();
    this.#registry.register(toHandlerDefinition(handler));
    return this;
  }

  /** Adds a listener for errors that have no caller (failed `sendAsync` in process, consumer crashes). */
  onUnhandledError(listener: UnhandledErrorListener): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /**
   * Validates the whole configuration, runs the builders' preflight checks (I/O such as schema
   * registration, see `PublisherChannelBuilder.preflight`), then connects, builds publishers and
   * consumers. Throws one {@link ConfigurationError} listing every problem, in which case nothing
   * was connected. Calling
   * it again while it runs returns the same promise; after it succeeded it throws.
   */
  async start(): Promise<void> {
    if (this.#startPromise && (this.#state === 'starting' || this.#state === 'started'))
      return this.#startPromise;
    if (this.#state !== 'created')
      throw new GomesError('ILLEGAL_STATE', `Cannot start a gomes instance that is ${this.#state}`);
    this.#startPromise = this.#doStart();
    return this.#startPromise;
  }

  async #doStart(): Promise<void> {
    const config = {
      connections: this.#connections,
      publishers: this.#publishers,
      consumers: this.#consumers,
      registry: this.#registry,
      topics: this.#topics,
    };
    try {
      ConfigurationError.throwIfAny(checkConfiguration(config), 'gomes configuration');
      this.#state = 'starting';
      ConfigurationError.throwIfAny(await runPreflights(config, this.#logger), 'gomes configuration');
      this.#telemetry.start();
      this.#runtime = await GomesRuntime.build(config, this.#coordinator, this.#logger, this.#telemetry);
      const runtime = this.#runtime;
      this.#topicReports = Object.freeze([...runtime.topicReports]);
      this.#telemetry.metrics.setLagSources(() =>
        [...runtime.consumerChannels].flatMap(([consumer, channel]) =>
          channel.consumerLag
            ? [
                {
                  consumer,
                  system: runtime.consumerSystems.get(consumer) ?? 'gomes',
                  lag: () => channel.consumerLag!(),
                },
              ]
            : [],
        ),
      );
      this.#state = 'started';
      for (const consumer of consumersWithoutDeadLetter(config)) {
        this.#logger.warn(
          `failed messages of consumer ${consumer} are redelivered until they succeed; configure withDeadLetterChannelName() to park them after the retries instead`,
          { consumer },
        );
      }
      this.#logger.info('gomes started', {
        instanceId: this.instanceId,
        connections: this.#connections.length,
        publishers: this.#publishers.length,
        consumers: this.#consumers.length,
        actions: this.#registry.entries().length,
      });
    } catch (error) {
      this.#state = 'failed';
      throw error;
    }
  }

  /** The in-process command bus: runs the local handler and resolves to its result. */
  commandBus(): CommandBus {
    return this.#bus('Command-Bus', undefined) as CommandBus;
  }

  /** The in-process query bus. */
  queryBus(): QueryBus {
    return this.#bus('Query-Bus', undefined) as QueryBus;
  }

  /** The in-process event bus: fans out to every local handler of the event. */
  eventBus(): EventBus {
    return this.#bus('Event-Bus', undefined) as EventBus;
  }

  /** A command bus sending over the publisher channel `name`. */
  commandBusByChannel(name: string): CommandBus {
    return this.#bus('Command-Bus', name) as CommandBus;
  }

  /** A query bus sending over the publisher channel `name`. */
  queryBusByChannel(name: string): QueryBus {
    return this.#bus('Query-Bus', name) as QueryBus;
  }

  /** An event bus publishing to the publisher channel `name`. */
  eventBusByChannel(name: string): EventBus {
    return this.#bus('Event-Bus', name) as EventBus;
  }

  /**
   * The started publisher channel called `name`, to send hand-built messages.
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` before `start()`, `GOMES_NOT_FOUND` for an unknown name.
   */
  publisherChannel(name: string): PublisherChannel {
    return this.#startedRuntime().publisher(name);
  }

  /**
   * The dead letters of the dead-letter channel `channel`, to list (with filters) and redrive (see
   * {@link DeadLetterChannel}, docs/dead-letters.md). `channel` must be a registered publisher
   * channel (redrive markers are written through it) whose transport can read it back.
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` before `start()`, `GOMES_NOT_FOUND` when no publisher
   * channel `channel` is registered, `GOMES_NOT_SUPPORTED` when its transport cannot read it back.
   */
  deadLetters(channel: string): DeadLetterChannel {
    const runtime = this.#startedRuntime();
    const builder = this.#publishers.find((p) => p.channelName === channel);
    if (!builder) {
      throw new GomesError(
        'NOT_FOUND',
        `No publisher channel "${channel}" is registered; register one for the dead-letter channel to list or redrive it`,
        { details: { channel } },
      );
    }
    if (!builder.createReader) {
      throw new GomesError(
        'NOT_SUPPORTED',
        `The transport of publisher channel "${channel}" cannot read it back (its builder has no createReader)`,
        { details: { channel, connection: builder.connectionName } },
      );
    }
    const connection = runtime.connections.get(builder.connectionName)!;
    return new DeadLetterChannel({
      reader: builder.createReader({ connection, logger: this.#logger }),
      publisher: runtime.publisher(channel),
      publishers: (name) => runtime.publishers.get(name),
      logger: this.#logger,
    });
  }

  /**
   * Redrives dead letters of `options.channel`: `gomes.deadLetters(options.channel).redrive(options)`
   * (see {@link DeadLetterChannel.redrive}).
   */
  async redrive(options: RedriveOptions): Promise<RedriveReport> {
    return this.deadLetters(options.channel).redrive(options);
  }

  /**
   * Replays the records of `options.channel` whose time lies in `[options.from, options.to)`: a
   * bounded run (no consumer group, no committed offsets) that handles them one at a time, in
   * offset order per partition, with `options.handler` or the registered action handlers (inside
   * the handling steps of `options.consumer`, when given), retries failures per `options.retry`,
   * then applies `options.onFailure`; with `options.checkpoint` it
   * records its progress and a later run with the same checkpoint id resumes there. Resolves to
   * what it did (see {@link ReplayReport}, docs/replay.md).
   *
   * @throws ConfigurationError (`GOMES_CONFIGURATION`) listing every problem of `options` (e.g.
   * `to <= from`, an unknown channel, a transport that cannot read it back, a checkpoint of another
   * window); `GOMES_ILLEGAL_STATE` before `start()`; `GOMES_REPLAY_CHECKPOINT_FAILED` when the
   * checkpoint cannot be loaded.
   * @example
   * ```ts
   * const report = await gomes.replay({
   *   channel: 'orders',
   *   from: new Date('2026-12-01T00:00:00Z'),
   *   to: new Date('2026-12-02T00:00:00Z'),
   *   checkpoint: { store, id: 'rebuild-order-view' },
   * });
   * ```
   */
  async replay(options: ReplayOptions): Promise<ReplayReport> {
    const runtime = this.#startedRuntime();
    const problems = replayOptionsProblems(options);
    const builder = this.#publishers.find((p) => p.channelName === options.channel);
    if (typeof options.channel === 'string' && options.channel !== '' && !builder) {
      problems.push(
        `no publisher channel "${options.channel}" is registered; register one (addPublisherChannel) for the channel to replay it`,
      );
    } else if (builder && !builder.createReader) {
      problems.push(
        `the transport of channel "${options.channel}" cannot read it back (its builder has no createReader)`,
      );
    }
    const consumer =
      options.consumer === undefined
        ? undefined
        : this.#consumers.find((c) => c.consumerName === options.consumer);
    if (typeof options.consumer === 'string' && options.consumer !== '' && !consumer) {
      problems.push(`no consumer channel "${options.consumer}" is registered`);
    } else if (consumer && consumer.channelName !== options.channel) {
      problems.push(
        `consumer "${consumer.consumerName}" reads channel "${consumer.channelName}", not "${options.channel}"`,
      );
    }
    ConfigurationError.throwIfAny(problems, `replay of "${String(options.channel)}"`);
    const connection = runtime.connections.get(builder!.connectionName)!;
    const run = new ReplayRun(
      {
        reader: builder!.createReader!({ connection, logger: this.#logger }),
        registeredHandler: this.#dispatcher.handle,
        consumer: consumer?.endpointOptions,
        channels: this.#channels,
        logger: this.#logger,
      },
      options,
    );
    return run.run();
  }

  /**
   * The event-driven consumer of the consumer channel `name` (one per name; asking again returns the
   * same one; once it is `stopped` or `crashed`, a started instance makes a new one, to run the
   * channel again).
   * Configure it, then `run()` it. Needs a started instance.
   */
  eventDrivenConsumer(name: string): EventDrivenConsumer {
    const existing = this.#eventDrivenConsumers.get(name);
    const finished = existing?.state === 'stopped' || existing?.state === 'crashed';
    if (existing && (!finished || this.#state !== 'started')) return existing;
    const consumer = this.#newConsumer(name, this.#dispatcher.handle);
    this.#eventDrivenConsumers.set(name, consumer);
    return consumer;
  }

  /**
   * The polling consumer of the consumer channel `name`: `receive({ max, timeoutMs })` returns
   * deliveries the caller settles (see {@link PollingConsumer}). One per name; once closed, a
   * started instance makes a new one. Needs a started instance and a transport with a partitioned
   * source (the in-memory transport).
   *
   * @throws GomesError `GOMES_NOT_FOUND` for an unknown channel; `GOMES_ILLEGAL_STATE` when the
   * instance is not started or the transport has no partitioned source.
   */
  pollingConsumer(name: string): PollingConsumer {
    const existing = this.#pollingConsumers.get(name);
    if (existing && (existing.state !== 'closed' || this.#state !== 'started')) return existing;
    const poller = new PollingConsumer(name, (handler) => {
      const consumer = this.#newConsumer(name, handler);
      if (this.#startedRuntime().consumerChannels.get(name)?.openSource === undefined) {
        throw new GomesError(
          'ILLEGAL_STATE',
          `Consumer channel "${name}" cannot be polled: its transport has no partitioned source`,
          { details: { name } },
        );
      }
      return consumer;
    });
    this.#pollingConsumers.set(name, poller);
    return poller;
  }

  /** An event-driven consumer of channel `name` running `handler` as its pipeline's terminal step. */
  #newConsumer(name: string, handler: MessageHandlerFn): EventDrivenConsumer {
    const runtime = this.#startedRuntime();
    const channel = runtime.consumerChannels.get(name);
    const builder = this.#consumers.find((c) => c.consumerName === name);
    if (builder && !channel) {
      throw new GomesError('NOT_FOUND', `Consumer channel "${name}" receives replies; gomes runs it itself`, {
        details: { name },
      });
    }
    if (!channel || !builder)
      throw new GomesError('NOT_FOUND', `No consumer channel "${name}" is registered`, { details: { name } });
    return new EventDrivenConsumer({
      name,
      channel,
      endpointOptions: builder.endpointOptions,
      handler,
      channels: this.#channels,
      logger: this.#logger,
      onError: (error: Error) => this.#emitUnhandled(error),
      observability: consumerObservability(this.#telemetry, {
        endpoint: name,
        channelName: channel.channelName,
        system: runtime.consumerSystems.get(name) ?? 'gomes',
      }),
    });
  }

  /**
   * The instance's health: each connection's state, each consumer's state with per-partition lag
   * and time since progress, and the `ready` / `live` verdicts with the reasons for them (rules and
   * thresholds: the `health` option, docs/observability.md). A snapshot: it does no I/O, so a probe
   * calling it never hangs.
   */
  health(): HealthReport {
    const runtime = this.#runtime;
    const replyChannels = replyChannelNames(this.#publishers);
    const consumers = this.#consumers.filter((b) => !replyChannels.has(b.channelName));
    return assessHealth(
      {
        lifecycle: this.#state,
        connections: this.#connections.map((c) => ({
          name: c.name,
          state: c.state ?? (runtime ? 'connected' : 'disconnected'),
        })),
        consumers: consumers.map((b) => {
          const consumer = this.#eventDrivenConsumers.get(b.consumerName);
          return {
            name: b.consumerName,
            channel: b.channelName,
            consumerState: consumer?.state,
            consumerError: consumer?.error,
            transport: runtime?.consumerChannels.get(b.consumerName)?.status?.(),
          };
        }),
      },
      this.#health,
      Date.now(),
    );
  }

  /**
   * Lists connections, channels, consumers and buses with their state. Pass `write` (for example
   * `console.log`) to also get them printed as a table.
   */
  showActiveEndpoints(write?: (table: string) => void): EndpointInfo[] {
    const endpoints = listEndpoints({
      state: this.#state,
      running: this.#runtime !== undefined && this.#state === 'started',
      connections: this.#connections,
      publishers: this.#publishers,
      consumers: this.#consumers,
      consumerState: (name) => this.#eventDrivenConsumers.get(name)?.state,
      buses: [...this.#buses.values()].map(({ kind, bus }) => ({ kind, channelName: bus.channelName })),
    });
    write?.(formatEndpointsTable(endpoints));
    return endpoints;
  }

  /**
   * Stops consumers (in-flight messages finish within `shutdownTimeoutMs`), then flushes and closes
   * publishers, then disconnects connections. Idempotent; concurrent calls share one promise.
   */
  // Not `async`: concurrent callers must get the very same promise.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  shutdown(): Promise<void> {
    return this.#shutdown();
  }

  async #doShutdown(): Promise<void> {
    if (this.#state === 'starting') await this.#startPromise?.catch(() => undefined);
    const previous = this.#state;
    this.#state = 'stopping';
    const budget = this.#options.shutdownTimeoutMs;
    await Promise.allSettled([
      ...[...this.#eventDrivenConsumers.values()].map(async (c) => c.stop(budget)),
      ...[...this.#pollingConsumers.values()].map(async (c) => c.close(budget)),
    ]);
    await this.#drainAsyncWork(budget);
    this.#coordinator.rejectAll(new GomesError('CLOSED', 'gomes is shutting down'));
    const errors = (await this.#runtime?.close()) ?? [];
    this.#runtime = undefined;
    this.#state = 'stopped';
    this.#logger.info('gomes stopped', { from: previous, errors: errors.length });
    if (errors.length > 0) {
      throw new GomesError(
        'CLOSED',
        `Shutdown finished with ${errors.length} error(s): ${errors.map((e) => e.message).join('; ')}`,
        {
          cause: errors[0],
        },
      );
    }
  }

  async #drainAsyncWork(budgetMs: number): Promise<void> {
    if (this.#asyncWork.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)));
    await Promise.race([Promise.allSettled([...this.#asyncWork]), timeout]);
    clearTimeout(timer);
  }

  #bus(kind: BusKind, channelName: string | undefined): CommandBus | QueryBus | EventBus {
    const key = `${kind}:${channelName ?? 'in-process'}`;
    const existing = this.#buses.get(key);
    if (existing) return existing.bus;
    if (channelName !== undefined && this.#state === 'started') this.#startedRuntime().publisher(channelName);
    const transport =
      channelName === undefined ? this.#inProcessTransport(kind) : this.#channelTransport(channelName);
    const deps = {
      transport,
      describe: (a: object) => this.#registry.describe(a),
      validate: this.#options.validate,
      validation: this.#validation,
      origin: this.#options.origin,
    };
    const bus =
      kind === 'Command-Bus'
        ? new CommandBus(deps)
        : kind === 'Query-Bus'
          ? new QueryBus(deps)
          : new EventBus(deps);
    this.#buses.set(key, { kind, bus });
    return bus;
  }

  #inProcessTransport(kind: BusKind): BusTransport {
    return new InProcessBusTransport({
      dispatcher: this.#dispatcher,
      channels: this.#channels,
      logger: this.#logger,
      endpointName: `default.${kind}`,
      telemetry: this.#telemetry,
      assertOpen: () => {
        if (this.#state === 'stopped') {
          throw new GomesError('CLOSED', `gomes is stopped: the in-process ${kind} takes no more messages`, {
            details: { state: this.#state },
          });
        }
      },
      onUnhandledError: (error, message) => this.#emitUnhandled(error, message),
      track: (work) => {
        this.#asyncWork.add(work);
        // `work` handles its own failures; the catch only guards against a rejection of it ever
        // surfacing as an unhandled rejection through this bookkeeping chain.
        work
          .finally(() => this.#asyncWork.delete(work))
          .catch((e: unknown) =>
            this.#logger.error('in-process async work failed', { errorMessage: toError(e).message }),
          );
      },
    });
  }

  #channelTransport(channelName: string): BusTransport {
    return new ChannelBusTransport({
      channelName,
      replyTo: this.#publishers.find((p) => p.channelName === channelName)?.replyChannelName,
      instanceId: this.#coordinator.instanceId,
      publisher: () => this.#startedRuntime().publisher(channelName),
      coordinator: this.#coordinator,
      defaultTimeoutMs: this.#options.requestTimeoutMs,
      telemetry: this.#telemetry,
    });
  }

  #startedRuntime(): GomesRuntime {
    if (this.#state !== 'started' || !this.#runtime) {
      throw new GomesError('ILLEGAL_STATE', `gomes is ${this.#state}; call start() first`, {
        details: { state: this.#state },
      });
    }
    return this.#runtime;
  }

  #assertConfigurable(): void {
    if (this.#state !== 'created') {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Cannot change the configuration of a gomes instance that is ${this.#state}`,
      );
    }
  }

  /** Tells every listener; a listener that throws is logged and does not stop the others. */
  #emitUnhandled(error: Error, message?: Message): void {
    for (const listener of this.#errorListeners) {
      try {
        listener(error, message);
      } catch (listenerError) {
        this.#logger.error('onUnhandledError listener threw', {
          errorMessage: toError(listenerError).message,
          reportedError: error.message,
          messageId: message?.messageId,
        });
      }
    }
  }
}
