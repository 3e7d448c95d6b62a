import { waitWithoutProcessor } from '../consume/processor-release.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, NonRetriableError, toError } from '../errors/gomes-error.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import { copiedEndpointError } from './copied-endpoint-error.js';
import type { EventDrivenConsumer } from './event-driven-consumer.js';
import type {
  EventDrivenConsumerOptions,
  EventDrivenConsumerStats,
} from './event-driven-consumer-options.js';
import { PolledDeliveryImpl, type PolledDelivery, type PolledOutcome } from './polled-delivery.js';

/**
 * Options of {@link PollingConsumer.receive}.
 *
 * @public
 */
export interface ReceiveOptions {
  /** Most deliveries returned. */
  readonly max: number;
  /** How long to wait for `max` deliveries before returning what arrived (maybe none), in ms. */
  readonly timeoutMs: number;
}

/** Defaults of {@link ReceiveOptions}. @public */
export const DEFAULT_RECEIVE_OPTIONS: ReceiveOptions = Object.freeze({ max: 100, timeoutMs: 1000 });

/**
 * The run options a {@link PollingConsumer}'s `with*` methods set (unset: the event-driven
 * consumer's defaults).
 *
 * @public
 */
export type PollingConsumerOptions = Partial<
  Pick<
    EventDrivenConsumerOptions,
    'nackDelayMs' | 'messageProcessingTimeoutMs' | 'maxBufferedRecordsPerPartition'
  >
>;

/**
 * What a {@link PollingConsumer} is made of (supplied by the gomes instance).
 *
 * @public
 */
export interface PollingConsumerInit {
  /** Endpoint name (the consumer channel's name). */
  readonly name: string;
  /** Builds the event-driven consumer that runs the pipeline around `handler`. */
  readonly makeConsumer: (handler: MessageHandlerFn) => EventDrivenConsumer;
  /**
   * Called by the first `receive()` with the polling consumer that starts (a `with*` copy, not the
   * one gomes made): the gomes instance registers it for `shutdown()`. Throwing refuses the start.
   */
  readonly onStart?: (poller: PollingConsumer) => void;
}

/** Lifecycle of a {@link PollingConsumer}. @public */
export type PollingConsumerState = 'idle' | 'running' | 'closing' | 'closed';

/**
 * Polling Consumer: the caller pulls messages with {@link PollingConsumer.receive} and settles each
 * one (`ack`, `nack`, `deadLetter`). It reads the same partitioned source as an event-driven consumer
 * and settles through the same single settle point: the consumer's pipeline (dead letter, retry
 * rules, idempotency, interceptors) runs around the caller, offsets are committed only past
 * settled messages, and a message of a key is handed out only once the previous one of that key
 * was settled (order per key). What is handed out and not settled when {@link PollingConsumer.close}
 * runs is never acked: it is redelivered to the next consumer of the group.
 *
 * The `with*` methods return a new, configured polling consumer and leave this one unchanged;
 * `receive()` on one a `with*` call was made on fails with a `ConfigurationError`.
 *
 * A handed-out message counts against the consumer's processing timeout (default 100 s): past it,
 * the delivery is taken back (settling it then returns false) and fails as a timed-out handler
 * does (retried per the consumer's retry options, then dead-lettered).
 *
 * @example
 * ```ts
 * const poller = gomes.pollingConsumer('orders');
 * for (const d of await poller.receive({ max: 50, timeoutMs: 500 })) {
 *   try { await save(d.message.payload); d.ack(); } catch { d.nack(); }
 * }
 * await poller.close();
 * ```
 * @public
 */
