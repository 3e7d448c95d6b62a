import type { ActionDispatcher } from '../actions/action-dispatcher.js';
import type { ResolvedActionValidationOptions } from '../actions/action-validation-options.js';
import type { BusTransport } from '../bus/bus-transport.js';
import { ChannelBusTransport } from '../bus/channel-bus-transport.js';
import { CommandBus } from '../bus/command-bus.js';
import { EventBus } from '../bus/event-bus.js';
import { InProcessBusTransport } from '../bus/in-process-bus-transport.js';
import { QueryBus } from '../bus/query-bus.js';
import type { RequestReplyCoordinator } from '../bus/request-reply-coordinator.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import type { RegisteredConfiguration } from './configuration-check.js';
import type { GomesOptions } from './gomes-options.js';
import type { GomesInstanceContext } from './instance-context.js';

/** The kind of a bus, as `showActiveEndpoints` names it. @internal */
export type BusKind = 'Command-Bus' | 'Query-Bus' | 'Event-Bus';

/** What the buses of an instance are built from. @internal */
export interface GomesBusesDependencies extends GomesInstanceContext {
  readonly options: GomesOptions;
  /** The registered action handlers, and publisher channels (a bus by channel finds its reply channel there). */
  readonly config: Pick<RegisteredConfiguration, 'registry' | 'publishers'>;
  readonly dispatcher: ActionDispatcher;
  readonly validation: ResolvedActionValidationOptions;
  readonly coordinator: RequestReplyCoordinator;
}

/**
 * The buses of a gomes instance: one per kind and channel (in process, or over a publisher
 * channel), made on first use; and the in-process async work (`sendAsync`) they started, which
 * `shutdown()` drains.
 *
 * @internal
 */
export class GomesBuses {
  readonly #deps: GomesBusesDependencies;
  readonly #buses = new Map<string, { kind: BusKind; bus: CommandBus | QueryBus | EventBus }>();
  readonly #asyncWork = new Set<Promise<unknown>>();

  constructor(deps: GomesBusesDependencies) {
    this.#deps = deps;
  }

  /** The bus of `kind` in process (`channelName` undefined) or over the publisher channel `channelName`. */
  bus(kind: BusKind, channelName: string | undefined): CommandBus | QueryBus | EventBus {
    const key = `${kind}:${channelName ?? 'in-process'}`;
    const existing = this.#buses.get(key);
    if (existing) return existing.bus;
    if (channelName !== undefined && this.#deps.state() === 'started')
      this.#deps.startedRuntime().publisher(channelName);
    const transport =
      channelName === undefined ? this.#inProcessTransport(kind) : this.#channelTransport(channelName);
    const deps = {
      transport,
      describe: (a: object) => this.#deps.config.registry.describe(a),
      validate: this.#deps.options.validate,
      validation: this.#deps.validation,
      origin: this.#deps.options.origin,
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

  /** Every bus made so far. */
  list(): { kind: BusKind; channelName: string | undefined }[] {
    return [...this.#buses.values()].map(({ kind, bus }) => ({ kind, channelName: bus.channelName }));
  }

  /** Waits for the in-process async work still running, at most `budgetMs`. */
  async drainAsyncWork(budgetMs: number): Promise<void> {
    if (this.#asyncWork.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)));
    await Promise.race([Promise.allSettled([...this.#asyncWork]), timeout]);
    clearTimeout(timer);
  }

  #inProcessTransport(kind: BusKind): BusTransport {
    const { dispatcher, channels, logger, telemetry } = this.#deps;
    return new InProcessBusTransport({
      dispatcher,
      channels,
      logger,
      endpointName: `default.${kind}`,
      telemetry,
      assertOpen: () => {
        const state = this.#deps.state();
        if (state === 'stopped') {
          throw new GomesError('CLOSED', `gomes is stopped: the in-process ${kind} takes no more messages`, {
            details: { state },
          });
        }
      },
      onUnhandledError: (error, message) => this.#deps.onUnhandledError(error, message),
      track: (work) => {
        this.#asyncWork.add(work);
        // `work` handles its own failures; the catch only guards against a rejection of it ever
        // surfacing as an unhandled rejection through this bookkeeping chain.
        work
          .finally(() => this.#asyncWork.delete(work))
          .catch((e: unknown) =>
            logger.error('in-process async work failed', { errorMessage: toError(e).message }),
          );
      },
    });
  }

  #channelTransport(channelName: string): BusTransport {
    const { coordinator } = this.#deps;
    return new ChannelBusTransport({
      channelName,
      replyTo: this.#deps.config.publishers.find((p) => p.channelName === channelName)?.replyChannelName,
      instanceId: coordinator.instanceId,
      publisher: () => this.#deps.startedRuntime().publisher(channelName),
      coordinator,
      defaultTimeoutMs: this.#deps.options.requestTimeoutMs,
      telemetry: this.#deps.telemetry,
    });
  }
}
