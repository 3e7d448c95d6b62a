/**
 * Summary statistics used by the benchmark report: packages/bench's (one copy for both benchmarks),
 * re-exported so this benchmark's modules keep importing `./stats.js`. The path names the built
 * module (packages/bench/dist), which tsc resolves through the project reference.
 */
export { elapsedMs, percentile, spread, type Spread } from '../../../bench/dist/stats.js';
