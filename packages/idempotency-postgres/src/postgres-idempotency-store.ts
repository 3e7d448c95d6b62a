import { randomUUID } from 'node:crypto';
import {
  ConfigurationError,
  currentIdempotencyClaim,
  GomesError,
  noopLogger,
  type IdempotencyClaim,
  type IdempotencyStore,
  type LeaseRenewal,
  type Logger,
} from '@gomes/core';
import type { ClientBase, Pool, PoolClient } from 'pg';
import { postgresTableName } from './postgres-table-name.js';
import { inTransaction, toError } from './postgres-transaction.js';

/** Options of {@link PostgresIdempotencyStore}. @public */
export interface PostgresIdempotencyStoreOptions {
  /** Table of claims and done markers, created by `start()` when missing. @default 'gomes_idempotency' */
  readonly table?: string;
  /** Schema of the table. @default the connection's `search_path` (usually `public`) */
  readonly schema?: string;
  /** How often expired rows are deleted, in ms; 0 = only at `start()`. @default 600000 */
  readonly purgeIntervalMs?: number;
  /** Logger for the purge. @default no-op */
  readonly logger?: Logger;
}

/** Defaults of {@link PostgresIdempotencyStoreOptions}. @public */
export const DEFAULT_POSTGRES_IDEMPOTENCY_STORE_OPTIONS = Object.freeze({
  table: 'gomes_idempotency',
  purgeIntervalMs: 600_000,
});

/** What {@link PostgresIdempotencyStore.transaction} did. @public */
export type IdempotentTransactionResult<T> =
  { readonly duplicate: false; readonly result: T } | { readonly duplicate: true };

const MS = `$3::bigint * interval '1 millisecond'`;

