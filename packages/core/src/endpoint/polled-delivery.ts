import type { DeliveryPosition } from '../channel/consumer-channel.js';
import type { Message } from '../message/message.js';

/**
 * How the caller settled a {@link PolledDelivery}.
 *
 * @public
 */
export type PolledOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack'; readonly delayMs: number | undefined }
  | { readonly kind: 'dead-letter'; readonly reason: string };

/**
 * One message handed out by `PollingConsumer.receive`; the caller settles it exactly once. Until
 * it is settled, later messages of its key are not handed out. Settling twice, or after the
 * delivery was taken back (processing timeout, revoke, `close()`), does nothing and returns false.
 *
 * @public
 */
export interface PolledDelivery {
  /** The message. */
  readonly message: Message;
  /** Ordering key (partition key). */
  readonly key: string;
  /** Where the message was read. */
  readonly position: DeliveryPosition | undefined;
  /** How many times the transport has delivered it (1 on first delivery). */
  readonly deliveryAttempt: number;
  /** Done: its offset may be committed. */
  ack(): boolean;
  /** Not done: handed out again after `delayMs` (default: the consumer's nack delay). */
  nack(options?: { readonly delayMs?: number }): boolean;
  /**
   * Failed for good: published to the consumer's dead-letter channel, then acked (without a
   * dead-letter channel it is redelivered, as for an event handler).
   */
  deadLetter(reason?: string): boolean;
}

/**
 * A {@link PolledDelivery} that reports its single outcome to the consumer.
 *
 * @internal
 */
export class PolledDeliveryImpl implements PolledDelivery {
  readonly message: Message;
  readonly key: string;
  readonly position: DeliveryPosition | undefined;
  readonly deliveryAttempt: number;
  #settle: ((outcome: PolledOutcome) => void) | undefined;

  constructor(
    message: Message,
    key: string,
    position: DeliveryPosition | undefined,
    deliveryAttempt: number,
    settle: (outcome: PolledOutcome) => void,
  ) {
    this.message = message;
    this.key = key;
    this.position = position;
    this.deliveryAttempt = deliveryAttempt;
    this.#settle = settle;
  }

  /** Whether it still waits for the caller. */
  get open(): boolean {
    return this.#settle !== undefined;
  }

  ack(): boolean {
    return this.settle({ kind: 'ack' });
  }

  nack(options: { readonly delayMs?: number } = {}): boolean {
    return this.settle({ kind: 'nack', delayMs: options.delayMs });
  }

  deadLetter(reason = 'Dead-lettered by the polling caller'): boolean {
    return this.settle({ kind: 'dead-letter', reason });
  }

  /** Takes it back without an outcome (its attempt was aborted); false when it was settled already. */
  takeBack(): boolean {
    const open = this.#settle !== undefined;
    this.#settle = undefined;
    return open;
  }

  /** Settles once; false when it was settled or taken back already. */
  settle(outcome: PolledOutcome): boolean {
    const settle = this.#settle;
    if (!settle) return false;
    this.#settle = undefined;
    settle(outcome);
    return true;
  }
}
