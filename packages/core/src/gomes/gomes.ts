import { ActionDispatcher } from '../actions/action-dispatcher.js';
import {
  resolveActionValidationOptions,
  type ResolvedActionValidationOptions,
} from '../actions/action-validation-options.js';
import { toHandlerDefinition, type HandlerRegistration } from '../actions/handler-definition.js';
import type { CommandBus } from '../bus/command-bus.js';
import type { EventBus } from '../bus/event-bus.js';
import type { QueryBus } from '../bus/query-bus.js';
import { RequestReplyCoordinator, type RequestReplyStats } from '../bus/request-reply-coordinator.js';
import type { ConsumerChannelBuilder, PublisherChannelBuilder } from '../channel/channel-builders.js';
import type { ChannelConnection } from '../channel/channel-connection.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import type { DeadLetterChannel } from '../dead-letter/dead-letter-channel.js';
import type { RedriveOptions, RedriveReport } from '../dead-letter/redrive-report.js';
import type { EventDrivenConsumer } from '../endpoint/event-driven-consumer.js';
import type { PollingConsumer } from '../endpoint/polling-consumer.js';
import type { ReplayOptions } from '../replay/replay-options.js';
import type { ReplayReport } from '../replay/replay-report.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import { newMessageId } from '../message/message-id.js';
import { GomesTelemetry } from '../observability/gomes-telemetry.js';
import type { ChannelResolver } from '../pipeline/processing-context.js';
import { formatEndpointsTable, listEndpoints, type EndpointInfo } from './active-endpoints.js';
import type { TopicProvisioningReport } from '../topics/topic-provisioning.js';
import type { TopicTemplates } from '../topics/topic-templates.js';
import { openDeadLetterChannel, prepareReplay, type ChannelReadersContext } from './channel-readers.js';
import { checkConfiguration, runPreflights } from './configuration-check.js';
import { GomesBuses } from './gomes-buses.js';
import { GomesConsumers } from './gomes-consumers.js';
import { GomesLifecycle } from './gomes-lifecycle.js';
import { GomesRegistrations } from './gomes-registrations.js';
import { GomesRuntime } from './gomes-runtime.js';
import { resolveGomesOptions, type GomesOptions } from './gomes-options.js';
import type { GomesState } from './gomes-state.js';
import { assessHealth } from './health.js';
import { resolveHealthOptions, type ResolvedHealthOptions } from './health-options.js';
import type { HealthReport } from './health-report.js';
import type { GomesInstanceContext } from './instance-context.js';
import { UnhandledErrors, type UnhandledErrorListener } from './unhandled-errors.js';

