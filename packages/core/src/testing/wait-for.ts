import { GomesError, toError } from '../errors/gomes-error.js';

/** Options of {@link waitFor} and {@link holdsFor}. @public */
export interface WaitForOptions {
  /** How often the predicate is checked, in ms. @default 5 */
  intervalMs?: number;
  /** Describes the condition in the timeout error. */
  description?: string;
}

/**
 * Polls `predicate` until it returns (or resolves to) a truthy value and returns that value. Use it
 * instead of fixed sleeps in tests of asynchronous code.
 *
 * @throws Error when `timeoutMs` passes first (the message names `description`), or the
 * predicate's own error if it throws on the last check.
 * @example
 * ```ts
 * await waitFor(() => received.length === 3, 5000);
 * ```
 * @public
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 5000,
  options: WaitForOptions = {},
): Promise<T> {
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      if (lastError !== undefined) throw toError(lastError);
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms${options.description ? `: ${options.description}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Checks that `predicate` stays truthy for `durationMs` (a negative assertion such as "no second
 * delivery arrives"). It necessarily waits the whole duration; keep it short.
 *
 * @throws Error as soon as the predicate is falsy (or throws).
 * @public
 */
export async function holdsFor(
  predicate: () => unknown,
  durationMs: number,
  options: WaitForOptions = {},
): Promise<void> {
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + durationMs;
  for (;;) {
    if (!(await predicate())) {
      throw new Error(`Condition stopped holding${options.description ? `: ${options.description}` : ''}`);
    }
    if (Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Resolves like `promise`, or rejects with a `GOMES_ABORTED` GomesError when it does not settle
 * within `timeoutMs`.
 *
 * @public
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  description = 'operation',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new GomesError('ABORTED', `${description} did not finish within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
