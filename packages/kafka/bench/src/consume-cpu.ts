/**
 * Consume CPU probe (not part of `pnpm bench`): pre-fills a 3-partition topic with
 * CPU_RECORDS (30000) 1 KiB JSON records, then alternates raw kafkajs eachBatch + JSON.parse and the
 * gomes consumer variants, CPU_REPS (3) times, and prints msgs/s and this process' CPU µs per
 * consumed record (`process.cpuUsage()` over the whole run, connect to disconnect), median per side.
 * CPU_SIDES picks sides (raw,gomes,nocause,batch; also plt = the platformatic driver, and poison /
 * pltpoison = bench row 2d's 1% poison records on each driver); CPU_PROFILE=<dir> writes a .cpuprofile
 * of each gomes run. Run: node scripts/run-with-kafka.mjs node packages/kafka/bench/dist/consume-cpu.js
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { gomesConnection, gomesAsyncPublish, gomesPublisher } from './gomes-kafka.js';
import { gomesConsume } from './gomes-consume.js';
import { makePayloads } from './payload.js';
import { rawAdmin, rawConsume, type ConsumeResult } from './raw-kafka.js';
import { positiveIntEnv } from './stats.js';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const RECORDS = positiveIntEnv('CPU_RECORDS', 30000);
const REPS = positiveIntEnv('CPU_REPS', 3);
const SIDES = (process.env['CPU_SIDES'] ?? 'raw,gomes,nocause,batch').split(',');
const PROFILE = process.env['CPU_PROFILE'];
const RUN = `gomes-cpu-${Date.now().toString(36)}`;
const TOPIC = `${RUN}-consume`;
const TIMEOUT = 180_000;
/** The poison sides (bench row 2d): every 100th record always throws; 3 attempts 100 ms apart, then the DLQ. */
const POISON = { every: 100, attempts: 3, backoffMs: 100, deadLetterTopic: `${RUN}-dlq` };

const log = (line: string): void => void process.stdout.write(`${line}\n`);

const sides: Record<string, (group: string) => Promise<ConsumeResult>> = {
  raw: async (g) => rawConsume(BROKERS, TOPIC, g, RECORDS, TIMEOUT),
  gomes: async (g) => gomesConsume(BROKERS, TOPIC, g, RECORDS, TIMEOUT, {}),
  nocause: async (g) => gomesConsume(BROKERS, TOPIC, g, RECORDS, TIMEOUT, { inheritCausation: false }),
  batch: async (g) => gomesConsume(BROKERS, TOPIC, g, RECORDS, TIMEOUT, { batchMaxSize: 100 }),
  plt: async (g) => gomesConsume(BROKERS, TOPIC, g, RECORDS, TIMEOUT, { driver: 'platformatic' }),
  poison: async (g) => gomesConsume(BROKERS, TOPIC, g, RECORDS, TIMEOUT, { poison: POISON }),
  pltpoison: async (g) =>
    gomesConsume(BROKERS, TOPIC, g, RECORDS, TIMEOUT, { driver: 'platformatic', poison: POISON }),
};

async function measure(name: string, rep: number): Promise<{ rate: number; cpu: number }> {
  const session = PROFILE && name !== 'raw' ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const heap = process.env['CPU_HEAP'] && name !== 'raw' ? new Session() : undefined;
  if (heap) {
    heap.connect();
    await heap.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
  }
  const before = process.cpuUsage();
  const result = await sides[name]!(`${RUN}-${name}-${rep}`);
  const used = process.cpuUsage(before);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${PROFILE}/${name}-${rep}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
  if (heap) {
    const { profile } = await heap.post('HeapProfiler.stopSampling');
    writeFileSync(`${process.env['CPU_HEAP']}/${name}-${rep}.heapprofile`, JSON.stringify(profile));
    heap.disconnect();
  }
  if (result.count !== RECORDS) throw new Error(`${name}: ${result.count}/${RECORDS}`);
  return { rate: result.msgsPerSec, cpu: (used.user + used.system) / RECORDS };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const admin = await rawAdmin(BROKERS);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: TOPIC, numPartitions: 3, replicationFactor: 1 },
      { topic: POISON.deadLetterTopic, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  try {
    const connection = await gomesConnection(BROKERS);
    const filler = await gomesPublisher(connection, TOPIC, 'async');
    await gomesAsyncPublish(filler, makePayloads(RECORDS, RUN));
    await filler.close();
    await connection.disconnect();
    log(`node ${process.version}: ${RECORDS} records, sides ${SIDES.join(',')}`);
    for (const s of SIDES) await measure(s, 0); // warm-up
    const got: Record<string, { rate: number; cpu: number }[]> = {};
    for (let rep = 1; rep <= REPS; rep++)
      for (const s of SIDES) {
        const r = await measure(s, rep);
        (got[s] ??= []).push(r);
        log(`  rep ${rep} ${s.padEnd(8)} ${Math.round(r.rate)} msgs/s ${r.cpu.toFixed(1)} µs/record`);
      }
    for (const s of SIDES) {
      const rs = got[s]!;
      log(
        `${s.padEnd(8)} median ${Math.round(median(rs.map((r) => r.rate)))} msgs/s, ${median(rs.map((r) => r.cpu)).toFixed(1)} CPU µs/record (${rs.map((r) => r.cpu.toFixed(1)).join(' ')})`,
      );
    }
  } finally {
    await admin.deleteTopics({ topics: [TOPIC, POISON.deadLetterTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);
