import { AsyncLocalStorage } from 'node:async_hooks';
import type { SendActionOptions } from './send-action-options.js';

/**
 * What the scope of a handler call remembers of the message being handled: a `Message` (or anything
 * with its two ids), read only when a bus call inside the handler needs them.
 *
 * @internal
 */
export interface CausationSource {
  /** The handled message's id: the `causationId` of what the handler sends. */
  readonly messageId: string;
  /** The handled message's conversation: the `correlationId` of what the handler sends. */
  readonly correlationId: string | undefined;
}

/**
 * The message whose handler is running, per async context. The only state of this module: an
 * `AsyncLocalStorage` entered for the duration of one handler call (and everything it awaits), by
 * the action dispatcher only, and read by the buses. Nothing else writes it.
 */
const handling = new AsyncLocalStorage<CausationSource>();

/**
 * Runs `call` (one handler call) with `source` as the message being handled: bus calls made inside
 * it, synchronously or after any `await`, inherit its ids (see {@link withInheritedCausation}).
 *
 * @internal
 */
export function runHandling<A extends unknown[], R>(
  source: CausationSource,
  call: (...args: A) => R,
  ...args: A
): R {
  return handling.run(source, call, ...args);
}

/**
 * Runs `call` outside any handled message (a batch handler's call, which handles many): bus calls
 * inside it inherit no ids, whichever event's async context started it.
 *
 * @internal
 */
export function runOutsideHandling<R>(call: () => R): R {
  return handling.exit(call);
}

/**
 * `options` completed with the ids a bus call inherits from the handler it is made in: a
 * `correlationId` (the handled message's, else its `messageId`: the conversation starts there) and
 * a `causationId` (the handled message's `messageId`), each only where `options` gives none. Outside
 * a handler, or when both are given, `options` itself (nothing is copied).
 *
 * @internal
 */
export function withInheritedCausation(options: SendActionOptions): SendActionOptions {
  if (options.correlationId !== undefined && options.causationId !== undefined) return options;
  const parent = handling.getStore();
  if (parent === undefined) return options;
  return {
    ...options,
    correlationId: options.correlationId ?? parent.correlationId ?? parent.messageId,
    causationId: options.causationId ?? parent.messageId,
  };
}
