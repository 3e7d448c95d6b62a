import type { ConsumerChannelBuilder } from '../channel/channel-builders.js';
import { EventDrivenConsumer } from '../endpoint/event-driven-consumer.js';
import { PollingConsumer } from '../endpoint/polling-consumer.js';
import { GomesError } from '../errors/gomes-error.js';
import { consumerObservability } from '../observability/tracing-middleware.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import type { GomesRuntime } from './gomes-runtime.js';
import type { ConsumerSnapshot } from './health.js';
import type { GomesInstanceContext } from './instance-context.js';

/** What the consumers of an instance are made from. @internal */
export interface GomesConsumersDependencies extends GomesInstanceContext {
  /** The registered consumer channels. */
  readonly consumers: readonly ConsumerChannelBuilder[];
  /** The terminal step of an event-driven consumer: the registered action handlers. */
  readonly dispatch: MessageHandlerFn;
}

/**
 * The event-driven and polling consumers of a gomes instance, one of each per consumer channel
 * name, made on first use; `stopAll` stops them at `shutdown()`.
 *
 * @internal
 */
export class GomesConsumers {
  readonly #deps: GomesConsumersDependencies;
  readonly #eventDriven = new Map<string, EventDrivenConsumer>();
  readonly #polling = new Map<string, PollingConsumer>();
  /** The consume path of each channel made last (an event-driven consumer's, or a poller's): what health reports. */
  readonly #latest = new Map<string, EventDrivenConsumer>();

  constructor(deps: GomesConsumersDependencies) {
    this.#deps = deps;
  }

  /** The event-driven consumer of `name` made so far, if any. */
  eventDrivenOf(name: string): EventDrivenConsumer | undefined {
    return this.#eventDriven.get(name);
  }

  /** See `Gomes.eventDrivenConsumer`. */
  eventDriven(name: string): EventDrivenConsumer {
    const existing = this.#eventDriven.get(name);
    const finished = existing?.state === 'stopped' || existing?.state === 'crashed';
    if (existing && (!finished || this.#deps.state() !== 'started')) return existing;
    const consumer = this.#newConsumer(name, this.#deps.dispatch, (running) => {
      refuseSecondRun(name, this.#eventDriven.get(name), running);
      this.#eventDriven.set(name, running);
      this.#latest.set(name, running);
    });
    this.#eventDriven.set(name, consumer);
    this.#latest.set(name, consumer);
    return consumer;
  }

  /** See `Gomes.pollingConsumer`. */
  polling(name: string): PollingConsumer {
    const existing = this.#polling.get(name);
    if (existing && (existing.state !== 'closed' || this.#deps.state() !== 'started')) return existing;
    const poller = new PollingConsumer({
      name,
      makeConsumer: (handler) => {
        const consumer = this.#newConsumer(name, handler, (running) => this.#latest.set(name, running));
        if (this.#deps.startedRuntime().consumerChannels.get(name)?.openSource === undefined) {
          throw new GomesError(
            'ILLEGAL_STATE',
            `Consumer channel "${name}" cannot be polled: its transport has no partitioned source`,
            { details: { name } },
          );
        }
        return consumer;
      },
      onStart: (starting) => {
        refuseSecondRun(name, this.#polling.get(name), starting);
        this.#polling.set(name, starting);
      },
    });
    this.#polling.set(name, poller);
    return poller;
  }

  /**
   * The health snapshot of the consumer channel `builder` (`runtime` while started): of the consume
   * path made last for it, an event-driven consumer's or a polling consumer's.
   */
  snapshot(builder: ConsumerChannelBuilder, runtime: GomesRuntime | undefined): ConsumerSnapshot {
    const consumer = this.#latest.get(builder.consumerName);
    return {
      name: builder.consumerName,
      channel: builder.channelName,
      consumerState: consumer?.state,
      consumerError: consumer?.error,
      transport: runtime?.consumerChannels.get(builder.consumerName)?.status?.(),
    };
  }

  /** Stops every event-driven consumer and closes every polling consumer, each within `budgetMs`. */
  async stopAll(budgetMs: number): Promise<void> {
    await Promise.allSettled([
      ...[...this.#eventDriven.values()].map(async (c) => c.stop(budgetMs)),
      ...[...this.#polling.values()].map(async (c) => c.close(budgetMs)),
    ]);
  }

  /** An event-driven consumer of channel `name` running `handler` as its pipeline's terminal step. */
  #newConsumer(
    name: string,
    handler: MessageHandlerFn,
    onRun: (consumer: EventDrivenConsumer) => void,
  ): EventDrivenConsumer {
    const runtime = this.#deps.startedRuntime();
    const channel = runtime.consumerChannels.get(name);
    const builder = this.#deps.consumers.find((c) => c.consumerName === name);
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
      channels: this.#deps.channels,
      logger: this.#deps.logger,
      onError: (error: Error) => this.#deps.onUnhandledError(error),
      onRun,
      observability: consumerObservability(this.#deps.telemetry, {
        endpoint: name,
        channelName: channel.channelName,
        system: runtime.consumerSystems.get(name) ?? 'gomes',
      }),
    });
  }
}

/**
 * Refuses to start `starting` while `registered` (another consumer, e.g. another `with*` copy, of
 * the same channel name in this instance) is running: one consume path per name and kind.
 */
function refuseSecondRun(
  name: string,
  registered: EventDrivenConsumer | PollingConsumer | undefined,
  starting: EventDrivenConsumer | PollingConsumer,
): void {
  if (registered === undefined || registered === starting) return;
  const state = registered.state;
  if (state === 'running' || state === 'stopping' || state === 'closing') {
    throw new GomesError(
      'ILLEGAL_STATE',
      `Consumer "${name}" is already ${state} in this gomes instance (another consumer made from the same name); stop it first`,
      { details: { name } },
    );
  }
}
