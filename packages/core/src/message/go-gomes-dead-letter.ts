import type { Message } from './message.js';

/**
 * A dead letter written by Go gomes, as read back by {@link readGoGomesDeadLetter}. Go gomes does not
 * put the failure in headers (gomes does, see `DeadLetterHeaders`): its dead-letter record is a
 * `Document` whose JSON body wraps the original message, with the struct's Go field names as keys:
 * `{"ReasonError": "<error>", "Payload": <original payload>, "Headers": {<original headers>}}`.
 *
 * @public
 */
export interface GoGomesDeadLetter {
  /** `ReasonError`: the error message the Go handler failed with. */
  readonly reason: string;
  /** `Payload`: the original payload (decoded JSON). */
  readonly payload: unknown;
  /** `Headers`: the original message's headers (`route`, `messageId`, `correlationId`, …). */
  readonly headers: Readonly<Record<string, string>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a Go gomes dead letter: the message's payload must be an object with a string
 * `ReasonError` and a `Headers` object of strings (`Payload` may be any JSON value, `null`
 * included). Anything else — a gomes dead letter included — gives `undefined`.
 *
 * @example
 * ```ts
 * const dead = readGoGomesDeadLetter(delivery.message);
 * if (dead) logger.warn('Go gomes dead letter', { reason: dead.reason, route: dead.headers['route'] });
 * ```
 * @public
 */
export function readGoGomesDeadLetter(message: Message): GoGomesDeadLetter | undefined {
  const body = message.payload;
  if (!isRecord(body) || typeof body['ReasonError'] !== 'string') return undefined;
  const rawHeaders = body['Headers'];
  if (!isRecord(rawHeaders)) return undefined;
  const entries = Object.entries(rawHeaders);
  if (!entries.every((entry): entry is [string, string] => typeof entry[1] === 'string')) return undefined;
  return Object.freeze({
    reason: body['ReasonError'],
    payload: body['Payload'] ?? null,
    // fromEntries defines own properties: a `__proto__` header stays a header.
    headers: Object.freeze(Object.fromEntries(entries)),
  });
}
