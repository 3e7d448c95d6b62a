import { randomUUID } from 'node:crypto';
import type { IdempotencyClaim, IdempotencyStore, LeaseRenewal } from './idempotency-store.js';

interface Entry {
  token: string;
  done: boolean;
  expiresAt: number;
}

/** Options of {@link InMemoryIdempotencyStore}. @public */
export interface InMemoryIdempotencyStoreOptions {
  /** The clock, in ms (tests move it to expire leases and markers). @default Date.now */
  readonly now?: () => number;
}

/**
 * An {@link IdempotencyStore} in this process's memory: for tests and single-process apps. Members
 * of one process sharing it are deduplicated; nothing survives a restart and other processes do
 * not see it — use the Redis or PostgreSQL store for that. Expired entries are swept as it is used.
 *
 * @example
 * ```ts
 * builder.withIdempotency(new InMemoryIdempotencyStore(), { ttlMs: 60_000 });
 * ```
 * @public
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  /** @inheritDoc */
  readonly description = 'in-memory';
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #operations = 0;

  constructor(options: InMemoryIdempotencyStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Keys with a live entry (claimed or done). */
  get size(): number {
    this.#sweep(true);
    return this.#entries.size;
  }

  /** The live state of `key`: `claimed`, `done`, or `undefined` when absent or expired. */
  stateOf(key: string): 'claimed' | 'done' | undefined {
    const entry = this.#live(key);
    return entry ? (entry.done ? 'done' : 'claimed') : undefined;
  }

  /** @inheritDoc */
  async claim(key: string, leaseMs: number): Promise<IdempotencyClaim> {
    this.#sweep(false);
    const entry = this.#live(key);
    if (entry) return Promise.resolve(entry.done ? { status: 'done' } : { status: 'held' });
    const token = randomUUID();
    this.#entries.set(key, { token, done: false, expiresAt: this.#now() + leaseMs });
    return Promise.resolve({ status: 'claimed', token });
  }

  /** @inheritDoc */
  async renew(key: string, token: string, leaseMs: number): Promise<LeaseRenewal> {
    const entry = this.#live(key);
    if (!entry || entry.token !== token) return Promise.resolve(entry?.done ? 'done' : 'lost');
    if (entry.done) return Promise.resolve('done');
    entry.expiresAt = this.#now() + leaseMs;
    return Promise.resolve('renewed');
  }

  /** @inheritDoc */
  async markDone(key: string, token: string, ttlMs: number): Promise<void> {
    this.#entries.set(key, { token, done: true, expiresAt: this.#now() + ttlMs });
    return Promise.resolve();
  }

  /** @inheritDoc */
  async release(key: string, token: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry && entry.token === token && !entry.done) this.#entries.delete(key);
    return Promise.resolve();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Drops expired entries every 1024 claims (or now), so memory follows the live keys. */
  #sweep(now: boolean): void {
    if (!now && ++this.#operations % 1024 !== 0) return;
    const t = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= t) this.#entries.delete(key);
  }
}
