import { GomesError } from '../errors/gomes-error.js';

/**
 * Waits `ms`, or rejects with `GOMES_ABORTED` as soon as `signal` aborts.
 *
 * @internal
 */
export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw abortError(signal);
  if (ms <= 0) return;
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error to reject with when `signal` aborted: its reason if it is a GomesError. @internal */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof GomesError) return reason;
  return new GomesError('ABORTED', 'The operation was aborted', { cause: reason });
}
