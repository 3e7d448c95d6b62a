import type { Delivery, DeliveryPosition, NackOptions } from '../channel/consumer-channel.js';
import type { Message } from '../message/message.js';

/** How a {@link TestDelivery} was settled. @public */
export type DeliverySettlement =
  { readonly kind: 'ack' } | { readonly kind: 'nack'; readonly options: NackOptions };

/**
 * A {@link Delivery} for unit tests of handlers and middleware: it records how it was settled.
 *
 * @public
 */
export interface TestDelivery extends Delivery {
  /** The first settlement, or `undefined` while unsettled. */
  readonly settlement: DeliverySettlement | undefined;
  /** Whether `ack()` settled it. */
  readonly acked: boolean;
  /** Whether `nack()` settled it. */
  readonly nacked: boolean;
  /** Every `ack`/`nack` call, in order (including ignored repeats). */
  readonly calls: readonly DeliverySettlement[];
  /** Resolves with the first settlement. */
  readonly settled: Promise<DeliverySettlement>;
}

/** Overrides of {@link createTestDelivery}. @public */
export interface TestDeliveryOptions {
  /** @default the message's `messageId` */
  key?: string;
  /** @default `{ channel: message.channelName ?? 'test', partition: 0, offset: '0' }` */
  position?: DeliveryPosition;
  /** @default 1 */
  deliveryAttempt?: number;
}

/**
 * Wraps `message` in a delivery that records its settlement (first call wins, as on a transport:
 * `nack` after `ack` is ignored).
 *
 * @example
 * ```ts
 * const delivery = createTestDelivery(MessageBuilder.withPayload({ id: 1 }).build());
 * await consumerHandler(delivery);
 * expect((await delivery.settled).kind).toBe('ack');
 * ```
 * @public
 */
export function createTestDelivery(message: Message, options: TestDeliveryOptions = {}): TestDelivery {
  const calls: DeliverySettlement[] = [];
  let settlement: DeliverySettlement | undefined;
  let resolveSettled: (s: DeliverySettlement) => void = () => undefined;
  const settled = new Promise<DeliverySettlement>((resolve) => {
    resolveSettled = resolve;
  });
  const settle = (s: DeliverySettlement): void => {
    calls.push(s);
    if (settlement) return;
    settlement = s;
    resolveSettled(s);
  };
  return {
    message,
    key: options.key ?? message.messageId,
    position: options.position ?? { channel: message.channelName ?? 'test', partition: 0, offset: '0' },
    deliveryAttempt: options.deliveryAttempt ?? 1,
    ack: async () => Promise.resolve(settle({ kind: 'ack' })),
    nack: async (nackOptions: NackOptions = {}) =>
      Promise.resolve(settle({ kind: 'nack', options: { ...nackOptions } })),
    get settlement() {
      return settlement;
    },
    get acked() {
      return settlement?.kind === 'ack';
    },
    get nacked() {
      return settlement?.kind === 'nack';
    },
    get calls() {
      return [...calls];
    },
    settled,
  };
}
