import type { Message } from '../message/message.js';

/**
 * Options of an idempotent consumer (`withIdempotency(store, options)` on a consumer builder, or
 * the `idempotentConsumer` middleware).
 *
 * @public
 */
export interface IdempotencyOptions {
  /**
   * How long the "processed" marker of a key is kept, in ms: a duplicate arriving later than this
   * runs its handler again. Pick it longer than any redelivery or producer retry can come late.
   */
  readonly ttlMs: number;
  /** The deduplication key of a message. @default `message.messageId` */
  readonly key?: (message: Message) => string;
  /**
   * Lease of a claim, in ms: how long a member that died while processing blocks the key before
   * another member may run the message. The lease is renewed every third of it while the message
   * is processed, so it need not cover the handler's duration. @default 30000
   */
  readonly leaseMs?: number;
  /**
   * Namespace of the keys. Consumers with different scopes process the same message each once.
   * @default the consumer's name
   */
  readonly scope?: string;
}

/** Defaults of {@link IdempotencyOptions}. @public */
export const DEFAULT_IDEMPOTENCY_OPTIONS = Object.freeze({
  leaseMs: 30_000,
});

/** Shortest lease accepted, in ms (it is renewed every third of it). @public */
export const MIN_IDEMPOTENCY_LEASE_MS = 300;

/** Longest lease or time to live accepted, in ms (about 24.8 days, the largest timer delay). @public */
export const MAX_IDEMPOTENCY_DURATION_MS = 2_147_483_647;

/**
 * Every problem of idempotency options (empty when valid).
 *
 * @public
 */
export function validateIdempotencyOptions(options: IdempotencyOptions): string[] {
  const problems: string[] = [];
  const int = (name: string, value: unknown, min: number): void => {
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < min ||
      value > MAX_IDEMPOTENCY_DURATION_MS
    ) {
      problems.push(
        `idempotency ${name} must be an integer between ${min} and ${MAX_IDEMPOTENCY_DURATION_MS} ms (got ${String(value)})`,
      );
    }
  };
  int('ttlMs', options.ttlMs, 1);
  if (options.leaseMs !== undefined) int('leaseMs', options.leaseMs, MIN_IDEMPOTENCY_LEASE_MS);
  if (options.key !== undefined && typeof options.key !== 'function') {
    problems.push('idempotency key must be a function of the message');
  }
  if (options.scope !== undefined && (typeof options.scope !== 'string' || options.scope === '')) {
    problems.push('idempotency scope must be a non-empty string');
  }
  return problems;
}
