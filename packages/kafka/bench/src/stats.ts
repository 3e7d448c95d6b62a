/**
 * Summary statistics used by the benchmark report: packages/bench's (one copy for both benchmarks),
 * re-exported so this benchmark's modules keep importing `./stats.js`. The path names the built
 * module (packages/bench/dist), which tsc resolves through the project reference.
 */
export { elapsedMs, percentile, spread, type Spread } from '../../../bench/dist/stats.js';

/** A positive integer knob from the environment (`fallback` when unset or empty). */
export function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}
