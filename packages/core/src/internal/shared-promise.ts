/**
 * Runs `fn` once; later and concurrent calls get the very same promise (for idempotent close/stop).
 *
 * @internal
 */
export function sharedPromise<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  // Not `async`: wrapping would hand every caller a new promise.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  return () => (promise ??= fn());
}
