/**
 * The in-process part of docs/benchmarks.md: read from `.bench/inprocess.json`, which
 * `pnpm bench:inprocess` (packages/bench, run first by `pnpm bench`) writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InProcessResults } from '../../../bench/dist/inprocess/inprocess-results.js';
import type { Spread } from './stats.js';

/**
 * `.bench/inprocess.json`: what packages/bench writes (its type, one copy for both benchmarks; the
 * path names the built module, which tsc resolves through the project reference, as ./stats.ts).
 */
export type InProcessRun = InProcessResults;

const FILE = fileURLToPath(new URL('../../../../.bench/inprocess.json', import.meta.url));

/** The in-process results, or undefined when `pnpm bench:inprocess` has not run. */
export function readInProcessRun(): InProcessRun | undefined {
  if (!existsSync(FILE)) return undefined;
  const run = JSON.parse(readFileSync(FILE, 'utf8')) as InProcessRun;
  if (!Array.isArray(run.rows) || typeof run.anchors !== 'object')
    throw new Error(`${FILE} is not an in-process benchmark result`);
  return run;
}

const ops = (v: number): string => Math.round(v).toLocaleString('en-US');
const spreadCell = (s: Spread): string => `${ops(s.median)} (${ops(s.min)}–${ops(s.max)})`;
const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

/** The in-process section of the report (Markdown). */
export function inProcessMarkdown(run: InProcessRun | undefined): string {
  if (!run)
    return '## In process: gomes buses vs @nestjs/cqrs\n\nNot measured in this run (`pnpm bench` runs it first).\n';
  const header = [
    'Scenario',
    'Anchor',
    'anchor ops/s median (min–max)',
    'gomes ops/s median (min–max)',
    'gomes / anchor',
    'per-run ratios',
    'Target',
    'Result',
  ];
  const rows = run.rows.map((r) => [
    r.title,
    r.anchorName,
    spreadCell(r.anchor),
    spreadCell(r.gomes),
    `${r.ratio.toFixed(2)}x`,
    r.runRatios.map((x) => x.toFixed(2)).join(', '),
    r.target,
    r.met ? 'met' : 'NOT met',
  ]);
  const table = [header, header.map(() => '---'), ...rows].map((l) => `| ${l.join(' | ')} |`).join('\n');
  const anchors = Object.entries(run.anchors)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return `## In process: gomes buses vs @nestjs/cqrs

Measured by \`pnpm bench:inprocess\` (packages/bench) on ${run.date}, Node ${run.node}; anchors: ${anchors}.
Load average (1/5/15 min) before ${load(run.loadBefore)}, after ${load(run.loadAfter)}; ${run.seconds.toFixed(0)} s.

${table}

- Both sides in one process: a started \`createGomes()\` instance with its defaults (validation on, tracing off, no
  logger) and a Nest application context (\`NestFactory.createApplicationContext\`, \`CqrsModule.forRoot()\`). Same
  command, query and event shapes (constructor fields, no class-validator constraints) and the same handler bodies
  (\`async\`, the command and query handlers return the order id, each event handler counts its run).
- A call is awaited before the next starts: command \`await gomes.commandBus().send(cmd)\` vs
  \`await commandBus.execute(cmd)\`; query likewise; event \`await gomes.eventBus().publish(evt)\` (resolves when both
  handlers finished) vs \`eventBus.publish(evt)\` plus a promise resolved when both Nest handlers ran (Nest's
  \`publish\` only hands the event to its RxJS subject). The handlers' work is checked after every run.
- ${run.warmupOps} warm-up calls per side, then ${run.reps} runs of ${run.opsPerRun} calls per side; each run interleaves the
  two sides in ${run.slicesPerRun} slices (gomes, anchor, anchor, gomes, …), each side's ops/s = its calls / the time of
  its own slices. No forced garbage collection between runs: after a \`gc()\` the next slice (always the same side's)
  ran about ten times slower while the collector's work was finished lazily, which measured the forced collection, not
  either side. "gomes / anchor" is the ratio of the medians; the per-run ratios show the spread.
`;
}
