import type { Delivery, NackOptions } from '../channel/consumer-channel.js';
import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { EventDrivenConsumerStats } from './event-driven-consumer-options.js';

/** Mutable consumer counters. @internal */
export type ConsumerCounters = { -readonly [K in keyof EventDrivenConsumerStats]: number };

/** Consumer counters, all zero. @internal */
export function zeroCounters(): ConsumerCounters {
  return {
    received: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    filtered: 0,
    duplicates: 0,
    acked: 0,
    nacked: 0,
    repliesDropped: 0,
    subscriptionErrors: 0,
    ackFailures: 0,
    nackFailures: 0,
    staleAttempts: 0,
    undecodableDropped: 0,
    inFlight: 0,
  };
}

/**
 * A delivery that settles at most once (so a forced shutdown nack cannot be followed by an ack).
 *
 * A transport `ack` / `nack` that fails is logged and counted (`ackFailures` / `nackFailures`),
 * then rethrown. A failed ack leaves the message unacknowledged: the transport redelivers it, so
 * {@link TrackedDelivery.endedNacked} reports it like a nack (the consumer's same-key guard).
 *
 * @internal
 */
export class TrackedDelivery implements Delivery {
  settled: 'ack' | 'nack' | undefined;
  /** Whether the transport rejected the ack (the message was not acknowledged). */
  ackFailed = false;
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

  /** Whether the delivery ended not acknowledged: nacked, or its ack failed (both are redelivered). */
  get endedNacked(): boolean {
    return this.settled === 'nack' || this.ackFailed;
  }

  async ack(): Promise<void> {
    if (this.settled !== undefined) {
      if (this.settled === 'nack')
        this.#logger.warn('Message finished after it was nacked at shutdown; it will be redelivered');
      return;
    }
    this.settled = 'ack';
    try {
      await this.#inner.ack();
    } catch (error) {
      this.ackFailed = true;
      this.#counters.ackFailures++;
      this.#logger.error('Ack failed; the transport will redeliver the message', this.#failureFields(error));
      throw error;
    }
    this.#counters.acked++;
  }

  async nack(options?: NackOptions): Promise<void> {
    if (this.settled !== undefined) return;
    this.settled = 'nack';
    try {
      await this.#inner.nack(options);
    } catch (error) {
      this.#counters.nackFailures++;
      this.#logger.error(
        'Nack failed; the transport redelivers unacknowledged messages on its own',
        this.#failureFields(error),
      );
      throw error;
    }
    this.#counters.nacked++;
  }

  #failureFields(error: unknown): Record<string, unknown> {
    return {
      messageId: this.#inner.message.messageId,
      key: this.#inner.key,
      position: this.#inner.position,
      errorMessage: toError(error).message,
    };
  }
}
