/**
 * Example 08 — replaying a time window of a channel, with a checkpoint.
 *
 * `meter-readings` carries the readings of electricity meters. A report of the kWh consumed per
 * meter during one maintenance window is wanted after the fact, so the window is **replayed**:
 * `gomes.replay({ channel, from, to, checkpoint })` reads the channel from the first record at
 * `from` up to before the first one at `to`, in offset order per partition (so per meter), and
 * runs the registered `MeterRead` handler on each record.
 *
 * 1. readings are published before the window, inside it and after it;
 * 2. the first replay run is stopped after 7 records (an operator pressing Ctrl-C: its
 *    `AbortSignal`); its checkpoint — the next offset of each partition — is in PostgreSQL;
 * 3. a second run with the same checkpoint id resumes there: it handles the other records of the
 *    window, none of the first run's again, and none outside the window.
 *
 * The checkpoint table lives in a schema of its own, dropped at the end. Needs PostgreSQL:
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 *
 * Run: pnpm build && node examples/08-replay/dist/main.js
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { IsInt, IsPositive, IsString } from 'class-validator';
import {
  Event,
  createGomes,
  defineEventHandler,
  inMemoryConnection,
  inMemoryPublisher,
  type ReplayReport,
} from '@gomes/core';
import { PostgresReplayCheckpointStore } from '@gomes/idempotency-postgres';
import pg from 'pg';

@Event('meterRead')
class MeterRead {
  @IsString() meter: string;
  @IsPositive() kwh: number;
  @IsInt() seq: number;
  constructor(meter: string, kwh: number, seq: number) {
    this.meter = meter;
    this.kwh = kwh;
    this.seq = seq;
  }
}

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `example08_${randomBytes(4).toString('hex')}`;
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
await pool.query(`CREATE SCHEMA ${schema}`);
console.log(`== PostgreSQL ${new URL(databaseUrl).host}, schema ${schema}`);

// The read model the replay rebuilds: kWh per meter, and what was counted (to show no double count).
const totals = new Map<string, number>();
const counted = new Set<string>();
let stopAfter = 7;
const operator = new AbortController();

const app = createGomes({ name: 'example-08' })
  .addChannelConnection(inMemoryConnection('memory'))
  .addPublisherChannel(inMemoryPublisher('memory', 'meter-readings').withPartitions(2))
  .addActionHandler(
    defineEventHandler(MeterRead, (reading) => {
      const id = `${reading.meter}#${reading.seq}`;
      if (counted.has(id)) throw new Error(`${id} counted twice`);
      counted.add(id);
      totals.set(reading.meter, (totals.get(reading.meter) ?? 0) + reading.kwh);
      if (--stopAfter === 0) {
        console.log('[operator] Ctrl-C after 7 records');
        operator.abort();
      }
    }),
  );
await app.start();

const meters = ['m-1', 'm-2', 'm-3'];
async function publish(label: string, count: number, kwh: number): Promise<void> {
  const bus = app.eventBusByChannel('meter-readings');
  for (let seq = 0; seq < count; seq++) {
    const meter = meters[seq % meters.length]!;
    await bus.publish(new MeterRead(meter, kwh, seq), { partitionKey: meter });
  }
  console.log(`[meters] ${count} readings ${label} (${kwh} kWh each)`);
}
/** A time after every record written so far: waits for the clock to move on by a millisecond. */
async function instantAfterLastRecord(): Promise<Date> {
  const last = Date.now();
  while (Date.now() <= last) await new Promise((resolve) => setTimeout(resolve, 1));
  return new Date();
}

await publish('before the window', 6, 100);
const from = await instantAfterLastRecord();
await publish('inside the window', 18, 1);
const to = await instantAfterLastRecord();
await publish('after the window', 6, 100);

const checkpoints = new PostgresReplayCheckpointStore(pool, { schema, table: 'replay_checkpoints' });
const describe = (report: ReplayReport): string =>
  `status=${report.status} handled=${report.handled} failed=${report.failed} ` +
  `skippedCheckpointed=${report.skippedCheckpointed} partitions=${report.partitions
    .map((p) => `${p.partition}:next=${p.nextOffset}`)
    .join(',')}`;
const window = {
  channel: 'meter-readings',
  from,
  to,
  checkpoint: { store: checkpoints, id: 'maintenance-window-report', every: 5 },
};

const first = await app.replay({ ...window, signal: operator.signal });
console.log(`[replay 1] ${describe(first)}`);
const saved = await checkpoints.load('maintenance-window-report');
console.log(`[checkpoint] next offsets ${JSON.stringify(saved?.offsets)}`);

const second = await app.replay(window);
console.log(`[replay 2] ${describe(second)}`);

console.log(
  `kWh in the window: ${[...totals].map(([meter, kwh]) => `${meter}=${kwh}`).join(', ')} (${counted.size} readings)`,
);

await app.shutdown();
await pool.query(`DROP SCHEMA ${schema} CASCADE`);
await pool.end();
console.log('done');
