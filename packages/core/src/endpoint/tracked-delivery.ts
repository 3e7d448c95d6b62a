import type { Delivery, NackOptions } from '../channel/consumer-channel.js';
import type { Logger } from '../logging/logger.js';
import type { EventDrivenConsumerStats } from './event-driven-consumer-options.js';

/** Mutable consumer counters. @internal */
export type ConsumerCounters = { -readonly [K in keyof EventDrivenConsumerStats]: number };

/**
 * A delivery that settles at most once (so a forced shutdown nack cannot be followed by an ack).
 *
 * @internal
 */
export class TrackedDelivery implements Delivery {
  settled: 'ack' | 'nack' | undefined;
  readonly #inner: Delivery;
  readonly #counters: ConsumerCounters;
  readonly #logger: Logger;

  constructor(inner: Delivery, counters: ConsumerCounters, logger: Logger) {
    this.#inner = inner;
    this.#counters = counters;
    this.#logger = logger;
  }

  get message(): Delivery['message'] {
    return this.#inner.message;
  }
  get key(): string {
    return this.#inner.key;
  }
  get position(): Delivery['position'] {
    return this.#inner.position;
  }
  get deliveryAttempt(): number {
    return this.#inner.deliveryAttempt;
  }

  async ack(): Promise<void> {
    if (this.settled !== undefined) {
      if (this.settled === 'nack')
        this.#logger.warn('Message finished after it was nacked at shutdown; it will be redelivered');
      return;
    }
    this.settled = 'ack';
    await this.#inner.ack();
    this.#counters.acked++;
  }

  async nack(options?: NackOptions): Promise<void> {
    if (this.settled !== undefined) return;
    this.settled = 'nack';
    await this.#inner.nack(options);
    this.#counters.nacked++;
  }
}