export class PollingConsumer {
  /** Endpoint name (the consumer channel's name). */
  readonly name: string;
  readonly #init: PollingConsumerInit;
  readonly #options: PollingConsumerOptions;
  readonly #consumer: EventDrivenConsumer;
  /** Set once a `with*` call made a configured copy of this one: `receive()` then refuses. */
  #copied = false;
  readonly #ready: PolledDeliveryImpl[] = [];
  readonly #handedOut = new Set<PolledDeliveryImpl>();
  #state: PollingConsumerState = 'idle';
  #wake: (() => void) | undefined;
  #receiving: Promise<unknown> = Promise.resolve();
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Made by the gomes instance (`gomes.pollingConsumer(name)`); `options` are what `with*` set. */
  constructor(init: PollingConsumerInit, options: PollingConsumerOptions = {}) {
    this.name = init.name;
    this.#init = init;
    this.#options = { ...options };
    let consumer = init.makeConsumer(this.#offer);
    if (options.nackDelayMs !== undefined) consumer = consumer.withNackDelay(options.nackDelayMs);
    if (options.messageProcessingTimeoutMs !== undefined) {
      consumer = consumer.withMessageProcessingTimeout(options.messageProcessingTimeoutMs);
    }
    if (options.maxBufferedRecordsPerPartition !== undefined) {
      consumer = consumer.withMaxBufferedRecordsPerPartition(options.maxBufferedRecordsPerPartition);
    }
    this.#consumer = consumer;
  }

  /** A copy with the delay before a nacked message is handed out again, in ms. @default 1000 */
  withNackDelay(delayMs: number): PollingConsumer {
    return this.#set({ nackDelayMs: delayMs });
  }

  /** A copy with how long a handed-out message may stay unsettled before it is taken back (a processing timeout), in ms. @default 100000 */
  withMessageProcessingTimeout(timeoutMs: number): PollingConsumer {
    return this.#set({ messageProcessingTimeoutMs: timeoutMs });
  }

  /** A copy with the records fetched and not settled per partition. @default 1000 */
  withMaxBufferedRecordsPerPartition(records: number): PollingConsumer {
    return this.#set({ maxBufferedRecordsPerPartition: records });
  }

  /** The options `with*` set (a copy). */
  get options(): Readonly<PollingConsumerOptions> {
    return Object.freeze({ ...this.#options });
  }

  /** Lifecycle state. */
  get state(): PollingConsumerState {
    return this.#state;
  }

  /** Counters of the underlying consume path (a snapshot). */
  get stats(): EventDrivenConsumerStats {
    return this.#consumer.stats;
  }

  /**
   * Returns up to `max` deliveries, once `max` are ready or `timeoutMs` passed (then what is ready,
   * maybe none). The first call joins the group. Calls run one after the other.
   *
   * @throws ConfigurationError on invalid options; GomesError `GOMES_CLOSED` after `close()`; the
   * channel's error when joining fails.
   */
  async receive(options: Partial<ReceiveOptions> = {}): Promise<PolledDelivery[]> {
    const o: ReceiveOptions = { ...DEFAULT_RECEIVE_OPTIONS, ...options };
    ConfigurationError.throwIfAny(receiveProblems(o), `polling consumer "${this.name}" receive`);
    const run = this.#receiving.then(async () => this.#receiveNow(o));
    this.#receiving = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops: deliveries handed out and not settled, and those not handed out yet, are never acked
   * (the next consumer of the group gets them); settled ones are committed. Idempotent.
   */
  async close(budgetMs = 5000): Promise<void> {
    this.#closing ??= this.#close(budgetMs);
    return this.#closing;
  }

  async #close(budgetMs: number): Promise<void> {
    this.#state = 'closing';
    this.#wake?.();
    await this.#starting?.catch(() => undefined);
    // Stopping closes intake first, so what is nacked below is left to the next owner.
    const stopped = this.#consumer.stop(budgetMs);
    for (const delivery of [...this.#ready, ...this.#handedOut]) delivery.settle(ABANDON);
    this.#ready.length = 0;
    await stopped;
    this.#state = 'closed';
  }

  async #receiveNow(o: ReceiveOptions): Promise<PolledDelivery[]> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new GomesError('CLOSED', `Polling consumer "${this.name}" is closed`);
    }
    if (this.#state === 'idle') {
      if (this.#copied) throw copiedEndpointError('polling consumer', this.name, 'receive()');
      this.#init.onStart?.(this);
      this.#state = 'running';
      this.#starting = this.#consumer.run();
    }
    await this.#starting;
    if (this.#ready.length < o.max) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, o.timeoutMs);
        this.#wake = () => {
          if (this.#ready.length >= o.max || this.#state !== 'running') done();
        };
      });
    }
    const taken = this.#ready.splice(0, o.max);
    for (const delivery of taken) this.#handedOut.add(delivery);
    return taken;
  }

  /** A new polling consumer with `changes` over these options; marks this one so it cannot start. */
  #set(changes: PollingConsumerOptions): PollingConsumer {
    if (this.#state !== 'idle') {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Polling consumer "${this.name}" options must be set before receive()`,
      );
    }
    this.#copied = true;
    return new PollingConsumer(this.#init, { ...this.#options, ...changes });
  }

  /** The pipeline's terminal step: offers the message to `receive` and waits (without a processor) for its outcome. */
  readonly #offer: MessageHandlerFn = async (message, ctx) => {
    const delivery = ctx.delivery;
    const outcome = await waitWithoutProcessor(
      message,
      delivery,
      async () =>
        new Promise<PolledOutcome>((resolve, reject) => {
          const signal = ctx.signal;
          const polled = new PolledDeliveryImpl(
            message,
            delivery?.key ?? '',
            delivery?.position,
            delivery?.deliveryAttempt ?? 1,
            (settled) => {
              signal.removeEventListener('abort', onAbort);
              this.#handedOut.delete(polled);
              resolve(settled);
            },
          );
          const onAbort = (): void => {
            if (!polled.takeBack()) return;
            this.#handedOut.delete(polled);
            const at = this.#ready.indexOf(polled);
            if (at >= 0) this.#ready.splice(at, 1);
            reject(toError(signal.reason));
          };
          if (signal.aborted) return reject(toError(signal.reason));
          signal.addEventListener('abort', onAbort, { once: true });
          this.#ready.push(polled);
          this.#wake?.();
        }),
    );
    if (outcome.kind === 'dead-letter') throw new NonRetriableError(outcome.reason);
    if (outcome.kind === 'nack') {
      if (!delivery) throw new GomesError('HANDLER_FAILED', 'Nacked by the polling caller');
      await delivery.nack(outcome.delayMs === undefined ? {} : { delayMs: outcome.delayMs });
    }
    return undefined;
  };
}

/** Nack of what is unsettled at close: left to the next consumer (never acked). */
const ABANDON: PolledOutcome = Object.freeze({ kind: 'nack', delayMs: 0 });

function receiveProblems(o: ReceiveOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(o.max) || o.max < 1)
    problems.push(`max must be an integer >= 1 (got ${String(o.max)})`);
  if (!Number.isInteger(o.timeoutMs) || o.timeoutMs < 0 || o.timeoutMs > 2_147_483_647) {
    problems.push(`timeoutMs must be an integer between 0 and 2147483647 (got ${String(o.timeoutMs)})`);
  }
  return problems;
}
