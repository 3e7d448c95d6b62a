// PostgresReplayCheckpointStore on the machine's real PostgreSQL: table creation, round trip,
// upsert and delete, and a gomes.replay aborted mid-way that a second instance (another pool, as
// another process would) resumes from the checkpoint stored in PostgreSQL.
import {
  createGomes,
  defineEventHandler,
  Event,
  InMemoryBroker,
  inMemoryConnection,
  inMemoryPublisher,
  type Gomes,
} from '@gomes/core';
import { waitFor } from '@gomes/core/testing';
import { PostgresReplayCheckpointStore } from '@gomes/idempotency-postgres';
import type pg from 'pg';
import { closePools, dropTables, testPool, uniqueTable } from '../support/postgres-test-env.js';

@Event('replayIt.stockMoved')
class StockMoved {
  constructor(
    readonly sku: string,
    readonly seq: number,
  ) {}
}

describe('PostgresReplayCheckpointStore', () => {
  let pool: pg.Pool;
  const tables: string[] = [];
  const instances: Gomes[] = [];
  beforeAll(async () => {
    pool = await testPool(4);
  });
  afterAll(async () => {
    await Promise.all(instances.map(async (g) => g.shutdown()));
    await dropTables(pool, ...tables);
    await closePools();
  });
  const table = (): string => {
    const name = uniqueTable('gomes_replay_it');
    tables.push(name);
    return name;
  };

  it('creates its table on first use and round-trips, replaces and deletes checkpoints', async () => {
    const name = table();
    const stores = Array.from({ length: 4 }, () => new PostgresReplayCheckpointStore(pool, { table: name }));
    await Promise.all(stores.map(async (s) => s.start()));
    const store = stores[0]!;
    expect(await store.load('a')).toBeUndefined();
    const checkpoint = {
      channel: 'orders',
      from: new Date('2026-12-01T10:00:00.123Z'),
      to: new Date('2026-12-01T11:00:00.456Z'),
      offsets: { 0: '17', 2: '9007199254740993' },
      updatedAt: new Date('2026-12-01T12:00:00.789Z'),
    };
    await store.save('a', checkpoint);
    expect(await stores[1]!.load('a')).toEqual(checkpoint);
    await store.save('a', { ...checkpoint, offsets: { 0: '20', 1: '3', 2: '9007199254740999' } });
    expect((await stores[2]!.load('a'))?.offsets).toEqual({ 0: '20', 1: '3', 2: '9007199254740999' });
    await store.delete('a');
    expect(await store.load('a')).toBeUndefined();
    expect(() => new PostgresReplayCheckpointStore(pool, { table: 'x; drop', schema: '1a' })).toThrow(
      /2 problems/,
    );
  });

  it('lets a replay aborted in one instance resume in another: nothing handled twice, nothing missed', async () => {
    const name = table();
    const broker = new InMemoryBroker();
    const seen: string[] = [];
    const controller = new AbortController();
    const instance = async (): Promise<Gomes> => {
      const gomes = createGomes()
        .addChannelConnection(inMemoryConnection('memory', { broker }))
        .addPublisherChannel(inMemoryPublisher('memory', 'stock').withPartitions(2))
        .addActionHandler(
          defineEventHandler(StockMoved, (e) => {
            seen.push(`${e.sku}-${e.seq}`);
            if (seen.length === 13) controller.abort();
          }),
        );
      instances.push(gomes);
      await gomes.start();
      return gomes;
    };
    const first = await instance();
    const from = new Date();
    for (let i = 0; i < 30; i++) {
      await first
        .eventBusByChannel('stock')
        .publish(new StockMoved(`sku${i % 5}`, i), { partitionKey: `sku${i % 5}` });
    }
    const last = Date.now();
    await waitFor(() => Date.now() > last, 1000, { intervalMs: 1 });
    const to = new Date();

    const aborted = await first.replay({
      channel: 'stock',
      from,
      to,
      signal: controller.signal,
      checkpoint: {
        store: new PostgresReplayCheckpointStore(await testPool(2), { table: name }),
        id: 'stock',
        every: 4,
      },
    });
    expect(aborted).toMatchObject({ status: 'aborted', handled: 13 });

    const second = await instance();
    const resumed = await second.replay({
      channel: 'stock',
      from,
      to,
      checkpoint: {
        store: new PostgresReplayCheckpointStore(await testPool(2), { table: name }),
        id: 'stock',
      },
    });
    expect(resumed).toMatchObject({ status: 'completed', handled: 17, skippedCheckpointed: 13 });
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });
});
