import { resolveOptions } from '../internal/resolve-options.js';

/**
 * Thresholds of `gomes.health()` (`createGomes({ health })`). Durations are milliseconds. See
 * docs/observability.md, "Health".
 *
 * @example
 * ```ts
 * const gomes = createGomes({ health: { stallTimeoutMs: 60_000, livenessStallTimeoutMs: 300_000 } });
 * ```
 * @public
 */
export interface HealthOptions {
  /**
   * A partition with lag whose acked position has not moved (and that has not caught up) for longer
   * than this is **stalled**: the instance is not ready. Keep it above the longest time one message
   * may legitimately take (handler, retries, nack delay).
   * @default 120000 (above the default 100 s processing timeout)
   */
  stallTimeoutMs?: number;
  /**
   * A partition stalled for longer than this makes the instance **not live**, so an orchestrator
   * restarts it. At least `stallTimeoutMs`.
   * @default 600000
   */
  livenessStallTimeoutMs?: number;
  /** A consumer rebalancing (joining its group) for longer than this makes the instance not ready. @default 60000 */
  rebalanceGraceMs?: number;
}

/** Resolved {@link HealthOptions}: every threshold set. @public */
export type ResolvedHealthOptions = Readonly<Required<HealthOptions>>;

/** Defaults of {@link HealthOptions}. @public */
export const DEFAULT_HEALTH_OPTIONS: ResolvedHealthOptions = Object.freeze({
  stallTimeoutMs: 120_000,
  livenessStallTimeoutMs: 600_000,
  rebalanceGraceMs: 60_000,
});

/**
 * Merges the defaults into `input` and lists every problem (unknown keys, thresholds that are not
 * positive integers, `livenessStallTimeoutMs` below `stallTimeoutMs`), each prefixed `health.`.
 *
 * @public
 */
export function resolveHealthOptions(input: HealthOptions | undefined = {}): {
  options: ResolvedHealthOptions;
  problems: string[];
} {
  if (typeof input !== 'object' || input === null) {
    return { options: DEFAULT_HEALTH_OPTIONS, problems: [`health must be an object (got ${String(input)})`] };
  }
  const { options, problems } = resolveOptions<Required<HealthOptions>>(
    DEFAULT_HEALTH_OPTIONS,
    input,
    healthProblems,
    (key) => `health: unknown option "${key}"`,
  );
  return { options: Object.freeze(options), problems };
}

function healthProblems(options: Required<HealthOptions>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(DEFAULT_HEALTH_OPTIONS) as (keyof HealthOptions)[]) {
    const v = options[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      problems.push(`health.${key} must be a positive integer (ms), got ${String(v)}`);
    }
  }
  if (options.livenessStallTimeoutMs < options.stallTimeoutMs) {
    problems.push(
      `health.livenessStallTimeoutMs (${options.livenessStallTimeoutMs}) must be >= health.stallTimeoutMs (${options.stallTimeoutMs})`,
    );
  }
  return problems;
}
