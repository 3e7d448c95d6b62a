import type { DeadLetter } from './dead-letter.js';

/**
 * Which dead letters to list or redrive. Every field given must match (AND); a field given as a
 * list matches any of its values (OR). An empty filter matches every dead letter.
 *
 * @public
 */
export interface DeadLetterFilter {
  /** The original message's `route` (e.g. `createOrder`). */
  readonly route?: string | readonly string[];
  /** The envelope's error code (e.g. `GOMES_VALIDATION`, `GOMES_PROCESSING_TIMEOUT`). */
  readonly errorCode?: string | readonly string[];
  /** The channel the message was consumed from (the envelope's `originChannel`). */
  readonly originChannel?: string | readonly string[];
  /** The consumer endpoint that dead-lettered it (the envelope's `consumer`). */
  readonly consumer?: string | readonly string[];
  /** The original message's `messageId`. */
  readonly messageId?: string | readonly string[];
  /** Dead-lettered at or after this time (the dead-letter record's timestamp). */
  readonly since?: Date;
  /** Dead-lettered before this time (exclusive). */
  readonly until?: Date;
  /** Any other condition, applied after the fields above. */
  readonly where?: (deadLetter: DeadLetter) => boolean;
}

const LIST_FIELDS = ['route', 'errorCode', 'originChannel', 'consumer', 'messageId'] as const;
const KNOWN_FIELDS = new Set<string>([...LIST_FIELDS, 'since', 'until', 'where']);

/** Every problem of `filter` (empty when valid). @internal */
export function deadLetterFilterProblems(filter: DeadLetterFilter | undefined): string[] {
  if (filter === undefined) return [];
  const problems = Object.keys(filter)
    .filter((key) => !KNOWN_FIELDS.has(key))
    .map((key) => `filter: unknown field "${key}"`);
  for (const field of LIST_FIELDS) {
    const value: unknown = filter[field];
    if (value === undefined) continue;
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === ''))
      problems.push(`filter.${field} must be a non-empty string or a non-empty list of them`);
  }
  for (const field of ['since', 'until'] as const) {
    const value: unknown = filter[field];
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime())))
      problems.push(`filter.${field} must be a valid Date`);
  }
  if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime())
    problems.push('filter.since must be before filter.until');
  if (filter.where !== undefined && typeof filter.where !== 'function')
    problems.push('filter.where must be a function');
  return problems;
}

/** Whether `deadLetter` matches `filter`. @internal */
export function matchesDeadLetterFilter(
  deadLetter: DeadLetter,
  filter: DeadLetterFilter | undefined,
): boolean {
  if (filter === undefined) return true;
  const { envelope } = deadLetter;
  const fields: Record<(typeof LIST_FIELDS)[number], string | undefined> = {
    route: deadLetter.route,
    errorCode: envelope.errorCode,
    originChannel: envelope.originChannel,
    consumer: envelope.consumer,
    messageId: deadLetter.originalMessageId,
  };
  for (const field of LIST_FIELDS) {
    const wanted = filter[field];
    if (wanted === undefined) continue;
    const actual = fields[field];
    if (actual === undefined) return false;
    if (typeof wanted === 'string' ? wanted !== actual : !wanted.includes(actual)) return false;
  }
  const at = deadLetter.deadLetteredAt.getTime();
  if (filter.since && at < filter.since.getTime()) return false;
  if (filter.until && at >= filter.until.getTime()) return false;
  return filter.where ? filter.where(deadLetter) : true;
}
