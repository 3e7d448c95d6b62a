import type {
  ConsumerChannel,
  Delivery,
  DeliveryPosition,
  PartitionLag,
  Subscription,
} from '../channel/consumer-channel.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { PartitionedSource, SourceListener, SourceRecord } from '../transport/spi/partitioned-source.js';
import type { ConsumerCounters } from './consumer-counters.js';

/** The one pseudo-partition of a {@link SubscriptionSource}. */
const PARTITION = 0;

/** What a {@link SubscriptionSource} still holds of the transport when a stop gives up on it. */
export interface SubscriptionSourcePending {
  /** Whether `Subscription.stop()` has not resolved yet. */
  readonly subscriptionStopPending: boolean;
  /** Deliveries handed over and not settled with the transport yet (the transport redelivers them). */
  readonly unsettled: readonly { messageId: string; key: string; position: DeliveryPosition }[];
}

/**
 * A subscribe-only {@link ConsumerChannel} (a channel adapter without `openSource`, an in-process
 * point-to-point or publish-subscribe channel, a third-party transport) as a
 * {@link PartitionedSource} with `settlement: 'per-record'`, so the consume engine runs it like any
 * other source: one pseudo-partition (0), each delivery one record (key = `Delivery.key`, position =
 * `Delivery.position`), `settle(…, 'ack')` = `delivery.ack()`, `'requeue'` = `delivery.nack()`.
 *
 * - **Backpressure:** the channel has no pause. The delivery handler resolves once the record is
 *   buffered in the engine (the channel contract: accepted); while the engine has the
 *   pseudo-partition paused (its buffer is full), the next delivery waits for room before it is
 *   accepted, so the transport, which awaits the handler, hands over nothing more.
 * - **Stop:** {@link SubscriptionSource.stopIntake} stops the subscription (deliveries handed over
 *   afterwards are nacked unprocessed); `close()` nacks every delivery the engine did not ack (aborted,
 *   waiting to run again, never started) — never acked, so the transport redelivers them — then closes
 *   the subscription.
 * - **Errors:** the subscription's `onError` is the source's error.
 *
 * @internal
 */
export class SubscriptionSource implements PartitionedSource {
  readonly channelName: string;
  readonly settlement = 'per-record' as const;
  readonly #channel: ConsumerChannel;
  readonly #counters: ConsumerCounters;
  readonly #logger: Logger;
  /** Handed to the engine, not settled with the transport yet, in the order handed over. */
  readonly #unsettled = new Map<bigint, Delivery>();
  #listener: SourceListener | undefined;
  #subscribing: Promise<Subscription> | undefined;
  #next = 0n;
  #paused = false;
  #room: { promise: Promise<void>; open: () => void } | undefined;
  #stopping: Promise<void> | undefined;
  #stopPending = false;
  #closing: Promise<void> | undefined;

  constructor(channel: ConsumerChannel, counters: ConsumerCounters, logger: Logger) {
    this.channelName = channel.channelName;
    this.#channel = channel;
    this.#counters = counters;
    this.#logger = logger;
  }

  /** Subscribes; the pseudo-partition is assigned before the first delivery. */
  async start(listener: SourceListener): Promise<void> {
    this.#listener = listener;
    listener.assigned([PARTITION]);
    this.#subscribing = this.#channel.subscribe(async (delivery) => this.#onDelivery(delivery), {
      onError: (error) => listener.error(error),
    });
    await this.#subscribing;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#openRoom();
  }

  /** A subscription cannot be positioned. */
  seek(): void {
    throw new GomesError('NOT_SUPPORTED', `Channel "${this.channelName}" has no partitioned source: no seek`);
  }

  /** Never called: records are settled one by one. */
  async commit(): Promise<void> {
    return Promise.resolve();
  }

  async settle(_partition: number, record: SourceRecord, outcome: 'ack' | 'requeue'): Promise<void> {
    const delivery = this.#unsettled.get(record.offset);
    if (!delivery) return;
    this.#unsettled.delete(record.offset);
    if (outcome === 'requeue') return this.#nack(delivery);
    try {
      await delivery.ack();
    } catch (error) {
      this.#counters.ackFailures++;
      this.#logger.error('Ack failed; the transport will redeliver the message', fields(delivery, error));
    }
  }

  lag(): readonly PartitionLag[] {
    return this.#channel.consumerLag?.() ?? [];
  }

  /**
   * Stops the subscription (new deliveries are nacked unprocessed; one waiting for room is released
   * and nacked). Idempotent; resolves once the transport's `stop()` resolved.
   */
  async stopIntake(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#openRoom();
      this.#stopPending = true;
      const subscription = await this.#subscribing?.catch(() => undefined);
      try {
        await subscription?.stop();
      } catch (error) {
        this.#logger.error('Stopping the subscription failed', { errorMessage: toError(error).message });
      } finally {
        this.#stopPending = false;
      }
    })();
    return this.#stopping;
  }

  /**
   * Nacks every delivery not acked, last first (never acked: the transport redelivers them, in
   * order), then closes. Idempotent.
   */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopping = this.stopIntake();
      // Each stays unsettled (see `pending()`) until the transport took its nack. Last first: a
      // nack puts its message back at the head of the queue, so they are redelivered in order.
      const nacks = [...this.#unsettled].reverse().map(async ([offset, delivery]) => {
        await this.#nack(delivery);
        this.#unsettled.delete(offset);
      });
      await Promise.all([...nacks, stopping]);
      const subscription = await this.#subscribing?.catch(() => undefined);
      await subscription?.close();
    })();
    return this.#closing;
  }

  /** What is still pending with the transport (for the log of a stop that gives up on it). */
  pending(): SubscriptionSourcePending {
    return {
      subscriptionStopPending: this.#stopPending,
      unsettled: [...this.#unsettled.values()].map((d) => ({
        messageId: d.message.messageId,
        key: d.key,
        position: d.position,
      })),
    };
  }

  async #onDelivery(delivery: Delivery): Promise<void> {
    while (this.#paused && this.#stopping === undefined) {
      this.#room ??= room();
      await this.#room.promise;
    }
    const listener = this.#listener;
    if (this.#stopping !== undefined || !listener) {
      this.#counters.received++;
      this.#logger.debug('Nacking message unprocessed: consumer is stopping', {
        messageId: delivery.message.messageId,
      });
      return this.#nack(delivery);
    }
    const offset = this.#next++;
    this.#unsettled.set(offset, delivery);
    // Decoding yields the message the transport decoded already.
    const record: SourceRecord = {
      offset,
      key: delivery.key,
      position: delivery.position,
      deliveryAttempt: delivery.deliveryAttempt,
      headers: delivery.message.headers,
      rawValue: undefined,
      decode: () => ({ ok: true, message: delivery.message }),
    };
    await listener.batch(PARTITION, [record]);
  }

  async #nack(delivery: Delivery): Promise<void> {
    try {
      await delivery.nack({ delayMs: 0 });
    } catch (error) {
      this.#counters.nackFailures++;
      this.#logger.error(
        'Nack failed; the transport redelivers unacknowledged messages on its own',
        fields(delivery, error),
      );
    }
  }

  #openRoom(): void {
    const waiting = this.#room;
    this.#room = undefined;
    waiting?.open();
  }
}

function room(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function fields(delivery: Delivery, error: unknown): Record<string, unknown> {
  return {
    messageId: delivery.message.messageId,
    key: delivery.key,
    position: delivery.position,
    errorMessage: toError(error).message,
  };
}
