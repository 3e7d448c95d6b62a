/**
 * `@platformatic/kafka` errors, as gomes' error classification reads them (kafka-errors.ts): the
 * library reports a broker error as a `ProtocolError` whose `apiId` is Kafka's error name, often
 * inside a `MultipleErrors` aggregate (one entry per failed attempt or partition).
 *
 * @packageDocumentation
 */

interface PlatformaticErrorLike {
  type?: unknown;
  retriable?: unknown;
  findBy?(property: string, value: unknown): { apiId?: unknown } | null;
}

/**
 * Adds what kafkajs errors carry to a platformatic error: `type` (Kafka's error name, e.g.
 * `UNKNOWN_TOPIC_OR_PARTITION`, from the first broker error inside it) and `retriable` (false when
 * any error inside it says it cannot be retried). Returns the same error object.
 *
 * @internal
 */
export function normalizePlatformaticError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const e = error as Error & PlatformaticErrorLike;
  if (typeof e.findBy !== 'function') return error;
  if (e.type === undefined) {
    const apiId = findApiId(error) ?? unknownTopic(error);
    if (apiId !== undefined) define(error, 'type', apiId);
  }
  if (e.retriable === undefined) define(error, 'retriable', e.findBy('canRetry', false) === null);
  return error;
}

/** Kafka's error name of the first broker error in `error` (depth-first through aggregates). */
export function findApiId(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 10) return undefined;
  const apiId = (error as { apiId?: unknown }).apiId;
  if (typeof apiId === 'string') return apiId;
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const e of inner) {
      const found = findApiId(e, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return findApiId((error as { cause?: unknown }).cause, depth + 1);
}

/**
 * The library's metadata lookup replaces the broker's UNKNOWN_TOPIC_OR_PARTITION with a UserError
 * `Unknown topic <name>.` (an integration test pins this: gomes-missing-topic.int.spec.ts).
 */
function unknownTopic(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 10) return undefined;
  const e = error as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (e.code === 'PLT_KFK_USER' && typeof e.message === 'string' && e.message.startsWith('Unknown topic '))
    return 'UNKNOWN_TOPIC_OR_PARTITION';
  if (Array.isArray(e.errors))
    for (const inner of e.errors) {
      const found = unknownTopic(inner, depth + 1);
      if (found !== undefined) return found;
    }
  return unknownTopic(e.cause, depth + 1);
}

function define(error: Error, property: string, value: unknown): void {
  Object.defineProperty(error, property, { value, enumerable: false, configurable: true, writable: true });
}
