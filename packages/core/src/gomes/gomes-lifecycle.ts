import { GomesError } from '../errors/gomes-error.js';
import { sharedPromise } from '../internal/shared-promise.js';
import type { Logger } from '../logging/logger.js';
import type { GomesRuntime } from './gomes-runtime.js';
import type { GomesState } from './gomes-state.js';

/** The instance-specific steps of {@link GomesLifecycle}. @internal */
export interface GomesLifecycleSteps {
  readonly logger: Logger;
  /** Checks the configuration before anything starts; throws a ConfigurationError. */
  readonly check: () => void;
  /** Runs the preflights and builds the runtime (state `starting`). */
  readonly build: () => Promise<GomesRuntime>;
  /** The instance is started on `runtime`. */
  readonly started: (runtime: GomesRuntime) => void;
  /** Stops what runs on the runtime before it closes (state `stopping`). */
  readonly stop: () => Promise<void>;
}

/**
 * The lifecycle of a gomes instance: its state, `start()` (once; concurrent callers share the
 * promise) and `shutdown()` (idempotent), and the runtime a started instance owns.
 *
 * @internal
 */
export class GomesLifecycle {
  readonly #steps: GomesLifecycleSteps;
  #runtime: GomesRuntime | undefined;
  #state: GomesState = 'created';
  #startPromise: Promise<void> | undefined;
  readonly #shutdown = sharedPromise(async () => this.#doShutdown());

  constructor(steps: GomesLifecycleSteps) {
    this.#steps = steps;
  }

  /** Current lifecycle state. */
  get state(): GomesState {
    return this.#state;
  }

  /** The runtime, from a successful start until shutdown. */
  get runtime(): GomesRuntime | undefined {
    return this.#runtime;
  }

  /** See `Gomes.start`. */
  async start(): Promise<void> {
    if (this.#startPromise && (this.#state === 'starting' || this.#state === 'started'))
      return this.#startPromise;
    if (this.#state !== 'created')
      throw new GomesError('ILLEGAL_STATE', `Cannot start a gomes instance that is ${this.#state}`);
    this.#startPromise = this.#doStart();
    return this.#startPromise;
  }

  /** See `Gomes.shutdown`. */
  // Not `async`: concurrent callers must get the very same promise.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  shutdown(): Promise<void> {
    return this.#shutdown();
  }

  /** The runtime of the started instance. @throws GomesError `GOMES_ILLEGAL_STATE` when not started. */
  startedRuntime(): GomesRuntime {
    if (this.#state !== 'started' || !this.#runtime) {
      throw new GomesError('ILLEGAL_STATE', `gomes is ${this.#state}; call start() first`, {
        details: { state: this.#state },
      });
    }
    return this.#runtime;
  }

  /** @throws GomesError `GOMES_ILLEGAL_STATE` once the instance was started. */
  assertConfigurable(): void {
    if (this.#state !== 'created') {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Cannot change the configuration of a gomes instance that is ${this.#state}`,
      );
    }
  }

  async #doStart(): Promise<void> {
    try {
      this.#steps.check();
      this.#state = 'starting';
      this.#runtime = await this.#steps.build();
      this.#state = 'started';
      this.#steps.started(this.#runtime);
    } catch (error) {
      this.#state = 'failed';
      throw error;
    }
  }

  async #doShutdown(): Promise<void> {
    if (this.#state === 'starting') await this.#startPromise?.catch(() => undefined);
    const previous = this.#state;
    this.#state = 'stopping';
    await this.#steps.stop();
    const errors = (await this.#runtime?.close()) ?? [];
    this.#runtime = undefined;
    this.#state = 'stopped';
    this.#steps.logger.info('gomes stopped', { from: previous, errors: errors.length });
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
}
