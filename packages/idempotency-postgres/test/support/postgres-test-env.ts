// The PostgreSQL the integration tests use: the machine's real server (scripts/run-tests.mjs starts
// it when it is not running). Unreachable is an error, never a skip.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** `GOMES_TEST_POSTGRES_URL`, else the local server's `test` database (trust auth). */
export const POSTGRES_URL =
  process.env['GOMES_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const pools: pg.Pool[] = [];

/** A pool on the test database, checked to answer; closed by `closePools()`. */
export async function testPool(max = 4): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max, connectionTimeoutMillis: 5000 });
  pools.push(pool);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL} (${(error as Error).message}). The idempotency ` +
        'integration tests need the real server: run them through `pnpm test` (scripts/run-tests.mjs starts ' +
        'it), or start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, ' +
        'or set GOMES_TEST_POSTGRES_URL.',
    );
  }
  return pool;
}

/** Ends every pool made by `testPool()`. */
export async function closePools(): Promise<void> {
  await Promise.all(pools.splice(0).map(async (p) => p.end().catch(() => undefined)));
}

/** A table name no other test (or engineer sharing the server) uses. */
export function uniqueTable(prefix = 'gomes_idem_it'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Drops `tables` (test clean-up). */
export async function dropTables(pool: pg.Pool, ...tables: string[]): Promise<void> {
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS "${table}"`);
}
