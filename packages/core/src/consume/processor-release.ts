import type { Delivery } from '../channel/consumer-channel.js';
import type { Message } from '../message/message.js';

/** Runs `wait` without holding a consumer processor (see `KeyScheduler.withoutProcessor`). */
type Release = <R>(wait: () => Promise<R>) => Promise<R>;

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
  readonly [PROCESSOR_RELEASE]?: Release;
}

/**
 * Runs `wait` for `message` without holding its processor: other keys run meanwhile, the message's
 * key stays blocked (order per key is kept), and the message gets a processor back before new keys
 * once `wait` settled. `delivery` is the delivery being processed (`ctx.delivery`). When the
 * message does not come from the consume engine (an in-process bus, or an interceptor replaced it:
 * it is not `delivery.message`), `wait` runs holding the processor.
 *
 * @internal
 */
export async function waitWithoutProcessor<R>(
  message: Message,
  delivery: Delivery | undefined,
  wait: () => Promise<R>,
): Promise<R> {
  const release =
    delivery !== undefined && delivery.message === message
      ? (delivery as ReleasableDelivery)[PROCESSOR_RELEASE]
      : undefined;
  return release ? release(wait) : wait();
}
