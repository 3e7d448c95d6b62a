/**
 * Runs `fn` once; later and concurrent calls get the same promise (for idempotent close/stop).
 *
 * @internal
 */
export function sharedPromise<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}
