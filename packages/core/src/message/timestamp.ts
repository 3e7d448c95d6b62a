import { GomesError } from '../errors/gomes-error.js';

const GO_GOMES_FORMAT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Formats a time as the `timestamp` header value: ISO-8601 in UTC with milliseconds. @public */
export function formatTimestamp(date: Date): string {
  return date.toISOString();
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
  const normalized = formatTimestamp(parseTimestamp(value));
  lastRaw = value;
  lastNormalized = normalized;
  return normalized;
}
