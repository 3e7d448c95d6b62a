/**
 * In-process buses against @nestjs/cqrs, in one process and one run (`pnpm bench:inprocess`, also
 * run by `pnpm bench`): command send, query send, event publish to 2 handlers. After a warm-up, each
 * scenario runs `BENCH_REPS` times; in a run each side makes `BENCH_INPROCESS_OPS` awaited calls, in
 * `SLICES` interleaved slices (gomes, anchor, anchor, gomes, …), so a load change on a shared machine
 * hits both sides alike. ops/s of a side = its calls / the time its slices took. The ratio is
 * gomes' median / the anchor's median. Prints the machine load before and after, the table, and
 * writes `.bench/inprocess.json` (read by the Kafka benchmark's report).
 *
 * Knobs (environment): BENCH_REPS (5), BENCH_INPROCESS_OPS (200000 awaited calls per side and run),
 * BENCH_INPROCESS_WARMUP (20000), BENCH_ONLY_INPROCESS (command,query,event).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGomes, type HandlerRuns } from './gomes-side.js';
import type { InProcessResults, InProcessRow } from './inprocess-results.js';
import { startNest } from './nest-side.js';
import { scenarios } from './scenarios.js';
import { spread } from '../stats.js';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
};

const REPS = env('BENCH_REPS', 5);
const OPS = env('BENCH_INPROCESS_OPS', 200_000);
const WARMUP = env('BENCH_INPROCESS_WARMUP', 20_000);
const ONLY = new Set((process.env['BENCH_ONLY_INPROCESS'] ?? 'command,query,event').split(','));
/** Slices per run and side (see the header). */
const SLICES = 10;
/** Done-when of issue 8: gomes at least half the anchor's throughput. */
const TARGET = 0.5;

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmtOps = (v: number): string => `${Math.round(v).toLocaleString('en-US')} ops/s`;
const fmtLoad = (load: readonly number[]): string => load.map((l) => l.toFixed(2)).join(' / ');

/** The installed version of a package (its package.json may not be exported: walk up from its entry). */
function version(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === name) return pkg.version;
    } catch {
      // no package.json here
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const t0 = Date.now();
  const cpus = os.cpus();
  log(
    `gomes in-process benchmark: ${REPS} runs of ${OPS} awaited calls per side after ${WARMUP} warm-up calls`,
  );
  log(`load average (1/5/15 min) before: ${fmtLoad(loadBefore)} on ${cpus.length} cores`);
  const runs: HandlerRuns = { events: 0 };
  const gomes = await startGomes(runs);
  const nest = await startNest();
  const rows: InProcessRow[] = [];
  try {
    for (const s of scenarios(gomes, runs, nest).filter((x) => ONLY.has(x.id))) {
      await s.anchor(WARMUP);
      await s.gomes(WARMUP);
      const g: number[] = [];
      const a: number[] = [];
      for (let rep = 1; rep <= REPS; rep++) {
        const slice = Math.max(1, Math.floor(OPS / SLICES));
        let gomesSeconds = 0;
        let anchorSeconds = 0;
        for (let i = 0; i < SLICES; i++) {
          // ABBA: who goes first flips every slice.
          if (i % 2 === 0) {
            gomesSeconds += await s.gomes(slice);
            anchorSeconds += await s.anchor(slice);
          } else {
            anchorSeconds += await s.anchor(slice);
            gomesSeconds += await s.gomes(slice);
          }
        }
        g.push((slice * SLICES) / gomesSeconds);
        a.push((slice * SLICES) / anchorSeconds);
        log(
          `${s.id} run ${rep}: gomes ${fmtOps(g.at(-1)!)}, anchor ${fmtOps(a.at(-1)!)}, ` +
            `${(g.at(-1)! / a.at(-1)!).toFixed(2)}x`,
        );
      }
      const ratio = spread(g).median / spread(a).median;
      rows.push({
        id: s.id,
        title: s.title,
        anchorName: s.anchorName,
        gomes: spread(g),
        anchor: spread(a),
        ratio,
        runRatios: g.map((v, i) => v / a[i]!),
        target: s.id === 'event' ? `≥ ${TARGET}x` : `≥ ${TARGET}x (stretch ≥ 1x)`,
        met: ratio >= TARGET,
      });
    }
  } finally {
    await gomes.shutdown();
    await nest.app.close();
  }
  const loadAfter = os.loadavg();
  const results: InProcessResults = {
    date: new Date(t0).toISOString(),
    node: process.version,
    machine: `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${os.type()} ${os.release()}`,
    loadBefore,
    loadAfter,
    opsPerRun: OPS,
    slicesPerRun: SLICES,
    warmupOps: WARMUP,
    reps: REPS,
    seconds: (Date.now() - t0) / 1000,
    anchors: Object.fromEntries(
      ['@nestjs/cqrs', '@nestjs/core', 'rxjs', 'reflect-metadata'].map((n) => [n, version(n)]),
    ),
    rows,
  };
  log('');
  for (const r of rows) {
    log(
      `${r.title}: gomes ${fmtOps(r.gomes.median)} (${fmtOps(r.gomes.min)}–${fmtOps(r.gomes.max)}), ` +
        `${r.anchorName} ${fmtOps(r.anchor.median)} (${fmtOps(r.anchor.min)}–${fmtOps(r.anchor.max)}): ` +
        `${r.ratio.toFixed(2)}x, target ${r.target}: ${r.met ? 'met' : 'NOT met'}`,
    );
  }
  log(`load average (1/5/15 min) after: ${fmtLoad(loadAfter)}; ${results.seconds.toFixed(0)} s`);
  const dir = fileURLToPath(new URL('../../../../.bench/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}inprocess.json`, `${JSON.stringify(results, null, 2)}\n`);
  log(`written to ${dir}inprocess.json`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  process.stderr.write(
    `in-process benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
