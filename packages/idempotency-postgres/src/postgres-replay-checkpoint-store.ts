import { ConfigurationError, type ReplayCheckpoint, type ReplayCheckpointStore } from '@gomes/core';
import type { Pool } from 'pg';
import { postgresTableName } from './postgres-table-name.js';
import { inTransaction } from './postgres-transaction.js';

/** Options of {@link PostgresReplayCheckpointStore}. @public */
export interface PostgresReplayCheckpointStoreOptions {
  /** Table of checkpoints, created on first use when missing. @default 'gomes_replay_checkpoints' */
  readonly table?: string;
  /** Schema of the table. @default the connection's `search_path` (usually `public`) */
  readonly schema?: string;
}

/** Defaults of {@link PostgresReplayCheckpointStoreOptions}. @public */
export const DEFAULT_POSTGRES_REPLAY_CHECKPOINT_STORE_OPTIONS = Object.freeze({
  table: 'gomes_replay_checkpoints',
});

interface CheckpointRow {
  channel: string;
  window_from: Date;
  window_to: Date;
  offsets: Record<string, string>;
  updated_at: Date;
}

/**
 * A `ReplayCheckpointStore` (see `gomes.replay`) on PostgreSQL, through the `pg` pool you pass (the
 * store never ends it): one row per checkpoint id, upserted on every save, in a table created on
 * first use when missing (serialised by an advisory lock):
 *
 * ```sql
 * CREATE TABLE gomes_replay_checkpoints (id text PRIMARY KEY, channel text NOT NULL,
 *   window_from timestamptz NOT NULL, window_to timestamptz NOT NULL, offsets jsonb NOT NULL,
 *   updated_at timestamptz NOT NULL)
 * ```
 *
 * It lives in this package because it is gomes' other piece of consumer progress kept in
 * PostgreSQL, next to the idempotency store a replay usually runs with, and shares its `pg` peer
 * dependency and table conventions.
 *
 * @example
 * ```ts
 * const checkpoints = new PostgresReplayCheckpointStore(pool);
 * await gomes.replay({ channel: 'orders', from, to, checkpoint: { store: checkpoints, id: 'rebuild-view' } });
 * ```
 * @throws ConfigurationError when `table` or `schema` is not a plain SQL identifier.
 * @public
 */
export class PostgresReplayCheckpointStore implements ReplayCheckpointStore {
  /** @inheritDoc */
  readonly description: string;
  /** The quoted, schema-qualified table name. */
  readonly table: string;
  readonly #pool: Pool;
  readonly #lockName: string;
  #starting: Promise<void> | undefined;

  constructor(pool: Pool, options: PostgresReplayCheckpointStoreOptions = {}) {
    const table = options.table ?? DEFAULT_POSTGRES_REPLAY_CHECKPOINT_STORE_OPTIONS.table;
    const problems: string[] = [];
    const name = postgresTableName(table, options.schema, 'gomes-replay-checkpoints', problems);
    ConfigurationError.throwIfAny(problems, 'PostgreSQL replay checkpoint store options');
    this.#pool = pool;
    this.table = name.table;
    this.#lockName = name.lockName;
    this.description = name.description;
  }

  /**
   * Creates the table when missing. Called by the first `load`, `save` or `delete`; idempotent, and
   * concurrent callers (also in other processes) wait for one another.
   */
  async start(): Promise<void> {
    this.#starting ??= this.#createTable().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  /** @inheritDoc */
  async load(id: string): Promise<ReplayCheckpoint | undefined> {
    await this.start();
    const { rows } = await this.#pool.query<CheckpointRow>(
      `SELECT channel, window_from, window_to, offsets, updated_at FROM ${this.table} WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    const offsets: Record<number, string> = {};
    for (const [partition, offset] of Object.entries(row.offsets))
      offsets[Number(partition)] = String(offset);
    return Object.freeze({
      channel: row.channel,
      from: row.window_from,
      to: row.window_to,
      offsets: Object.freeze(offsets),
      updatedAt: row.updated_at,
    });
  }

  /** @inheritDoc */
  async save(id: string, checkpoint: ReplayCheckpoint): Promise<void> {
    await this.start();
    await this.#pool.query(
      `INSERT INTO ${this.table} (id, channel, window_from, window_to, offsets, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET channel = EXCLUDED.channel, window_from = EXCLUDED.window_from,
         window_to = EXCLUDED.window_to, offsets = EXCLUDED.offsets, updated_at = EXCLUDED.updated_at`,
      [
        id,
        checkpoint.channel,
        checkpoint.from,
        checkpoint.to,
        JSON.stringify(checkpoint.offsets),
        checkpoint.updatedAt,
      ],
    );
  }

  /** @inheritDoc */
  async delete(id: string): Promise<void> {
    await this.start();
    await this.#pool.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
  }

  async #createTable(): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.#lockName]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
           id text PRIMARY KEY,
           channel text NOT NULL,
           window_from timestamptz NOT NULL,
           window_to timestamptz NOT NULL,
           offsets jsonb NOT NULL,
           updated_at timestamptz NOT NULL)`,
      );
      return { commit: true, result: undefined };
    });
  }
}
