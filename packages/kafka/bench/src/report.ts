/** The results table (terminal and Markdown). */
import type { Spread } from './stats.js';

/** One row of the results table. */
export interface ResultRow {
  readonly scenario: string;
  readonly unit: 'msgs/s' | 'ms';
  readonly raw: Spread;
  /** The second anchor (raw @platformatic/kafka), when the row has one. */
  readonly raw2?: Spread;
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

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;

function cells(row: ResultRow, header: readonly string[]): string[] {
  const out = [row.scenario, row.unit, cell(row.raw, row.unit)];
  if (header === HEADER) out.push(row.raw2 ? cell(row.raw2, row.unit) : '—');
  out.push(cell(row.gomes, row.unit), percent(ratio(row)));
  if (header === HEADER) out.push(row.raw2 ? percent(row.gomes.median / row.raw2.median) : '—');
  out.push(row.target ?? '—', row.met === undefined ? 'info' : row.met ? 'met' : 'NOT met');
  return out;
}

const HEADER: readonly string[] = [
  'Scenario',
  'Unit',
  'raw kafkajs median (min–max)',
  'raw platformatic median (min–max)',
  'gomes median (min–max)',
  'gomes / raw kafkajs',
  'gomes / raw platformatic',
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
  const lines = [header, header.map(() => '---'), ...rows.map((r) => cells(r, header))];
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** A fixed-width text table of `rows`. */
export function textTable(rows: readonly ResultRow[], header: readonly string[] = HEADER): string {
  const all = [header, ...rows.map((r) => cells(r, header))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(cells(r, header))),
  ].join('\n');
}
