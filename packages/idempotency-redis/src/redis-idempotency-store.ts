import { randomUUID } from 'node:crypto';
import type { IdempotencyClaim, IdempotencyStore, LeaseRenewal } from '@gomes/core';
import type { Cluster, Redis } from 'ioredis';

/** Options of {@link RedisIdempotencyStore}. @public */
export interface RedisIdempotencyStoreOptions {
  /** Prefix of every Redis key the store writes. @default 'gomes:idempotency:' */
  readonly keyPrefix?: string;
}

/** Defaults of {@link RedisIdempotencyStoreOptions}. @public */
export const DEFAULT_REDIS_IDEMPOTENCY_STORE_OPTIONS = Object.freeze({
  keyPrefix: 'gomes:idempotency:',
});

/** The value of a key marked done. */
const DONE = 'done';
/** The value of a claimed key is this prefix and the holder's token. */
const CLAIM = 'claim:';

// Compare-and-set scripts: the key is changed only while it still holds the caller's claim.
const RENEW = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 'renewed' end
if v == '${DONE}' then return 'done' end
return 'lost'`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * An `IdempotencyStore` on Redis, through the `ioredis` client you pass (a `Redis` or a `Cluster`;
 * the store never connects, disconnects or configures it). Each key is one Redis string:
 *
 * - claim: `SET <prefix><key> claim:<token> NX PX <leaseMs>` — only the first member gets it; when
 *   the key exists a `GET` tells `done` from `held`;
 * - done: `SET <prefix><key> done PX <ttlMs>` (final until it expires);
 * - renew / release: Lua scripts that `PEXPIRE` / `DEL` the key only while it holds the caller's
 *   claim, so a member whose lease expired cannot touch the next holder's claim.
 *
 * Expiry is Redis's own (`PX`): nothing to purge. Durability is the server's: with persistence off
 * a Redis restart forgets the markers (duplicates then run again) — use `appendonly yes` or the
 * PostgreSQL store where that matters.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const store = new RedisIdempotencyStore(new Redis('redis://127.0.0.1:6379'));
 * builder.withIdempotency(store, { ttlMs: 24 * 3600_000 });
 * ```
 * @public
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  /** @inheritDoc */
  readonly description: string;
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;

  constructor(redis: Redis | Cluster, options: RedisIdempotencyStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.keyPrefix ?? DEFAULT_REDIS_IDEMPOTENCY_STORE_OPTIONS.keyPrefix;
    this.description = `redis keys ${this.#prefix}*`;
  }

  /** Checks that Redis answers (`PING`). */
  async start(): Promise<void> {
    await this.#redis.ping();
  }

  /** @inheritDoc */
  async claim(key: string, leaseMs: number): Promise<IdempotencyClaim> {
    const k = this.#prefix + key;
    // A claim can expire between the SET and the GET: then try again (a few times at most).
    for (let tries = 0; tries < 3; tries++) {
      const token = randomUUID();
      if ((await this.#redis.set(k, CLAIM + token, 'PX', leaseMs, 'NX')) === 'OK') {
        return { status: 'claimed', token };
      }
      const value = await this.#redis.get(k);
      if (value === DONE) return { status: 'done' };
      if (value !== null) return { status: 'held' };
    }
    return { status: 'held' };
  }

  /** @inheritDoc */
  async renew(key: string, token: string, leaseMs: number): Promise<LeaseRenewal> {
    const outcome = await this.#redis.eval(RENEW, 1, this.#prefix + key, CLAIM + token, String(leaseMs));
    return outcome === 'renewed' || outcome === 'done' ? outcome : 'lost';
  }

  /** @inheritDoc */
  async markDone(key: string, _token: string, ttlMs: number): Promise<void> {
    await this.#redis.set(this.#prefix + key, DONE, 'PX', ttlMs);
  }

  /** @inheritDoc */
  async release(key: string, token: string): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#prefix + key, CLAIM + token);
  }
}
