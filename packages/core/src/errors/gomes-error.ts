import { ErrorCodes, type ErrorCode, type ErrorCodeName } from './error-codes.js';

const BRAND = Symbol.for('@gomes/core:error');

/** Options accepted by every {@link GomesError}. @public */
export interface GomesErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** Overrides the default retriability of the code. */
  retriable?: boolean;
  /** Structured, non-secret details for logs and dead-letter envelopes. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error family of gomes: a stable `code`, a `retriable` flag and a `cause`.
 *
 * Check with {@link isGomesError} rather than `instanceof`: the brand check works across duplicate
 * copies of the package.
 *
 * @example
 * ```ts
 * try { await bus.send(cmd); } catch (e) { if (isGomesError(e) && e.code === 'GOMES_VALIDATION') ... }
 * ```
 * @public
 */
export class GomesError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Whether retrying the same operation may succeed. Retry middleware skips non-retriable errors. */
  readonly retriable: boolean;
  /** Structured details (never secrets). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(codeName: ErrorCodeName, message: string, options: GomesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = ErrorCodes[codeName];
    this.name = 'GomesError';
    this.code = entry.code;
    this.retriable = options.retriable ?? entry.retriable;
    this.details = Object.freeze({ ...(options.details ?? {}) });
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** Brand check for {@link GomesError} that survives duplicate package copies. @public */
export function isGomesError(value: unknown): value is GomesError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Whether an error should be retried: `false` when the error (or a {@link GomesError}) carries
 * `retriable: false`, `true` otherwise. Plain errors thrown by handlers are retriable.
 *
 * @public
 */
export function isRetriable(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && 'retriable' in error) {
    return error.retriable !== false;
  }
  return true;
}

/**
 * Marks a handler failure as permanent: retry middleware skips it and the message goes straight to
 * the dead-letter channel.
 *
 * @example
 * ```ts
 * throw new NonRetriableError('order 42 does not exist');
 * ```
 * @public
 */
export class NonRetriableError extends GomesError {
  constructor(message: string, options: Omit<GomesErrorOptions, 'retriable'> = {}) {
    super('HANDLER_FAILED', message, { ...options, retriable: false });
    this.name = 'NonRetriableError';
  }
}

/**
 * Turns anything thrown into an `Error` (keeping Errors as they are). Total: it never throws (a
 * BigInt, a circular object or a throwing `toJSON` fall back to `String(value)`, then to
 * `Object.prototype.toString`), and the message is never empty (`'Unknown error'` for `undefined`,
 * `null`, `''` and the like).
 *
 * @internal
 */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(describeThrown(value) || 'Unknown error');
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  try {
    const json = JSON.stringify(value) as string | undefined;
    if (json !== undefined) return json;
  } catch {
    // BigInt, cycles, a throwing toJSON: described below instead.
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- last resort for values JSON cannot describe
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