/**
 * An `IdempotencyStore` on PostgreSQL, through the `pg` pool you pass (the store never ends it).
 * One table, created by `start()` when missing (serialised by an advisory lock):
 *
 * ```sql
 * CREATE TABLE gomes_idempotency (key text PRIMARY KEY, token text, done boolean NOT NULL, expires_at timestamptz NOT NULL)
 * ```
 *
 * - claim: `INSERT … ON CONFLICT (key) DO UPDATE … WHERE expires_at <= now` — the first member
 *   inserts the row; a later one takes it over only when its lease or marker expired;
 * - done: an upsert setting `done` and the marker's expiry; renew / release update or delete the
 *   row only while it holds the caller's token and is not done;
 * - expired rows are deleted at `start()` and every `purgeIntervalMs`.
 *
 * With {@link PostgresIdempotencyStore.transaction} a handler marks its message done **in its own
 * transaction**, so the business write and the marker commit (or roll back) together: a crash after
 * the commit finds the message done, a crash before it finds nothing written.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = new PostgresIdempotencyStore(pool);
 * builder.withIdempotency(store, { ttlMs: 7 * 24 * 3600_000 });
 * ```
 * @throws ConfigurationError when `table`, `schema` or `purgeIntervalMs` is invalid.
 * @public
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  /** @inheritDoc */
  readonly description: string;
  /** The quoted, schema-qualified table name. */
  readonly table: string;
  readonly #pool: Pool;
  readonly #purgeIntervalMs: number;
  readonly #logger: Logger;
  readonly #lockName: string;
  #purgeTimer: NodeJS.Timeout | undefined;
  #starting: Promise<void> | undefined;

  constructor(pool: Pool, options: PostgresIdempotencyStoreOptions = {}) {
    const table = options.table ?? DEFAULT_POSTGRES_IDEMPOTENCY_STORE_OPTIONS.table;
    const purge = options.purgeIntervalMs ?? DEFAULT_POSTGRES_IDEMPOTENCY_STORE_OPTIONS.purgeIntervalMs;
    const problems: string[] = [];
    const name = postgresTableName(table, options.schema, 'gomes-idempotency', problems);
    if (!Number.isInteger(purge) || purge < 0 || purge > 2_147_483_647) {
      problems.push(`purgeIntervalMs must be an integer between 0 and 2147483647 (got ${purge})`);
    }
    ConfigurationError.throwIfAny(problems, 'PostgreSQL idempotency store options');
    this.#pool = pool;
    this.#purgeIntervalMs = purge;
    this.#logger = options.logger ?? noopLogger;
    this.table = name.table;
    this.#lockName = name.lockName;
    this.description = name.description;
  }

  /**
   * Creates the table and its expiry index when missing, deletes expired rows and starts the
   * purge timer. Idempotent; concurrent callers (also in other processes) wait for one another.
   */
  async start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  /** Stops the purge timer (the pool stays open: it is the caller's). */
  async close(): Promise<void> {
    clearInterval(this.#purgeTimer);
    this.#purgeTimer = undefined;
    this.#starting = undefined;
  }

  /** Deletes every expired row; returns how many. */
  async purgeExpired(): Promise<number> {
    const result = await this.#pool.query(`DELETE FROM ${this.table} WHERE expires_at <= clock_timestamp()`);
    return result.rowCount ?? 0;
  }

  /** @inheritDoc */
  async claim(key: string, leaseMs: number): Promise<IdempotencyClaim> {
    const token = randomUUID();
    // One round trip: the CTE `existing` sees the row as it was before the upsert.
    const { rows } = await this.#pool.query<{ claimed: boolean; done: boolean | null }>(
      `WITH existing AS (SELECT done FROM ${this.table} WHERE key = $1),
       claimed AS (
         INSERT INTO ${this.table} AS t (key, token, done, expires_at)
         VALUES ($1, $2, false, clock_timestamp() + ${MS})
         ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, done = false, expires_at = EXCLUDED.expires_at
         WHERE t.expires_at <= clock_timestamp()
         RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, (SELECT done FROM existing) AS done`,
      [key, token, leaseMs],
    );
    const row = rows[0];
    if (row?.claimed) return { status: 'claimed', token };
    return row?.done ? { status: 'done' } : { status: 'held' };
  }

  /** @inheritDoc */
  async renew(key: string, token: string, leaseMs: number): Promise<LeaseRenewal> {
    const renewed = await this.#pool.query(
      `UPDATE ${this.table} SET expires_at = clock_timestamp() + ${MS}
       WHERE key = $1 AND token = $2 AND NOT done AND expires_at > clock_timestamp()`,
      [key, token, leaseMs],
    );
    if ((renewed.rowCount ?? 0) > 0) return 'renewed';
    // A separate statement: it sees a transaction that marked the key done meanwhile.
    const { rows } = await this.#pool.query<{ done: boolean }>(
      `SELECT done FROM ${this.table} WHERE key = $1 AND expires_at > clock_timestamp()`,
      [key],
    );
    return rows[0]?.done ? 'done' : 'lost';
  }

  /** @inheritDoc */
  async markDone(key: string, token: string, ttlMs: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO ${this.table} AS t (key, token, done, expires_at)
       VALUES ($1, $2, true, clock_timestamp() + ${MS})
       ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, done = true, expires_at = EXCLUDED.expires_at`,
      [key, token, ttlMs],
    );
  }

  /** @inheritDoc */
  async release(key: string, token: string): Promise<void> {
    await this.#pool.query(`DELETE FROM ${this.table} WHERE key = $1 AND token = $2 AND NOT done`, [
      key,
      token,
    ]);
  }

  /**
   * Runs `work` in a transaction on a pool client and marks the current message done in that same
   * transaction, first: the business writes `work` makes through `client` and the marker commit
   * together, or roll back together when `work` throws (the message is then released and
   * redelivered). Call it from a handler of a consumer made idempotent with this store
   * (`withIdempotency(store, …)`); the key and time to live are that consumer's.
   *
   * @returns `{ duplicate: true }` without running `work` when the message was marked done
   * meanwhile (by a member whose lease outlived ours); else `{ duplicate: false, result }`.
   * @throws GomesError `GOMES_ILLEGAL_STATE` outside such a handler; `GOMES_IDEMPOTENCY_CLAIM_HELD`
   * when the lease was lost to another member (retriable); whatever `work` or the database throws.
   * @example
   * ```ts
   * await store.transaction(async (client) => {
   *   await client.query('INSERT INTO payments (id, amount) VALUES ($1, $2)', [p.id, p.amount]);
   * });
   * ```
   */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<IdempotentTransactionResult<T>> {
    this.#currentClaim();
    return inTransaction<IdempotentTransactionResult<T>>(this.#pool, async (client) => {
      if (!(await this.markDoneInTransaction(client))) return { commit: false, result: { duplicate: true } };
      return { commit: true, result: { duplicate: false, result: await work(client) } };
    });
  }

  /**
   * Marks the current message done inside the transaction open on `client` (for handlers that
   * manage their own transaction, e.g. through an ORM's client). Call it before the business
   * writes: it locks the message's row until the transaction ends.
   *
   * @returns `true` when marked; `false` when the message is done already (roll back and skip).
   * @throws GomesError as {@link PostgresIdempotencyStore.transaction}.
   */
  async markDoneInTransaction(client: ClientBase): Promise<boolean> {
    const claim = this.#currentClaim();
    const marked = await client.query(
      `INSERT INTO ${this.table} AS t (key, token, done, expires_at)
       VALUES ($1, $2, true, clock_timestamp() + ${MS})
       ON CONFLICT (key) DO UPDATE SET done = true, expires_at = EXCLUDED.expires_at
       WHERE (t.token = EXCLUDED.token AND NOT t.done) OR t.expires_at <= clock_timestamp()
       RETURNING 1`,
      [claim.key, claim.token, claim.ttlMs],
    );
    if ((marked.rowCount ?? 0) > 0) return true;
    const { rows } = await client.query<{ done: boolean }>(`SELECT done FROM ${this.table} WHERE key = $1`, [
      claim.key,
    ]);
    if (rows[0]?.done) return false;
    throw new GomesError(
      'IDEMPOTENCY_CLAIM_HELD',
      `The idempotency lease on "${claim.key}" was lost to another member; the message will be redelivered`,
      { details: { key: claim.key } },
    );
  }

  #currentClaim(): { key: string; token: string; ttlMs: number } {
    const claim = currentIdempotencyClaim();
    if (!claim || claim.store !== this) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `No idempotency claim of this store (${this.description}) is active: call it from a handler of a consumer configured with withIdempotency(store, …)`,
      );
    }
    return claim;
  }

  async #start(): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.#lockName]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
           key text PRIMARY KEY,
           token text,
           done boolean NOT NULL DEFAULT false,
           expires_at timestamptz NOT NULL)`,
      );
      const index = `"${this.table.replace(/"/g, '').replace(/\./g, '_')}_expires_at_idx"`;
      await client.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${this.table} (expires_at)`);
      return { commit: true, result: undefined };
    });
    await this.purgeExpired();
    if (this.#purgeIntervalMs > 0 && !this.#purgeTimer) {
      this.#purgeTimer = setInterval(() => {
        this.purgeExpired().catch((error: unknown) =>
          this.#logger.warn('Purging expired idempotency rows failed', {
            table: this.table,
            errorMessage: toError(error).message,
          }),
        );
      }, this.#purgeIntervalMs);
      this.#purgeTimer.unref();
    }
  }
}
