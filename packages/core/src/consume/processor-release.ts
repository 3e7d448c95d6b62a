import type { Delivery } from '../channel/consumer-channel.js';
import type { Message } from '../message/message.js';
import type { ProcessorResumer } from './key-scheduler.js';

export type { ProcessorResumer } from './key-scheduler.js';

/**
 * How a message being processed gives its consumer processor back while it waits for something
 * outside the consumer (see `KeyScheduler.withoutProcessor`).
 *
 * @internal
 */
export interface ProcessorHandOff {
  /** Runs `wait` without holding the processor; it is held again once `wait` settled. */
  wait<R>(wait: () => Promise<R>): Promise<R>;
  /** Gives the processor back now; {@link ProcessorHandOff.reacquire} must follow once. */
  release(): void;
  /** Calls `resumer.resumed()` once the message holds a processor again (before new keys). */
  reacquire(resumer: ProcessorResumer): void;
}

/**
 * The slot of a delivery made by the consume engine that holds how its processor is given back
 * while the message waits for something outside the consumer (a batch to fill, a polling caller
 * to settle it). The engine writes it in the delivery literal it builds per attempt: no per-message
 * WeakMap entry (a WeakMap set per message, and its ephemeron work in every garbage collection,
 * showed in the consume profile).
 *
 * @internal
 */
export const PROCESSOR_RELEASE: unique symbol = Symbol('gomes.processorRelease');

/** A delivery that may carry {@link PROCESSOR_RELEASE}. @internal */
export interface ReleasableDelivery extends Delivery {
  readonly [PROCESSOR_RELEASE]?: ProcessorHandOff;
}

/**
 * How `message` gives its processor back, when it comes from the consume engine: `delivery` is the
 * delivery being processed (`ctx.delivery`). `undefined` when the message does not come from the
 * consume engine (an in-process bus, or an interceptor replaced it: it is not `delivery.message`):
 * the message then waits holding its processor.
 *
 * @internal
 */
export function processorHandOff(
  message: Message,
  delivery: Delivery | undefined,
): ProcessorHandOff | undefined {
  return delivery !== undefined && delivery.message === message
    ? (delivery as ReleasableDelivery)[PROCESSOR_RELEASE]
    : undefined;
}

/**
 * Runs `wait` for `message` without holding its processor: other keys run meanwhile, the message's
 * key stays blocked (order per key is kept), and the message gets a processor back before new keys
 * once `wait` settled. When the message does not come from the consume engine (see
 * {@link processorHandOff}), `wait` runs holding the processor.
 *
 * @internal
 */
export async function waitWithoutProcessor<R>(
  message: Message,
  delivery: Delivery | undefined,
  wait: () => Promise<R>,
): Promise<R> {
  const handOff = processorHandOff(message, delivery);
  return handOff ? handOff.wait(wait) : wait();
}
