// Idempotent consumers on the real broker with the real Redis and PostgreSQL stores:
// - a member killed (SIGKILL) after its handler's side effect and the ack, before the offset commit:
//   the message is redelivered to the next member of the group, which skips it (handler run once),
//   with each store, and with the marker written in the handler's own PostgreSQL transaction;
// - a member killed inside that transaction: nothing was committed, the next member runs it once;
// - two members racing one message during a rebalance run the handler once.
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { defineEventHandler, Event, type Gomes, type IdempotencyStore } from '@gomes/core';
import { PostgresIdempotencyStore } from '@gomes/idempotency-postgres';
import { RedisIdempotencyStore } from '@gomes/idempotency-redis';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import type pg from 'pg';
import {
  closePools,
  dropTables,
  POSTGRES_URL,
  testPool,
  uniqueTable,
} from '../../../idempotency-postgres/test/support/postgres-test-env.js';
import {
  closeClients,
  REDIS_URL,
  testRedis,
  uniquePrefix,
} from '../../../idempotency-redis/test/support/redis-test-env.js';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, env, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, gate, kafkaGomes } from '../support/gomes-kafka.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/idempotent-member.mjs');

@Event('paymentReceived')
class PaymentReceived {
  constructor(readonly paymentId: string) {}
}

type StoreKind = 'redis' | 'postgres' | 'postgres-tx';

let pool: pg.Pool;
const tables: string[] = [];
const children: ChildProcess[] = [];
beforeAll(async () => {
  pool = await testPool(6);
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await closeAll();
});
afterAll(async () => {
  await dropTables(pool, ...tables);
  await closeClients();
  await closePools();
});

/** A side-effect table (no key: a second write shows) and the store's table or key prefix. */
async function fixture(kind: StoreKind): Promise<{ effects: string; prefix: string }> {
  const effects = uniqueTable('gomes_idem_effects');
  tables.push(effects);
  await pool.query(`CREATE TABLE "${effects}" (member text NOT NULL, payment text NOT NULL)`);
  if (kind === 'redis') return { effects, prefix: uniquePrefix('kafka') };
  const table = uniqueTable('gomes_idem_store');
  tables.push(table);
  return { effects, prefix: table };
}

async function storeOf(kind: StoreKind, prefix: string): Promise<IdempotencyStore> {
  return kind === 'redis'
    ? new RedisIdempotencyStore(await testRedis(), { keyPrefix: prefix })
    : new PostgresIdempotencyStore(pool, { table: prefix });
}

async function effects(table: string): Promise<string[]> {
  const { rows } = await pool.query<{ member: string; payment: string }>(
    `SELECT member, payment FROM "${table}" ORDER BY member`,
  );
  return rows.map((r) => `${r.member}:${r.payment}`);
}

async function publishPayment(topic: string, paymentId: string): Promise<void> {
  const app = kafkaGomes('payments-producer');
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await app.start();
  await app.eventBusByChannel(topic).publish(new PaymentReceived(paymentId));
  await app.shutdown();
}

