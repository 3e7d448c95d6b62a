/**
 * What {@link IdempotencyStore.claim} found for a key.
 *
 * - `claimed`: the caller now holds a lease on the key (keep `token` to renew, release or mark it);
 * - `done`: a message with this key was processed successfully and its marker has not expired;
 * - `held`: another member holds a live lease on the key (it is processing the message now).
 *
 * @public
 */
export type IdempotencyClaim =
  | { readonly status: 'claimed'; readonly token: string }
  | { readonly status: 'done' }
  | { readonly status: 'held' };

/**
 * What {@link IdempotencyStore.renew} found: the lease was extended, the key was marked done
 * meanwhile (e.g. by the handler's own database transaction), or the lease is lost (it expired and
 * another member claimed the key, or it was released).
 *
 * @public
 */
export type LeaseRenewal = 'renewed' | 'done' | 'lost';

/**
 * Where an idempotent consumer records which messages it processed (see `withIdempotency` on the
 * consumer builders and docs/idempotency.md). A key is in one of three states: absent, claimed
 * (a lease with a token and an expiry) or done (a marker with a time to live). Every operation is
 * atomic in the store, so members of several processes sharing a store run each key's handler once.
 *
 * Implementations: {@link InMemoryIdempotencyStore} (one process, tests), `RedisIdempotencyStore`
 * (`@gomes/idempotency-redis`) and `PostgresIdempotencyStore` (`@gomes/idempotency-postgres`).
 *
 * @public
 */
export interface IdempotencyStore {
  /** A short, log-safe description (e.g. `postgres table public.gomes_idempotency`). */
  readonly description: string;
  /**
   * Prepares the store (checks it is reachable, creates its table). Idempotent. `gomes.start()`
   * calls it for the stores given to `withIdempotency`, and fails when it rejects.
   */
  start?(): Promise<void>;
  /** Releases what `start()` set up (timers); the clients passed in stay the caller's. Idempotent. */
  close?(): Promise<void>;
  /**
   * Claims `key` for `leaseMs` when it is absent, or when its lease or done marker expired.
   * Never blocks on another member's lease: it answers `held` instead.
   */
  claim(key: string, leaseMs: number): Promise<IdempotencyClaim>;
  /** Extends the lease of `token` on `key` to `leaseMs` from now, unless it is done or lost. */
  renew(key: string, token: string, leaseMs: number): Promise<LeaseRenewal>;
  /** Marks `key` done for `ttlMs` (whoever holds it: done is final until it expires). */
  markDone(key: string, token: string, ttlMs: number): Promise<void>;
  /** Deletes the lease of `token` on `key`, if it still holds it and the key is not done. */
  release(key: string, token: string): Promise<void>;
}
