/**
 * How a failed message is retried inside its consumer, before dead-lettering.
 *
 * Delay before retry *n* (n = 1, 2, …) is `min(maxDelayMs, initialDelayMs * multiplier^(n-1))`,
 * then spread by ±`jitter` (a fraction). When `delaysMs` is set, it replaces that formula with fixed
 * delays, one per retry (Go gomes' `WithRetryTimes`).
 *
 * @public
 */
export interface RetryOptions {
  /** Total executions including the first. 1 = no retry. @default 3 */
  maxAttempts: number;
  /** Delay before the first retry, in ms. @default 100 */
  initialDelayMs: number;
  /** Upper bound of any delay, in ms. @default 30000 */
  maxDelayMs: number;
  /** Growth factor between delays. @default 2 */
  multiplier: number;
  /** Random spread as a fraction of the delay, 0..1. @default 0.2 */
  jitter: number;
  /** Fixed delays, one per retry; when set, `maxAttempts` is `delaysMs.length + 1`. */
  delaysMs?: readonly number[];
}

/** Defaults of {@link RetryOptions}. @public */
export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
});

/** Merges defaults and lists every problem (empty when valid). @public */
export function resolveRetryOptions(input: Partial<RetryOptions> = {}): {
  options: RetryOptions;
  problems: string[];
} {
  const options: RetryOptions = { ...DEFAULT_RETRY_OPTIONS, ...input };
  if (options.delaysMs) options.maxAttempts = options.delaysMs.length + 1;
  const problems: string[] = [];
  const int = (name: keyof RetryOptions, min: number): void => {
    const v = options[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      problems.push(`retry.${name} must be an integer >= ${min} (got ${String(v)})`);
  };
  int('maxAttempts', 1);
  int('initialDelayMs', 0);
  int('maxDelayMs', 0);
  if (!(options.multiplier >= 1)) problems.push(`retry.multiplier must be >= 1 (got ${options.multiplier})`);
  if (!(options.jitter >= 0 && options.jitter <= 1))
    problems.push(`retry.jitter must be between 0 and 1 (got ${options.jitter})`);
  if (options.maxDelayMs < options.initialDelayMs)
    problems.push('retry.maxDelayMs must be >= retry.initialDelayMs');
  for (const d of options.delaysMs ?? []) {
    if (!Number.isInteger(d) || d < 0)
      problems.push(`retry.delaysMs entries must be integers >= 0 (got ${d})`);
  }
  return { options, problems };
}

/**
 * The delay before retry number `retry` (1-based). `random` is injectable for tests.
 *
 * @public
 */
export function retryDelayMs(
  options: RetryOptions,
  retry: number,
  random: () => number = Math.random,
): number {
  const fixed = options.delaysMs?.[retry - 1];
  if (fixed !== undefined) return fixed;
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.multiplier ** (retry - 1));
  const spread = base * options.jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(options.maxDelayMs, Math.round(base + spread)));
}
