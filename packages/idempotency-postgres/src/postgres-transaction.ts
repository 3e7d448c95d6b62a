import type { Pool, PoolClient } from 'pg';

/** `e` as an Error. @internal */
export const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** What the work of {@link inTransaction} decided. @internal */
export interface TransactionOutcome<T> {
  /** `true`: COMMIT; `false`: ROLLBACK. */
  readonly commit: boolean;
  readonly result: T;
}

/**
 * Runs `work` in a transaction on a client of `pool`: committed or rolled back as `work` decides,
 * rolled back when it throws (the error is rethrown). The client is released, and destroyed after
 * an error.
 *
 * @internal
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<TransactionOutcome<T>>,
): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const { commit, result } = await work(client);
    await client.query(commit ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (error) {
    failure = toError(error);
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(failure);
  }
}