export type { GomesState } from './gomes-state.js';
export type { UnhandledErrorListener } from './unhandled-errors.js';

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
  readonly #config = new GomesRegistrations();
  #topicReports: readonly TopicProvisioningReport[] = [];
  readonly #coordinator: RequestReplyCoordinator;
  readonly #buses: GomesBuses;
  readonly #endpoints: GomesConsumers;
  readonly #unhandled: UnhandledErrors;
  readonly #dispatcher: ActionDispatcher;
  readonly #channels: ChannelResolver;
  readonly #telemetry: GomesTelemetry;
  readonly #health: ResolvedHealthOptions;
  readonly #validation: ResolvedActionValidationOptions;
  readonly #lifecycle: GomesLifecycle;

  /** @internal Use `createGomes()`. */
  constructor(options: Partial<GomesOptions> = {}) {
    this.#options = resolveGomesOptions(options);
    this.#logger = this.#options.logger.child({ gomes: this.#options.name });
    this.#health = resolveHealthOptions(this.#options.health).options;
    this.#validation = resolveActionValidationOptions(this.#options.validation).options;
    this.#coordinator = new RequestReplyCoordinator(this.#logger, this.#options.instanceId ?? newMessageId());
    this.#telemetry = new GomesTelemetry(this.#options);
    this.#dispatcher = new ActionDispatcher(this.#config.registry, {
      validate: this.#options.validate,
      validation: this.#validation,
      telemetry: this.#telemetry,
      inheritCausation: this.#options.inheritCausation,
    });
    this.#channels = { publisher: (name) => this.#lifecycle.runtime?.publishers.get(name) };
    this.#lifecycle = new GomesLifecycle({
      logger: this.#logger,
      check: () => ConfigurationError.throwIfAny(checkConfiguration(this.#config), 'gomes configuration'),
      build: async () => this.#buildRuntime(),
      started: () => this.#config.logStarted(this.#logger, this.instanceId),
      stop: async () => this.#stopEndpoints(),
    });
    this.#unhandled = new UnhandledErrors(this.#logger);
    const shared: GomesInstanceContext = {
      channels: this.#channels,
      telemetry: this.#telemetry,
      logger: this.#logger,
      state: () => this.#lifecycle.state,
      startedRuntime: () => this.#lifecycle.startedRuntime(),
      onUnhandledError: (error, message) => this.#unhandled.emit(error, message),
    };
    this.#buses = new GomesBuses({
      ...shared,
      options: this.#options,
      config: this.#config,
      dispatcher: this.#dispatcher,
      validation: this.#validation,
      coordinator: this.#coordinator,
    });
    this.#endpoints = new GomesConsumers({
      ...shared,
      consumers: this.#config.consumers,
      dispatch: this.#dispatcher.handle,
    });
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
    return this.#lifecycle.state;
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
    this.#lifecycle.assertConfigurable();
    this.#config.connections.push(connection);
    return this;
  }

  /** Registers a publisher channel, built at `start()`. */
  addPublisherChannel(builder: PublisherChannelBuilder): this {
    this.#lifecycle.assertConfigurable();
    this.#config.publishers.push(builder);
    return this;
  }

  /** Registers a consumer channel; run it with `eventDrivenConsumer(name)` after `start()`. */
  addConsumerChannel(builder: ConsumerChannelBuilder): this {
    this.#lifecycle.assertConfigurable();
    this.#config.consumers.push(builder);
    return this;
  }

  /**
   * Declares topics on the connection `connectionName`: `start()` creates the missing ones and
   * reports — never changes — existing ones that differ (a warning, or a failed start with
   * `onMismatch: 'fail'`); see {@link Gomes.topicReports} and docs/topics.md.
   */
  addTopics(connectionName: string, templates: TopicTemplates): this {
    this.#lifecycle.assertConfigurable();
    this.#config.topics.push({ connectionName, templates });
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
    this.#lifecycle.assertConfigurable();
    this.#config.registry.register(toHandlerDefinition(handler));
    return this;
  }

  /** Adds a listener for errors that have no caller (failed `sendAsync` in process, consumer crashes). */
  onUnhandledError(listener: UnhandledErrorListener): () => void {
    return this.#unhandled.add(listener);
  }

  /**
   * Validates the whole configuration, runs the builders' preflight checks (I/O such as schema
   * registration, see `PublisherChannelBuilder.preflight`), then connects, builds publishers and
   * consumers. Throws one {@link ConfigurationError} listing every problem, in which case nothing
   * was connected. Calling
   * it again while it runs returns the same promise; after it succeeded it throws.
   */
  async start(): Promise<void> {
    return this.#lifecycle.start();
  }

  /** The in-process command bus: runs the local handler and resolves to its result. */
  commandBus(): CommandBus {
    return this.#buses.bus('Command-Bus', undefined) as CommandBus;
  }

  /** The in-process query bus. */
  queryBus(): QueryBus {
    return this.#buses.bus('Query-Bus', undefined) as QueryBus;
  }

  /** The in-process event bus: fans out to every local handler of the event. */
  eventBus(): EventBus {
    return this.#buses.bus('Event-Bus', undefined) as EventBus;
  }

  /** A command bus sending over the publisher channel `name`. */
  commandBusByChannel(name: string): CommandBus {
    return this.#buses.bus('Command-Bus', name) as CommandBus;
  }

  /** A query bus sending over the publisher channel `name`. */
  queryBusByChannel(name: string): QueryBus {
    return this.#buses.bus('Query-Bus', name) as QueryBus;
  }

  /** An event bus publishing to the publisher channel `name`. */
  eventBusByChannel(name: string): EventBus {
    return this.#buses.bus('Event-Bus', name) as EventBus;
  }

  /**
   * The started publisher channel called `name`, to send hand-built messages.
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` before `start()`, `GOMES_NOT_FOUND` for an unknown name.
   */
  publisherChannel(name: string): PublisherChannel {
    return this.#lifecycle.startedRuntime().publisher(name);
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
    return openDeadLetterChannel(this.#readers(), channel);
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
    return prepareReplay(this.#readers(), options, this.#dispatcher.handle, this.#channels).run();
  }

  /**
   * The event-driven consumer of the consumer channel `name` (one per name; asking again returns the
   * same one; once it is `stopped` or `crashed`, a started instance makes a new one, to run the
   * channel again; while a configured copy runs, that copy).
   * Configure it with its `with*` methods, which return a configured copy, then `run()` the copy
   * (running a consumer a `with*` call was made on fails). Needs a started instance.
   */
  eventDrivenConsumer(name: string): EventDrivenConsumer {
    return this.#endpoints.eventDriven(name);
  }

  /**
   * The polling consumer of the consumer channel `name`: `receive({ max, timeoutMs })` returns
   * deliveries the caller settles (see {@link PollingConsumer}). One per name; once closed, a
   * started instance makes a new one. Needs a started instance and a transport with a partitioned
   * source (the in-memory transport). Its `with*` methods return a configured copy: `receive()` on
   * the copy.
   *
   * @throws GomesError `GOMES_NOT_FOUND` for an unknown channel; `GOMES_ILLEGAL_STATE` when the
   * instance is not started or the transport has no partitioned source.
   */
  pollingConsumer(name: string): PollingConsumer {
    return this.#endpoints.polling(name);
  }

  /**
   * The instance's health: each connection's state, each consumer's state with per-partition lag
   * and time since progress, and the `ready` / `live` verdicts with the reasons for them (rules and
   * thresholds: the `health` option, docs/observability.md). A snapshot: it does no I/O, so a probe
   * calling it never hangs.
   */
  health(): HealthReport {
    const runtime = this.#lifecycle.runtime;
    return assessHealth(
      {
        lifecycle: this.#lifecycle.state,
        connections: this.#config.connectionStates(runtime !== undefined),
        consumers: this.#config.applicationConsumers().map((b) => this.#endpoints.snapshot(b, runtime)),
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
      state: this.#lifecycle.state,
      running: this.#lifecycle.runtime !== undefined && this.#lifecycle.state === 'started',
      connections: this.#config.connections,
      publishers: this.#config.publishers,
      consumers: this.#config.consumers,
      consumerState: (name) => this.#endpoints.eventDrivenOf(name)?.state,
      buses: this.#buses.list(),
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
    return this.#lifecycle.shutdown();
  }

  /** Runs the preflights, then connects and builds the channels (`start()`, state `starting`). */
  async #buildRuntime(): Promise<GomesRuntime> {
    const config = this.#config;
    ConfigurationError.throwIfAny(await runPreflights(config, this.#logger), 'gomes configuration');
    this.#telemetry.start();
    const runtime = await GomesRuntime.build(config, this.#coordinator, this.#logger, this.#telemetry);
    this.#topicReports = Object.freeze([...runtime.topicReports]);
    this.#telemetry.metrics.setLagSources(() => runtime.lagSources());
    return runtime;
  }

  /** Stops the consumers and in-process work, and fails the waiting requests (`shutdown()`). */
  async #stopEndpoints(): Promise<void> {
    const budget = this.#options.shutdownTimeoutMs;
    await this.#endpoints.stopAll(budget);
    await this.#buses.drainAsyncWork(budget);
    this.#coordinator.rejectAll(new GomesError('CLOSED', 'gomes is shutting down'));
  }

  /** What reads a registered channel back (dead letters, replay); needs a started instance. */
  #readers(): ChannelReadersContext {
    return { runtime: this.#lifecycle.startedRuntime(), config: this.#config, logger: this.#logger };
  }
}