/** Runs the child member and resolves once it printed `line`. */
async function childUntil(
  vars: Record<string, string>,
  line: 'ACKED' | 'IN_TX',
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, KAFKA_BROKERS: env.brokers.join(','), POSTGRES_URL, REDIS_URL, ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  await waitFor(
    () => {
      if (exited) throw new Error(`the child member exited early:\n${out}`);
      return out.includes(`${line}\n`);
    },
    60_000,
    { intervalMs: 20, description: `the child member to print ${line}` },
  );
  return { child, output: () => out };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The next member of the group: in this process, same store, its handler writes as `parent`. */
async function nextMember(
  kind: StoreKind,
  topic: string,
  group: string,
  prefix: string,
  effectsTable: string,
) {
  const store = await storeOf(kind, prefix);
  const handle = async (payment: PaymentReceived): Promise<void> => {
    const write = `INSERT INTO "${effectsTable}" (member, payment) VALUES ('parent', $1)`;
    if (kind !== 'postgres-tx') await pool.query(write, [payment.paymentId]);
    else
      await (store as PostgresIdempotencyStore).transaction(async (c) => c.query(write, [payment.paymentId]));
  };
  const app: Gomes = kafkaGomes('next-member');
  app
    .addConsumerChannel(
      consumerBuilder(topic, 'ledger')
        .withGroupId(group)
        .withIdempotency(store, { ttlMs: 600_000, leaseMs: 2000 }),
    )
    .addActionHandler(defineEventHandler(PaymentReceived, handle));
  await app.start();
  const consumer = app.eventDrivenConsumer('ledger').withNackDelay(200);
  await consumer.run();
  return consumer;
}

describe.each<StoreKind>(['redis', 'postgres', 'postgres-tx'])(
  'idempotent consumer on Kafka, %s store',
  (kind) => {
    it('a member killed after the handler and the ack, before the commit: the redelivery is skipped', async () => {
      const topic = await createTopic(uniqueTopic(`idem-kill-${kind}`), 1);
      const group = uniqueTopic('g-idem-kill');
      const { effects: effectsTable, prefix } = await fixture(kind);
      await publishPayment(topic, 'p-1');

      const { child } = await childUntil(
        {
          TOPIC: topic,
          GROUP: group,
          STORE: kind,
          PREFIX: prefix,
          EFFECTS: effectsTable,
          KILL_POINT: 'acked',
        },
        'ACKED',
      );
      await kill(child);
      expect(await effects(effectsTable)).toEqual(['child:p-1']);
      expect(await committedOffsets(group, topic)).toEqual([-1]); // so it is delivered again

      const consumer = await nextMember(kind, topic, group, prefix, effectsTable);
      await waitFor(() => consumer.stats.duplicates === 1, 60_000, { description: 'the redelivery' });
      expect(consumer.stats).toMatchObject({ received: 1, succeeded: 0, duplicates: 1, acked: 1 });
      expect(await effects(effectsTable)).toEqual(['child:p-1']);
      await waitFor(async () => (await committedOffsets(group, topic))[0] === 1, 30_000);
    }, 120_000);
  },
);

describe('idempotent consumer on Kafka, marking done in the handler’s PostgreSQL transaction', () => {
  it('a member killed inside its transaction committed nothing; the next member runs the message once', async () => {
    const topic = await createTopic(uniqueTopic('idem-kill-tx'), 1);
    const group = uniqueTopic('g-idem-kill-tx');
    const { effects: effectsTable, prefix } = await fixture('postgres-tx');
    await publishPayment(topic, 'p-2');

    const { child } = await childUntil(
      {
        TOPIC: topic,
        GROUP: group,
        STORE: 'postgres-tx',
        PREFIX: prefix,
        EFFECTS: effectsTable,
        KILL_POINT: 'in-transaction',
      },
      'IN_TX',
    );
    await kill(child);
    const consumer = await nextMember('postgres-tx', topic, group, prefix, effectsTable);
    await waitFor(() => consumer.stats.succeeded === 1, 60_000, { description: 'the redelivery to run' });
    expect(consumer.stats.duplicates).toBe(0);
    expect(await effects(effectsTable)).toEqual(['parent:p-2']);
    const marker = await pool.query(`SELECT done FROM "${prefix}"`);
    expect(marker.rows).toEqual([{ done: true }]);
  }, 120_000);
});

describe.each<StoreKind>(['redis', 'postgres'])(
  'two members racing one message on Kafka, %s store',
  (kind) => {
    it('during a rebalance the new owner is turned away while the old (revoked) one still runs it: one run', async () => {
      const topic = await createTopic(uniqueTopic(`idem-race-${kind}`), 1);
      const group = uniqueTopic('g-idem-race');
      const { prefix } = await fixture(kind);
      const runs: string[] = [];
      const slow = gate();

      const member = async (name: string, clientId: string, work: () => Promise<void>) => {
        const app = kafkaGomes(name, {}, { clientId });
        app
          .addConsumerChannel(
            consumerBuilder(topic, 'ledger')
              .withGroupId(group)
              .withIdempotency(await storeOf(kind, prefix), { ttlMs: 600_000, leaseMs: 2000 }),
          )
          .addActionHandler(
            defineEventHandler(PaymentReceived, async (p) => {
              runs.push(`${name}:${p.paymentId}`);
              await work();
            }),
          );
        await app.start();
        const consumer = app.eventDrivenConsumer('ledger').withNackDelay(200);
        await consumer.run();
        return consumer;
      };
      // Member ids start with the client id; the range/round-robin assignors give the only partition
      // to the first one in order, so `a-…` takes it from `z-…` when it joins.
      const a = await member('a', 'z-old-owner', async () => slow.promise);
      await publishPayment(topic, 'p-3');
      await waitFor(() => runs.length === 1, 30_000);
      const b = await member('b', 'a-new-owner', async () => undefined);
      await waitFor(() => b.stats.nacked >= 1, 60_000, { description: 'the new owner to be turned away' });
      expect(runs).toEqual(['a:p-3']);
      slow.open();
      // The revoke aborted A's attempt (A's handler ignores its signal): A never acks it — the
      // partition is B's — but the handler finished after all, so the key is marked done and B's
      // redelivery is skipped. One run.
      await waitFor(() => b.stats.duplicates === 1, 30_000, { description: 'the redelivery to be skipped' });
      expect(runs).toEqual(['a:p-3']);
      expect(a.stats.succeeded).toBe(0);
      expect(b.stats.succeeded).toBe(0);
    }, 120_000);
  },
);
