/**
 * Example 07 — an idempotent consumer with PostgreSQL.
 *
 * `ledger` consumes `payments` and books each payment as a row of `ledger_entries`. It is made
 * idempotent with `withIdempotency(PostgresIdempotencyStore, { ttlMs })`, and its handler writes
 * the row through `store.transaction(...)`, so the ledger row and the "processed" marker of the
 * message commit together — or roll back together:
 *
 * 1. payments p-1 and p-2 are booked;
 * 2. the producer sends p-1 again with the same messageId (a producer retry after a lost
 *    acknowledgement): the consumer skips it without running the handler (a duplicate);
 * 3. p-3's first attempt fails after writing its row: the transaction rolls back (no row, no
 *    marker), the message is retried and booked once.
 *
 * Everything lives in a schema of its own, dropped at the end. Needs PostgreSQL: DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/test.
 *
 * Run: pnpm build && node examples/07-idempotent-consumer/dist/main.js
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { IsIn, IsPositive, IsString } from 'class-validator';
import {
  Event,
  createGomes,
  defineEventHandler,
  inMemoryConnection,
  inMemoryConsumer,
  inMemoryPublisher,
  MessageBuilder,
  PARTITION_KEY_HEADER,
  type HandlerContext,
} from '@gomes/core';
import { PostgresIdempotencyStore } from '@gomes/idempotency-postgres';
import pg from 'pg';

@Event('paymentReceived')
class PaymentReceived {
  @IsString() paymentId: string;
  @IsPositive() amount: number;
  @IsString() @IsIn(['EUR', 'USD']) currency: string;
  constructor(paymentId: string, amount: number, currency: string) {
    this.paymentId = paymentId;
    this.amount = amount;
    this.currency = currency;
  }
}

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `example07_${randomBytes(4).toString('hex')}`;
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
await pool.query(`CREATE SCHEMA ${schema}`);
await pool.query(
  `CREATE TABLE ${schema}.ledger_entries (payment_id text NOT NULL, amount numeric NOT NULL, currency text NOT NULL)`,
);
console.log(`== PostgreSQL ${new URL(databaseUrl).host}, schema ${schema}`);

const store = new PostgresIdempotencyStore(pool, { schema, table: 'processed_messages' });
let failNextBookingOf: string | undefined = 'p-3';

async function book(payment: PaymentReceived, context: HandlerContext): Promise<void> {
  const outcome = await store.transaction(async (client) => {
    await client.query(`INSERT INTO ${schema}.ledger_entries VALUES ($1, $2, $3)`, [
      payment.paymentId,
      payment.amount,
      payment.currency,
    ]);
    if (failNextBookingOf === payment.paymentId) {
      failNextBookingOf = undefined;
      throw new Error('ledger service timed out after the row was written');
    }
  });
  if (!outcome.duplicate) {
    console.log(
      `[ledger] booked ${payment.paymentId}: ${payment.amount} ${payment.currency} (attempt ${context.attempt})`,
    );
  }
}

const app = createGomes({ name: 'example-07' })
  .addChannelConnection(inMemoryConnection('memory'))
  .addPublisherChannel(inMemoryPublisher('memory', 'payments'))
  .addConsumerChannel(
    inMemoryConsumer('memory', 'payments', 'ledger')
      .withRetry({ maxAttempts: 3, initialDelayMs: 20 })
      .withIdempotency(store, { ttlMs: 7 * 24 * 3600_000 }),
  )
  .addActionHandler(
    defineEventHandler(PaymentReceived, async (payment, context) => {
      try {
        await book(payment, context);
      } catch (error) {
        console.log(`[ledger] ${payment.paymentId}: ${(error as Error).message} -> rolled back, retried`);
        throw error;
      }
    }),
  );
await app.start(); // creates ${schema}.processed_messages
const consumer = app.eventDrivenConsumer('ledger');
await consumer.run();

const sent = new Map<string, string>();
async function send(payment: PaymentReceived, messageId?: string): Promise<void> {
  const builder = MessageBuilder.withPayload(payment)
    .route('paymentReceived')
    .messageType('Event')
    .header(PARTITION_KEY_HEADER, payment.paymentId);
  const message = (messageId ? builder.messageId(messageId) : builder).build();
  await app.publisherChannel('payments').send(message);
  sent.set(payment.paymentId, message.messageId);
}

const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
};

await send(new PaymentReceived('p-1', 100, 'EUR'));
await send(new PaymentReceived('p-2', 250, 'USD'));
await until(() => consumer.stats.acked === 2);
console.log('[producer] re-sending p-1 with the same messageId (a producer retry)');
await send(new PaymentReceived('p-1', 100, 'EUR'), sent.get('p-1'));
await until(() => consumer.stats.duplicates === 1);
console.log('[ledger] p-1 again: already processed -> skipped, acked');
await send(new PaymentReceived('p-3', 75, 'EUR'));
await until(() => consumer.stats.acked === 4);

const { rows } = await pool.query<{ payment_id: string; amount: string }>(
  `SELECT payment_id, amount FROM ${schema}.ledger_entries ORDER BY payment_id`,
);
console.log(`ledger_entries: ${rows.map((r) => `${r.payment_id}=${r.amount}`).join(', ')}`);
const markers = await pool.query<{ n: string }>(
  `SELECT count(*) AS n FROM ${schema}.processed_messages WHERE done`,
);
console.log(`processed_messages: ${markers.rows[0]?.n} done`);
const s = consumer.stats;
console.log(
  `stats: received=${s.received} succeeded=${s.succeeded} duplicates=${s.duplicates} retried=${s.retried} failed=${s.failed}`,
);

await app.shutdown();
await pool.query(`DROP SCHEMA ${schema} CASCADE`);
await pool.end();
console.log('done');
