import type { Message } from '../message/message.js';

/** Runs `wait` without holding a consumer processor (see `KeyScheduler.withoutProcessor`). */
type Release = <R>(wait: () => Promise<R>) => Promise<R>;

/** The engine's release of the message being processed; keyed by the decoded message object. */
const releases = new WeakMap<Message, Release>();

/**
 * Records how a message's processor is given back while the message waits for something outside
 * the consumer (a batch to fill, a polling caller to settle it). Called once per decoded record by
 * the consume engine.
 *
 * @internal
 */
export function offerProcessorRelease(message: Message, release: Release): void {
  releases.set(message, release);
}

/**
 * Runs `wait` for `message` without holding its processor: other keys run meanwhile, the message's
 * key stays blocked (order per key is kept), and the message gets a processor back before new keys
 * once `wait` settled. When the message does not come from the consume engine (an in-process bus,
 * or an interceptor replaced it), `wait` runs holding the processor.
 *
 * @internal
 */
export async function waitWithoutProcessor<R>(message: Message, wait: () => Promise<R>): Promise<R> {
  const release = releases.get(message);
  return release ? release(wait) : wait();
}
