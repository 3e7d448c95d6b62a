// docs/reliability.md, written by `pnpm test:faults` (like docs/benchmarks.md by `pnpm bench`): the
// figures of every scenario of the run, the machine it ran on, and the method.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { DeliveryCounts } from './fault-analysis.js';
import { REPO_ROOT } from './fault-harness.js';

/** A time-to-resume figure of a scenario. */
export interface ResumeFigure {
  readonly what: string;
  readonly ms: number | undefined;
  /** The bound the scenario asserts, ms. */
  readonly limitMs: number;
}

/** What one scenario measured. */
export interface ScenarioResult {
  readonly title: string;
  readonly fault: string;
  readonly counts: DeliveryCounts;
  readonly resume: readonly ResumeFigure[];
  /** Bound asserted on the duplicates, and why. */
  readonly duplicateLimit: { readonly max: number; readonly why: string };
  readonly notes: readonly string[];
  readonly durationMs: number;
  readonly budgetMs: number;
  readonly passed: boolean;
}

const seconds = (ms: number | undefined): string =>
  ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`;

function row(r: ScenarioResult): string {
  const c = r.counts;
  const resume = r.resume
    .map((f) => `${f.what}: **${seconds(f.ms)}** (≤ ${seconds(f.limitMs)})`)
    .join('<br>');
  return `| ${[
    r.title,
    c.acked.toLocaleString('en-US'),
    `**${c.lost}**`,
    `${c.duplicates.toLocaleString('en-US')} (≤ ${r.duplicateLimit.max.toLocaleString('en-US')})`,
    `**${c.orderViolations}**`,
    resume || '—',
    `${seconds(r.durationMs)} / ${seconds(r.budgetMs)}`,
    r.passed ? 'passed' : '**FAILED**',
  ].join(' | ')} |`;
}

function details(r: ScenarioResult): string {
  const c = r.counts;
  const failures = Object.entries(c.sendFailures)
    .map(([code, count]) => `${count} × \`${code}\``)
    .join(', ');
  const lines = [
    `### ${r.title}`,
    '',
    `Fault: ${r.fault}`,
    '',
    `- Sends acknowledged: ${c.acked.toLocaleString('en-US')}; failed: ${failures || 'none'}` +
      (failures ? ` (${c.failedButDelivered} of them were written anyway and delivered)` : ''),
    `- Distinct messages handled: ${c.handled.toLocaleString('en-US')}; lost: ${c.lost}` +
      (c.lost > 0 ? ` (e.g. ${c.lostSample.join(', ')})` : ''),
    `- Duplicates: ${c.duplicates.toLocaleString('en-US')}, bound ${r.duplicateLimit.max.toLocaleString('en-US')}: ${r.duplicateLimit.why}`,
    `- Order violations: ${c.orderViolations}` +
      (c.orderViolations > 0 ? ` (${c.orderViolationSample.join('; ')})` : ''),
  ];
  if (c.poisonAcked > 0)
    lines.push(
      `- Poison messages acknowledged: ${c.poisonAcked}; on the dead-letter topic: ${c.poisonDeadLettered}`,
    );
  for (const f of r.resume) lines.push(`- ${f.what}: ${seconds(f.ms)} (asserted ≤ ${seconds(f.limitMs)})`);
  for (const n of r.notes) lines.push(`- ${n}`);
  return lines.join('\n');
}

/** Writes docs/reliability.md. */
export function writeReliabilityReport(
  results: readonly ScenarioResult[],
  run: { startedAt: Date; loadBefore: number[]; kafkaVersion: string; messages: number; method: string },
): string {
  const file = join(REPO_ROOT, 'docs', 'reliability.md');
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const text = `# Reliability: fault-injection figures

_Written by \`pnpm test:faults\` (packages/kafka/faults) on ${run.startedAt.toISOString()}; do not edit by
hand — run the suite again._

Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB,
Node ${process.version}, Kafka ${run.kafkaVersion} (single-node KRaft broker, scripts/kafka-broker.mjs).
Load average (1/5/15 min) before the run ${load(run.loadBefore)}, after ${load(os.loadavg())}. **The
machine is shared**: other work runs on the same cores, so times to resume and durations are noisier
(and longer) than on a quiet machine; the counts (lost, duplicates, order) do not depend on it.

| Scenario | Acked sends | Lost | Duplicates (bound) | Order violations | Time to resume (asserted bound) | Duration / budget | Result |
| --- | --- | --- | --- | --- | --- | --- | --- |
${results.map(row).join('\n')}

${results.map(details).join('\n\n')}

${run.method}
`;
  writeFileSync(file, text);
  return file;
}
