/**
 * What `pnpm bench:inprocess` measured, as written to `.bench/inprocess.json` for the report that
 * `pnpm bench` writes to docs/benchmarks.md.
 */
import type { Spread } from '../stats.js';

/** One scenario: gomes against its anchor, both measured in the same process and run. */
export interface InProcessRow {
  readonly id: string;
  readonly title: string;
  readonly anchorName: string;
  /** ops/s of gomes over the runs. */
  readonly gomes: Spread;
  /** ops/s of the anchor over the runs. */
  readonly anchor: Spread;
  /** gomes median / anchor median. */
  readonly ratio: number;
  /** Each run's gomes / anchor (the two sides of one run ran back to back). */
  readonly runRatios: readonly number[];
  readonly target: string;
  readonly met: boolean;
}

/** The whole in-process run. */
export interface InProcessResults {
  readonly date: string;
  readonly node: string;
  readonly machine: string;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  /** Awaited calls per side and run. */
  readonly opsPerRun: number;
  /** Interleaved slices a run is made of (per side). */
  readonly slicesPerRun: number;
  readonly warmupOps: number;
  readonly reps: number;
  readonly seconds: number;
  /** Anchor package versions, e.g. `@nestjs/cqrs` → `12.0.0`. */
  readonly anchors: Readonly<Record<string, string>>;
  readonly rows: readonly InProcessRow[];
}
