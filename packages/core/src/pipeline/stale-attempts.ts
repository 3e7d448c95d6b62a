import type { ProcessingState } from './processing-context.js';

/** Where the unsettled timed-out attempts of one delivery are kept (on its `ProcessingState`). */
const STALE: unique symbol = Symbol('gomes.staleAttempts');

/** Set on the state once an abandoned attempt's handler finished without throwing. */
const STALE_SUCCEEDED: unique symbol = Symbol('gomes.staleAttemptSucceeded');

interface WithStale {
  [STALE]?: Set<Promise<void>>;
  [STALE_SUCCEEDED]?: true;
}

/**
 * Records on `state` an attempt that was abandoned (timed out, or its parent aborted) while its
 * handler still runs; `settled` resolves (never rejects) once that handler really finished.
 *
 * @internal
 */
export function addStaleAttempt(state: ProcessingState, settled: Promise<void>): void {
  const slots = state as ProcessingState & WithStale;
  let set = slots[STALE];
  if (set === undefined) {
    set = new Set();
    // Not enumerable: a copy or a log of the state does not carry it.
    Object.defineProperty(slots, STALE, { value: set, enumerable: false });
  }
  const attempts = set;
  attempts.add(settled);
  void settled.then(() => attempts.delete(settled));
}

/**
 * Resolves once every abandoned attempt recorded on `state` has settled; `undefined` when none is
 * running.
 *
 * @internal
 */
export function staleAttemptsSettled(state: ProcessingState): Promise<void> | undefined {
  const set = (state as ProcessingState & WithStale)[STALE];
  if (set === undefined || set.size === 0) return undefined;
  return Promise.all([...set]).then(() => undefined);
}

/**
 * Records that an abandoned attempt of `state` finished without throwing (its handler's effects
 * happened although the attempt was given up).
 *
 * @internal
 */
export function markStaleAttemptSucceeded(state: ProcessingState): void {
  const slots = state as ProcessingState & WithStale;
  if (slots[STALE_SUCCEEDED]) return;
  Object.defineProperty(slots, STALE_SUCCEEDED, { value: true, enumerable: false });
}

/**
 * Whether an abandoned (timed-out or aborted) attempt of `state` finished without throwing.
 *
 * @internal
 */
export function staleAttemptSucceeded(state: ProcessingState): boolean {
  return (state as ProcessingState & WithStale)[STALE_SUCCEEDED] === true;
}
