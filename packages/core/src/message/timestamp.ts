import { GomesError } from '../errors/gomes-error.js';

const GO_GOMES_FORMAT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Formats a time as the `timestamp` header value: ISO-8601 in UTC with milliseconds. @public */
export function formatTimestamp(date: Date): string {
  return date.toISOString();
}

/** Formatters of {@link formatGoGomesTimestamp} by time zone (`''` = the process's local zone). */
const goFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Formats a time as Go gomes writes its `timestamp` header: `YYYY-MM-DD HH:mm:ss` (Go layout
 * `2006-01-02 15:04:05`), the wall clock in `timeZone` without zone or milliseconds. Go gomes
 * writes its process's local time, the default here too; readers (Go's `time.Parse`, and
 * {@link parseTimestamp}) take the value as UTC, so `'UTC'` gives them the right instant whatever
 * the host's zone.
 *
 * @param timeZone IANA time zone (`'UTC'`, `'America/Sao_Paulo'`); default: the process's local zone (`TZ`).
 * @throws RangeError for an unknown time zone.
 * @example
 * ```ts
 * formatGoGomesTimestamp(new Date('2026-01-05T10:00:00.250Z'), 'UTC'); // '2026-01-05 10:00:00'
 * ```
 * @public
 */
export function formatGoGomesTimestamp(date: Date, timeZone?: string): string {
  const zone = timeZone ?? '';
  let formatter = goFormatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    goFormatters.set(zone, formatter);
  }
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of formatter.formatToParts(date)) part[p.type] = p.value;
  return `${part.year!.padStart(4, '0')}-${part.month!}-${part.day!} ${part.hour!}:${part.minute!}:${part.second!}`;
}

/**
 * The millisecond {@link timestampText} formatted last, and its text. A pure memo of a
 * deterministic function (`Date.prototype.toISOString` costs about a microsecond, and messages
 * made in a burst share their millisecond); nothing reads it except to skip that same work.
 */
let lastMs = Number.NaN;
let lastText = '';

/**
 * `formatTimestamp(new Date(ms))`, remembering the latest result.
 *
 * @internal
 */
export function timestampText(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}

/**
 * Parses a `timestamp` header. Accepts ISO-8601 (what gomes writes) and Go gomes'
 * `YYYY-MM-DD HH:mm:ss`, which carries no zone and is read as UTC.
 *
 * @throws GomesError `GOMES_INVALID_HEADER` when the value is neither.
 * @public
 */
export function parseTimestamp(value: string): Date {
  const go = GO_GOMES_FORMAT.exec(value);
  const date = go
    ? new Date(Date.UTC(+go[1]!, +go[2]! - 1, +go[3]!, +go[4]!, +go[5]!, +go[6]!))
    : /^\d{4}-\d{2}-\d{2}T/.test(value)
      ? new Date(value)
      : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new GomesError(
      'INVALID_HEADER',
      `Invalid timestamp header "${value}": expected ISO-8601 or "YYYY-MM-DD HH:mm:ss"`,
    );
  }
  return date;
}

/**
 * The latest value {@link normalizeTimestamp} computed (records of one batch often share it).
 * Kept on purpose: it is a pure memo of a deterministic function (same input, same output; only
 * successful results are stored, so an invalid value throws every time), and it is never read
 * except to skip recomputing that same result — no caller can observe it.
 */
let lastRaw: string | undefined;
let lastNormalized = '';

/**
 * `formatTimestamp(parseTimestamp(value))`, remembering the latest result: consecutive messages
 * often carry the same timestamp.
 *
 * @throws GomesError `GOMES_INVALID_HEADER` when the value cannot be parsed.
 * @internal
 */
export function normalizeTimestamp(value: string): string {
  if (value === lastRaw) return lastNormalized;
  if (isCanonical(value)) return value;
  const normalized = formatTimestamp(parseTimestamp(value));
  lastRaw = value;
  lastNormalized = normalized;
  return normalized;
}

const CANONICAL_FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Whether `value` is already what {@link formatTimestamp} would write for it (what gomes writes),
 * without making a `Date` and its text: the canonical shape, a day of month up to 28 and an hour
 * up to 23 (the values `Date.parse` would roll over into the next day or month otherwise), and a
 * month, minute and second `Date.parse` accepts. Anything else takes the full parse and format.
 */
function isCanonical(value: string): boolean {
  if (value.length !== 24 || !CANONICAL_FORMAT.test(value)) return false;
  const day = (value.charCodeAt(8) - 48) * 10 + (value.charCodeAt(9) - 48);
  const hour = (value.charCodeAt(11) - 48) * 10 + (value.charCodeAt(12) - 48);
  return day >= 1 && day <= 28 && hour <= 23 && !Number.isNaN(Date.parse(value));
}
