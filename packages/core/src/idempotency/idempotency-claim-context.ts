import { AsyncLocalStorage } from 'node:async_hooks';
import type { IdempotencyStore } from './idempotency-store.js';

/**
 * The claim an idempotent consumer holds while it runs the rest of the pipeline for a message:
 * what a store needs to mark the key done inside the handler's own database transaction
 * (`PostgresIdempotencyStore.transaction()`).
 *
 * @public
 */
export interface ActiveIdempotencyClaim {
  /** The store holding the claim. */
  readonly store: IdempotencyStore;
  /** The stored key (scope and message key). */
  readonly key: string;
  /** The lease token. */
  readonly token: string;
  /** Time to live of the done marker, in ms. */
  readonly ttlMs: number;
}

const claims = new AsyncLocalStorage<ActiveIdempotencyClaim>();

/**
 * The claim of the idempotent consumer processing the current message, or `undefined` outside one
 * (read from the async context, so it is seen by the handler and everything it awaits).
 *
 * @public
 */
export function currentIdempotencyClaim(): ActiveIdempotencyClaim | undefined {
  return claims.getStore();
}

/** Runs `work` with `claim` as the current claim. @internal */
export async function runWithIdempotencyClaim<R>(
  claim: ActiveIdempotencyClaim,
  work: () => Promise<R>,
): Promise<R> {
  return claims.run(claim, work);
}
