/** The results table (terminal and Markdown). */
import type { Spread } from './stats.js';

/** One row of the results table. */
export interface ResultRow {
  readonly scenario: string;
  readonly unit: 'msgs/s' | 'ms';
  readonly raw: Spread;
  readonly gomes: Spread;
  /** Human-readable target, or undefined for an informational row. */
  readonly target: string | undefined;
  /** Whether the target is met (undefined for informational rows). */
  readonly met: boolean | undefined;
}

function fmt(value: number, unit: ResultRow['unit']): string {
  return unit === 'ms' ? value.toFixed(2) : Math.round(value).toLocaleString('en-US');
}

function cell(s: Spread, unit: ResultRow['unit']): string {
  return `${fmt(s.median, unit)} (${fmt(s.min, unit)}–${fmt(s.max, unit)})`;
}

/** gomes median / raw median. */
export function ratio(row: Pick<ResultRow, 'raw' | 'gomes'>): number {
  return row.gomes.median / row.raw.median;
}

function cells(row: ResultRow): string[] {
  return [
    row.scenario,
    row.unit,
    cell(row.raw, row.unit),
    cell(row.gomes, row.unit),
    `${(ratio(row) * 100).toFixed(1)}%`,
    row.target ?? '—',
    row.met === undefined ? 'info' : row.met ? 'met' : 'NOT met',
  ];
}

const HEADER = [
  'Scenario',
  'Unit',
  'raw kafkajs median (min–max) ([platformatic] latency rows: raw platformatic)',
  'gomes median (min–max)',
  'gomes / raw',
  'Target',
  'Result',
];

/** Header of the Avro vs JSON table (its rows carry JSON as `raw`, Avro as `gomes`). */
export const AVRO_VS_JSON_HEADER: readonly string[] = [
  'Scenario',
  'Unit',
  'gomes JSON median (min–max)',
  'gomes Avro median (min–max)',
  'Avro / JSON',
  'Target',
  'Result',
];

/** A Markdown table of `rows`. */
export function markdownTable(rows: readonly ResultRow[], header: readonly string[] = HEADER): string {
  const lines = [header, header.map(() => '---'), ...rows.map(cells)];
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** A fixed-width text table of `rows`. */
export function textTable(rows: readonly ResultRow[], header: readonly string[] = HEADER): string {
  const all = [header, ...rows.map(cells)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join(
    '\n',
  );
}

/** One publish scenario: gomes against raw kafkajs sending identical records, and against key + value. */
export interface PublishRow {
  readonly scenario: string;
  readonly gomes: Spread;
  /** Raw kafkajs sending the records gomes sends (same keys and headers). */
  readonly identical: Spread;
  /** Raw kafkajs sending key + value only. */
  readonly keyValue: Spread;
  /** This process' CPU time per message (µs), gomes and raw-identical. */
  readonly cpu: { readonly gomes: Spread; readonly identical: Spread };
  /** gomes / identical of each run (both measured in the same interleaved slices). */
  readonly runRatios: readonly number[];
  /** Least median of `runRatios`, or undefined for an informational row. */
  readonly target: number | undefined;
  /** gomes / raw kafkajs key + value of each run (measured in the same interleaved slices). */
  readonly keyValueRunRatios: readonly number[];
  /** Least median of `keyValueRunRatios` (issue 10: 1.5 on the platformatic driver), or undefined. */
  readonly keyValueTarget?: number | undefined;
}

/** The median of a row's per-run gomes / identical ratios: what its target is checked on. */
export function pairedRatio(row: PublishRow): number {
  return medianOf(row.runRatios);
}

/** The median of a row's per-run gomes / raw kafkajs key + value ratios. */
export function pairedKeyValueRatio(row: PublishRow): number {
  return medianOf(row.keyValueRunRatios);
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const PUBLISH_HEADER = [
  'Scenario',
  'raw client (kafkajs; [platformatic] rows: @platformatic/kafka), identical records',
  'gomes',
  'gomes / identical: median of the runs (each run)',
  'Target',
  'Result',
  'raw kafkajs, key + value',
  'gomes / key + value: median of the runs (target, result)',
  'CPU µs/msg: gomes vs identical',
];

function publishCells(row: PublishRow): string[] {
  const unit = 'msgs/s';
  const ofIdentical = pairedRatio(row);
  return [
    row.scenario,
    cell(row.identical, unit),
    cell(row.gomes, unit),
    `${(ofIdentical * 100).toFixed(1)}% (${row.runRatios.map((r) => `${Math.round(r * 100)}`).join(', ')})`,
    row.target === undefined ? '—' : `≥ ${Math.round(row.target * 100)}% of identical`,
    row.target === undefined ? 'info' : ofIdentical >= row.target ? 'met' : 'NOT met',
    cell(row.keyValue, unit),
    keyValueCell(row),
    `${row.cpu.gomes.median.toFixed(1)} vs ${row.cpu.identical.median.toFixed(1)}`,
  ];
}

function keyValueCell(row: PublishRow): string {
  const ofKeyValue = pairedKeyValueRatio(row);
  const percent = `${(ofKeyValue * 100).toFixed(1)}%`;
  if (row.keyValueTarget === undefined) return percent;
  const verdict = ofKeyValue >= row.keyValueTarget ? 'met' : 'NOT met';
  return `${percent} (≥ ${Math.round(row.keyValueTarget * 100)}%: ${verdict})`;
}

/** A Markdown table of publish rows. */
export function publishMarkdownTable(rows: readonly PublishRow[]): string {
  const lines = [PUBLISH_HEADER, PUBLISH_HEADER.map(() => '---'), ...rows.map(publishCells)];
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** A fixed-width text table of publish rows. */
export function publishTextTable(rows: readonly PublishRow[]): string {
  const all = [PUBLISH_HEADER, ...rows.map(publishCells)];
  const widths = PUBLISH_HEADER.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [
    line(PUBLISH_HEADER),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice().map((r) => line(publishCells(r))),
  ].join('\n');
}
