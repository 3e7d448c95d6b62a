// PostgresIdempotencyStore on the machine's real PostgreSQL: the store contract (two pools sharing
// one table, as members of different processes would), table creation, purge, and marking done
// inside the handler's own transaction — committed together with the business write, rolled back
// with it, and one winner among members racing with transactions.
import { idempotentConsumer, MessageBuilder, type Message, type ProcessingContext } from '@gomes/core';
import { createTestDelivery, describeIdempotencyStoreContract, waitFor } from '@gomes/core/testing';
import { noopLogger } from '@gomes/core';
import { PostgresIdempotencyStore } from '@gomes/idempotency-postgres';
import type pg from 'pg';
import { closePools, dropTables, testPool, uniqueTable } from '../support/postgres-test-env.js';

const contractTable = uniqueTable('gomes_idem_contract');
let pools: pg.Pool[] = [];
let next = 0;
describeIdempotencyStoreContract('postgres', {
  setup: async () => void (pools = [await testPool(), await testPool()]),
  // Stores alternate between two pools (two "processes") on one table.
  store: () => new PostgresIdempotencyStore(pools[next++ % 2]!, { table: contractTable }),
  teardown: async () => {
    await dropTables(pools[0]!, contractTable);
    await closePools();
  },
});

function context(message: Message): ProcessingContext {
  return {
    signal: new AbortController().signal,
    logger: noopLogger,
    endpointName: 'payments',
    delivery: createTestDelivery(message),
    channels: { publisher: () => undefined },
    state: { attempts: 0 },
  };
}

describe('PostgresIdempotencyStore', () => {
  let pool: pg.Pool;
  const tables: string[] = [];
  beforeAll(async () => {
    pool = await testPool(8);
  });
  afterAll(async () => {
    await dropTables(pool, ...tables);
    await closePools();
  });
  const table = (): string => {
    const name = uniqueTable();
    tables.push(name, `${name}_payments`);
    return name;
  };

  it('start() creates the table and its index once, even when several stores start at the same time', async () => {
    const name = table();
    const stores = Array.from({ length: 5 }, () => new PostgresIdempotencyStore(pool, { table: name }));
    await Promise.all(stores.map(async (s) => s.start()));
    const { rows } = await pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
      [name],
    );
    expect(rows.map((r) => [r.column_name, r.data_type])).toEqual([
      ['key', 'text'],
      ['token', 'text'],
      ['done', 'boolean'],
      ['expires_at', 'timestamp with time zone'],
    ]);
    const index = await pool.query(`SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [
      name,
      `${name}_expires_at_idx`,
    ]);
    expect(index.rowCount).toBe(1);
    await Promise.all(stores.map(async (s) => s.close()));
  });

  it('purgeExpired() deletes expired claims and markers and keeps live ones', async () => {
    const store = new PostgresIdempotencyStore(pool, { table: table(), purgeIntervalMs: 0 });
    await store.start();
    const live = await store.claim('live', 60_000);
    const shortClaim = await store.claim('short-claim', 300);
    const shortDone = await store.claim('short-done', 60_000);
    if (live.status !== 'claimed' || shortClaim.status !== 'claimed' || shortDone.status !== 'claimed')
      throw new Error('expected claims');
    await store.markDone('short-done', shortDone.token, 300);
    await waitFor(async () => (await store.claim('short-done', 60_000)).status === 'claimed', 5000, {
      intervalMs: 50,
    });
    await store.release('short-done', 'x');
    await waitFor(async () => (await store.purgeExpired()) >= 1, 5000, { intervalMs: 100 });
    const { rows } = await pool.query<{ key: string }>(`SELECT key FROM ${store.table} ORDER BY key`);
    expect(rows.map((r) => r.key)).toEqual(['live', 'short-done']);
  });

  it('rejects a table or schema name that is not a plain identifier', () => {
    expect(() => new PostgresIdempotencyStore(pool, { table: 'x; DROP TABLE y', schema: 'a b' })).toThrow(
      /2 problems/,
    );
  });

  describe('transaction(): the marker commits with the handler’s own writes', () => {
    async function setup(): Promise<{ store: PostgresIdempotencyStore; payments: string }> {
      const name = table();
      const store = new PostgresIdempotencyStore(pool, { table: name, purgeIntervalMs: 0 });
      await store.start();
      const payments = `"${name}_payments"`;
      await pool.query(`CREATE TABLE ${payments} (id text PRIMARY KEY, amount int NOT NULL)`);
      return { store, payments };
    }
    const payment = (id: string, messageId = `msg-${id}`): Message =>
      MessageBuilder.withPayload({ id, amount: 10 }).messageId(messageId).build();

    it('commits the business row and the done marker together; a redelivery is skipped', async () => {
      const { store, payments } = await setup();
      const handler = idempotentConsumer(store, { ttlMs: 60_000 })(async (m) => {
        const outcome = await store.transaction(async (client) => {
          const { id, amount } = m.payload as { id: string; amount: number };
          await client.query(`INSERT INTO ${payments} (id, amount) VALUES ($1, $2)`, [id, amount]);
          return id;
        });
        expect(outcome).toEqual({ duplicate: false, result: 'p-1' });
        return undefined;
      });
      await handler(payment('p-1'), context(payment('p-1')));
      await handler(payment('p-1'), context(payment('p-1')));
      expect((await pool.query(`SELECT id FROM ${payments}`)).rows).toEqual([{ id: 'p-1' }]);
      const marker = await pool.query(`SELECT done FROM ${store.table} WHERE key = 'payments:msg-p-1'`);
      expect(marker.rows).toEqual([{ done: true }]);
    });

    it('rolls back the business row and the marker when the handler fails; the retry commits once', async () => {
      const { store, payments } = await setup();
      let calls = 0;
      const handler = idempotentConsumer(store, { ttlMs: 60_000 })(async () => {
        await store.transaction(async (client) => {
          await client.query(`INSERT INTO ${payments} (id, amount) VALUES ('p-2', 20)`);
          if (++calls === 1) throw new Error('ledger service down');
        });
        return undefined;
      });
      await expect(handler(payment('p-2'), context(payment('p-2')))).rejects.toThrow('ledger service down');
      expect((await pool.query(`SELECT id FROM ${payments}`)).rowCount).toBe(0);
      expect((await pool.query(`SELECT 1 FROM ${store.table}`)).rowCount).toBe(0); // released
      await handler(payment('p-2'), context(payment('p-2')));
      expect((await pool.query(`SELECT id FROM ${payments}`)).rows).toEqual([{ id: 'p-2' }]);
      expect(calls).toBe(2);
    });

    it('members racing 20 copies of one message through transactions write one row', async () => {
      const { store, payments } = await setup();
      const runs: string[] = [];
      const handler = idempotentConsumer(store, { ttlMs: 60_000 })(async (m) => {
        await store.transaction(async (client) => {
          runs.push(m.messageId);
          await client.query(`INSERT INTO ${payments} (id, amount) VALUES ('p-3', 30)`);
        });
        return undefined;
      });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, async () => handler(payment('p-3'), context(payment('p-3')))),
      );
      expect(runs).toHaveLength(1);
      // The others found the key held (nacked, to be redelivered) or, once it committed, done.
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'GOMES_IDEMPOTENCY_CLAIM_HELD' });
      }
      expect((await pool.query(`SELECT id FROM ${payments}`)).rowCount).toBe(1);
    });

    it('refuses to run outside an idempotent consumer of this store', async () => {
      const { store } = await setup();
      await expect(store.transaction(async () => undefined)).rejects.toMatchObject({
        code: 'GOMES_ILLEGAL_STATE',
      });
    });
  });
});
