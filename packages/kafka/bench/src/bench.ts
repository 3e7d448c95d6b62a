/**
 * gomes vs raw kafkajs on one broker, in one run (`pnpm bench`):
 *   1. batched publish throughput (against raw kafkajs sending identical records, and key + value),
 *   2. consume throughput, 3. awaited single-publish latency, and the Java reference (Kafka's own
 *   ProducerPerformance / ConsumerPerformance on the same broker), 4. Avro vs JSON through gomes.
 * Prints the results and writes them, with the in-process results of `pnpm bench:inprocess`
 * (`.bench/inprocess.json`), the environment and the method, to docs/benchmarks.md.
 *
 * Every gomes scenario runs on each Kafka driver (BENCH_DRIVERS, default kafkajs,platformatic), with
 * raw kafkajs and raw @platformatic/kafka as anchors in the same run.
 *
 * Knobs (environment): BENCH_REPS (5), BENCH_PUBLISH_MESSAGES (20000), BENCH_CONSUME_MESSAGES (30000),
 * BENCH_LATENCY_SENDS (500), BENCH_WRITE_DOCS (1; 0 = print only), BENCH_ONLY (publish,latency,consume,java,avro),
 * BENCH_DRIVERS (kafkajs,platformatic).
 * The avro scenario (4: gomes Avro vs gomes JSON) needs a schema registry: `pnpm bench` starts one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import {
  busFrames,
  captureBusRecord,
  channelFrames,
  checkSameShape,
  gomesAsyncPublish,
  gomesConcurrentPublish,
  gomesConnection,
  gomesEventBusPublish,
  gomesPublisher,
  gomesSingleLatencies,
  gomesWithPublisher,
} from './gomes-kafka.js';
import type { KafkaDriverName } from '@gomes/kafka';
import { gomesConsume, type ConsumeTuning } from './gomes-consume.js';
import { avroPublisher, benchAvroSerializer, benchRegistry } from './avro-kafka.js';
import {
  rawPlatformaticBatchedPublish,
  rawPlatformaticConsume,
  rawPlatformaticIdenticalPublish,
  rawPlatformaticProducer,
  rawPlatformaticSingleLatencies,
} from './raw-platformatic.js';
import { benchmarksMarkdown, type JavaRows } from './benchmarks-doc.js';
import { readInProcessRun } from './inprocess-report.js';
import {
  javaConsumerPerformance,
  javaProducerPerformance,
  javaVersion,
  perfToolsClasspath,
} from './java-reference.js';
import { makePayloads, PAYLOAD_BYTES, type BenchPayload } from './payload.js';
import {
  rawAdmin,
  rawBatchedPublish,
  rawConsume,
  rawIdenticalPublish,
  rawProducer,
  rawSingleLatencies,
  type ConsumeResult,
  type RecordFrame,
} from './raw-kafka.js';
import {
  AVRO_VS_JSON_HEADER,
  publishTextTable,
  textTable,
  type PublishRow,
  type ResultRow,
} from './report.js';
import { percentile, positiveIntEnv, spread, type Spread } from './stats.js';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const REPS = positiveIntEnv('BENCH_REPS', 5);
const PUBLISH_MESSAGES = positiveIntEnv('BENCH_PUBLISH_MESSAGES', 20000);
const CONSUME_MESSAGES = positiveIntEnv('BENCH_CONSUME_MESSAGES', 30000);
const LATENCY_SENDS = positiveIntEnv('BENCH_LATENCY_SENDS', 500);
const WRITE_DOCS = process.env['BENCH_WRITE_DOCS'] !== '0';
const ONLY = new Set((process.env['BENCH_ONLY'] ?? 'publish,latency,consume,java,avro').split(','));
const PARTITIONS = 3;
/** Records per produce request: gomes' default `batchSize`, and the raw side's batch. */
const BATCH_SIZE = 100;
/**
 * Sends awaiting their ack at once in the gomes concurrent-send scenarios: two requests' worth, so
 * one request is in flight while the next one fills (the raw side has one request of
 * `BATCH_SIZE` in flight). The informational rows use `DEEP_WINDOW`: more sends queue in the
 * channel, and their records live long enough to be promoted by the garbage collector.
 */
const WINDOW = 2 * BATCH_SIZE;
const DEEP_WINDOW = 1000;
const WARMUP_PUBLISH = 5000;
const WARMUP_LATENCY = 100;
const WARMUP_CONSUME = 5000;
const CONSUME_TIMEOUT_MS = 120_000;
/** Poison row (issue 9): every 100th record always throws; 3 attempts 100 ms apart, then dead-lettered. */
const POISON_EVERY = 100;
const POISON_ATTEMPTS = 3;
const POISON_BACKOFF_MS = 100;
/**
 * Java reference: each run is a fresh JVM that compiles while it runs, so it measures the steady
 * state of `JAVA_RECORDS` records after `JAVA_WARMUP` warm-up records.
 */
const JAVA_WARMUP = PUBLISH_MESSAGES;
const JAVA_RECORDS = 2 * PUBLISH_MESSAGES;
/** Done-when of issue 8 (gomes / raw kafkajs sending identical records, median of the runs). */
const TARGET_SYNC = 0.95;
const TARGET_EVENT_BUS = 0.9;
/**
 * The platformatic driver (issue 10): publish ≥ 90% of raw @platformatic/kafka with the same records
 * (and ≥ 150% of raw kafkajs key + value, read in the key + value column); consume ≥ 100% of raw
 * kafkajs eachBatch and ≥ 90% of raw @platformatic/kafka.
 */
const TARGET_PLATFORMATIC_IDENTICAL = 0.9;
/** Issue 10: gomes on the platformatic driver publishes ≥ 150% of raw kafkajs key + value. */
const TARGET_PLATFORMATIC_KEY_VALUE = 1.5;
/** The gomes drivers measured (every scenario runs on each), knob BENCH_DRIVERS. */
const DRIVERS: KafkaDriverName[] = (process.env['BENCH_DRIVERS'] ?? 'kafkajs,platformatic')
  .split(',')
  .map((d) => {
    if (d !== 'kafkajs' && d !== 'platformatic') throw new Error(`BENCH_DRIVERS: unknown driver ${d}`);
    return d;
  });
const ON_PLATFORMATIC = DRIVERS.includes('platformatic');
const ON_KAFKAJS = DRIVERS.includes('kafkajs');
/** Whether the Avro scenario's consume topics were pre-filled (by the first driver's run). */
let avroFilled = false;

const RUN = `gomes-bench-${Date.now().toString(36)}`;
const topics = {
  publish: `${RUN}-publish`,
  latency: `${RUN}-latency`,
  consume: `${RUN}-consume`,
  warm: `${RUN}-consume-warmup`,
  consumeDlq: `${RUN}-consume-dlq`,
  java: `${RUN}-java`,
  avroPublish: `${RUN}-avro-publish`,
  avroJson: `${RUN}-avro-json-consume`,
  avroAvro: `${RUN}-avro-avro-consume`,
};

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmtRate = (v: number): string => `${Math.round(v).toLocaleString('en-US')} msgs/s`;
const fmtLoad = (load: readonly number[]): string => load.map((l) => l.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  const t0 = Date.now();
  log(`gomes Kafka benchmark: brokers ${BROKERS.join(',')}, ${REPS} reps, run ${RUN}`);
  log(`load average (1/5/15 min) before: ${fmtLoad(loadBefore)} on ${os.cpus().length} cores`);
  const v = versions();
  const admin = await rawAdmin(BROKERS);
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({
      topic,
      numPartitions: PARTITIONS,
      replicationFactor: 1,
    })),
  });
  const rows: ResultRow[] = [];
  /** Avro vs JSON rows (both gomes, same payload objects): `raw` is JSON, `gomes` is Avro. */
  const avroRows: ResultRow[] = [];
  let publishRows: PublishRow[] = [];
  const java: JavaRows = { producer: undefined, consumer: undefined, javaVersion: javaVersion() };
  try {
    if (ONLY.has('publish') || ONLY.has('latency')) {
      const measured = await publishScenarios();
      publishRows = measured.publish;
      rows.push(...measured.latency);
    }
    if (ONLY.has('consume')) rows.push(...(await consumeScenarios(admin)));
    if (ONLY.has('java')) Object.assign(java, await javaScenarios(v.kafka, ONLY.has('consume')));
    if (ONLY.has('avro')) for (const driver of DRIVERS) avroRows.push(...(await avroScenarios(driver)));
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
  // Scenario order (2, 2b, 2c, 3a, 3b), whatever order they were measured in.
  rows.sort((a, b) => a.scenario.localeCompare(b.scenario, 'en'));
  const loadAfter = os.loadavg();
  const seconds = (Date.now() - t0) / 1000;
  log('');
  if (publishRows.length > 0) log(publishTextTable(publishRows));
  if (rows.length > 0) log(`\n${textTable(rows)}`);
  if (avroRows.length > 0) log(`\n${textTable(avroRows, AVRO_VS_JSON_HEADER)}`);
  if (java.producer) log(`Java ProducerPerformance: ${fmtSpread(java.producer)}`);
  if (java.consumer) log(`Java ConsumerPerformance: ${fmtSpread(java.consumer)}`);
  log(
    `\nload average (1/5/15 min) before ${fmtLoad(loadBefore)}, after ${fmtLoad(loadAfter)}; ${seconds.toFixed(0)} s`,
  );
  if (WRITE_DOCS) {
    const path = fileURLToPath(new URL('../../../../docs/benchmarks.md', import.meta.url));
    writeFileSync(
      path,
      benchmarksMarkdown({
        inProcess: readInProcessRun(),
        publish: publishRows,
        rows,
        avro: avroRows,
        java,
        environment: {
          started,
          loadBefore,
          loadAfter,
          seconds,
          brokers: BROKERS,
          ...v,
        },
        settings: {
          reps: REPS,
          publishMessages: PUBLISH_MESSAGES,
          consumeMessages: CONSUME_MESSAGES,
          latencySends: LATENCY_SENDS,
          partitions: PARTITIONS,
          batchSize: BATCH_SIZE,
          window: WINDOW,
          deepWindow: DEEP_WINDOW,
          publishSlices: PUBLISH_SLICES,
          javaRecords: JAVA_RECORDS,
          javaWarmup: JAVA_WARMUP,
          warmupPublish: WARMUP_PUBLISH,
          warmupLatency: WARMUP_LATENCY,
          warmupConsume: WARMUP_CONSUME,
          payloadBytes: PAYLOAD_BYTES,
        },
      }),
    );
    log(`written to ${path}`);
  }
}

function fmtSpread(s: Spread): string {
  return `${fmtRate(s.median)} (${fmtRate(s.min)}–${fmtRate(s.max)})`;
}

/**
 * One side of a publish scenario: per run, the messages it sent, the wall time and this process'
 * CPU time they took (summed over the run's slices), and from them msgs/s and CPU µs per message.
 */
class Side {
  readonly rates: number[] = [];
  readonly cpu: number[] = [];
  #messages = 0;
  #seconds = 0;
  #cpuMicros = 0;
  constructor(
    readonly label: string,
    /** Sends `payloads` (with their record frames) once; resolves to msgs/s. */
    readonly run: (payloads: readonly BenchPayload[], frames: Frames) => Promise<number>,
  ) {}

  /** Runs one slice and adds it to the current run. */
  async slice(payloads: readonly BenchPayload[], frames: Frames): Promise<void> {
    const before = process.cpuUsage();
    const rate = await this.run(payloads, frames);
    const used = process.cpuUsage(before);
    this.#messages += payloads.length;
    this.#seconds += payloads.length / rate;
    this.#cpuMicros += used.user + used.system;
  }

  /** Closes the current run. */
  endRun(): void {
    this.rates.push(this.#messages / this.#seconds);
    this.cpu.push(this.#cpuMicros / this.#messages);
    this.#messages = 0;
    this.#seconds = 0;
    this.#cpuMicros = 0;
  }

  last(): string {
    return `${this.label} ${fmtRate(this.rates.at(-1)!)} (${this.cpu.at(-1)!.toFixed(1)} µs CPU/msg)`;
  }
}

/** The record frames gomes would send for a slice of payloads: channel sends and event-bus sends. */
interface Frames {
  readonly channel: readonly RecordFrame[];
  readonly bus: readonly RecordFrame[];
}

/** Slices per publish run: the sides take turns every slice (see `publishScenarios`). */
const PUBLISH_SLICES = 2;

async function publishScenarios(): Promise<{ publish: PublishRow[]; latency: ResultRow[] }> {
  const payloads = makePayloads(PUBLISH_MESSAGES, RUN);
  const warm = makePayloads(WARMUP_PUBLISH, RUN, PUBLISH_MESSAGES);
  const singles = makePayloads(LATENCY_SENDS, RUN, PUBLISH_MESSAGES + WARMUP_PUBLISH);
  // The records gomes sends, made before the clock starts for the raw side (keys and headers).
  const frames = { channel: channelFrames(payloads), bus: busFrames(payloads, topics.publish) };
  const warmFrames = { channel: channelFrames(warm), bus: busFrames(warm, topics.publish) };
  checkSameShape('event bus', frames.bus[0]!, await captureBusRecord(BROKERS, topics.publish, payloads[0]!));
  const producer = await rawProducer(BROKERS);
  const connection = await gomesConnection(BROKERS);
  const sync = await gomesPublisher(connection, topics.publish, 'sync');
  const async = await gomesPublisher(connection, topics.publish, 'async');
  const latencyChannel = await gomesPublisher(connection, topics.latency, 'sync');
  const app = await gomesWithPublisher(BROKERS, topics.publish);
  // The platformatic side: raw @platformatic/kafka, and gomes on the platformatic driver.
  const plt = rawPlatformaticProducer(BROKERS);
  const pConnection = await gomesConnection(BROKERS, 'platformatic');
  const pSync = await gomesPublisher(pConnection, topics.publish, 'sync');
  const pAsync = await gomesPublisher(pConnection, topics.publish, 'async');
  const pLatencyChannel = await gomesPublisher(pConnection, topics.latency, 'sync');
  const pApp = await gomesWithPublisher(BROKERS, topics.publish, 'platformatic');
  const publish: PublishRow[] = [];
  const latency: ResultRow[] = [];
  try {
    log('warm-up ...');
    if (ON_PLATFORMATIC) {
      await rawPlatformaticBatchedPublish(plt, topics.publish, warm, BATCH_SIZE);
      await rawPlatformaticIdenticalPublish(plt, topics.publish, warm, warmFrames.channel, BATCH_SIZE);
      await gomesConcurrentPublish(pSync, warm, WINDOW);
      await gomesAsyncPublish(pAsync, warm);
      await gomesEventBusPublish(pApp, topics.publish, warm, WINDOW);
      await rawPlatformaticSingleLatencies(plt, topics.latency, warm.slice(0, WARMUP_LATENCY));
      await gomesSingleLatencies(pLatencyChannel, warm.slice(0, WARMUP_LATENCY));
    }
    await rawBatchedPublish(producer, topics.publish, warm, BATCH_SIZE);
    await rawIdenticalPublish(producer, topics.publish, warm, warmFrames.channel, BATCH_SIZE);
    await rawIdenticalPublish(producer, topics.publish, warm, warmFrames.bus, BATCH_SIZE);
    await gomesConcurrentPublish(sync, warm, WINDOW);
    await gomesConcurrentPublish(sync, warm, DEEP_WINDOW);
    await gomesAsyncPublish(async, warm);
    await gomesEventBusPublish(app, topics.publish, warm, WINDOW);
    await gomesEventBusPublish(app, topics.publish, warm, DEEP_WINDOW);
    await rawSingleLatencies(producer, topics.latency, warm.slice(0, WARMUP_LATENCY));
    await gomesSingleLatencies(latencyChannel, warm.slice(0, WARMUP_LATENCY));

    if (ONLY.has('publish')) {
      const keyValue = new Side('raw key+value', async (p) =>
        rawBatchedPublish(producer, topics.publish, p, BATCH_SIZE),
      );
      const identical = new Side('raw identical', async (p, f) =>
        rawIdenticalPublish(producer, topics.publish, p, f.channel, BATCH_SIZE),
      );
      const gSync = new Side('gomes sync', async (p) => gomesConcurrentPublish(sync, p, WINDOW));
      const gSyncDeep = new Side(`gomes sync ×${DEEP_WINDOW}`, async (p) =>
        gomesConcurrentPublish(sync, p, DEEP_WINDOW),
      );
      const gAsync = new Side('gomes async', async (p) => gomesAsyncPublish(async, p));
      const identicalBus = new Side('raw identical (bus records)', async (p, f) =>
        rawIdenticalPublish(producer, topics.publish, p, f.bus, BATCH_SIZE),
      );
      const gBus = new Side('gomes event bus', async (p) =>
        gomesEventBusPublish(app, topics.publish, p, WINDOW),
      );
      const gBusDeep = new Side(`gomes event bus ×${DEEP_WINDOW}`, async (p) =>
        gomesEventBusPublish(app, topics.publish, p, DEEP_WINDOW),
      );
      const pKeyValue = new Side('raw platformatic key+value', async (p) =>
        rawPlatformaticBatchedPublish(plt, topics.publish, p, BATCH_SIZE),
      );
      const pIdentical = new Side('raw platformatic identical', async (p, f) =>
        rawPlatformaticIdenticalPublish(plt, topics.publish, p, f.channel, BATCH_SIZE),
      );
      const pIdenticalBus = new Side('raw platformatic identical (bus records)', async (p, f) =>
        rawPlatformaticIdenticalPublish(plt, topics.publish, p, f.bus, BATCH_SIZE),
      );
      const pSyncSide = new Side('gomes[platformatic] sync', async (p) =>
        gomesConcurrentPublish(pSync, p, WINDOW),
      );
      const pSyncDeep = new Side(`gomes[platformatic] sync ×${DEEP_WINDOW}`, async (p) =>
        gomesConcurrentPublish(pSync, p, DEEP_WINDOW),
      );
      const pAsyncSide = new Side('gomes[platformatic] async', async (p) => gomesAsyncPublish(pAsync, p));
      const pBus = new Side('gomes[platformatic] event bus', async (p) =>
        gomesEventBusPublish(pApp, topics.publish, p, WINDOW),
      );
      const pBusDeep = new Side(`gomes[platformatic] event bus ×${DEEP_WINDOW}`, async (p) =>
        gomesEventBusPublish(pApp, topics.publish, p, DEEP_WINDOW),
      );
      // raw kafkajs key + value is every row's second anchor: it runs whatever the drivers.
      const sides = [
        keyValue,
        ...(ON_KAFKAJS ? [identical, gSync, gSyncDeep, gAsync, identicalBus, gBus, gBusDeep] : []),
        ...(ON_PLATFORMATIC
          ? [pKeyValue, pIdentical, pSyncSide, pSyncDeep, pAsyncSide, pIdenticalBus, pBus, pBusDeep]
          : []),
      ];
      const sliceLength = Math.ceil(payloads.length / PUBLISH_SLICES);
      for (let rep = 1; rep <= REPS; rep++) {
        // A run is made of slices; every slice each side sends its share of the messages, the
        // sides taking turns in an order rotated (and reversed) from slice to slice, so a load
        // change on the shared machine does not favour one side.
        for (let slice = 0; slice < PUBLISH_SLICES; slice++) {
          const from = slice * sliceLength;
          const part = payloads.slice(from, from + sliceLength);
          const frameSlice = {
            channel: frames.channel.slice(from, from + sliceLength),
            bus: frames.bus.slice(from, from + sliceLength),
          };
          const shift = ((rep - 1) * PUBLISH_SLICES + slice) % sides.length;
          const order = [...sides.slice(shift), ...sides.slice(0, shift)];
          for (const side of slice % 2 === 0 ? order : order.reverse()) await side.slice(part, frameSlice);
        }
        for (const side of sides) side.endRun();
        log(`publish rep ${rep}: ${sides.map((side) => side.last()).join(', ')}`);
      }
      const row = (
        scenario: string,
        gomes: Side,
        anchor: Side,
        target: number | undefined,
        keyValueTarget?: number,
      ): PublishRow => ({
        scenario,
        gomes: spread(gomes.rates),
        identical: spread(anchor.rates),
        keyValue: spread(keyValue.rates),
        cpu: { gomes: spread(gomes.cpu), identical: spread(anchor.cpu) },
        runRatios: gomes.rates.map((rate, i) => rate / anchor.rates[i]!),
        target,
        keyValueRunRatios: gomes.rates.map((rate, i) => rate / keyValue.rates[i]!),
        keyValueTarget,
      });
      if (ON_KAFKAJS)
        publish.push(
          row(`1a. gomes sync channel, ${WINDOW} concurrent awaited sends`, gSync, identical, TARGET_SYNC),
          row(`1a'. the same, ${DEEP_WINDOW} concurrent awaited sends`, gSyncDeep, identical, undefined),
          row('1b. gomes async channel (withAsync) + flush', gAsync, identical, undefined),
          row(
            `1c. gomes eventBusByChannel().publish, ${WINDOW} concurrent`,
            gBus,
            identicalBus,
            TARGET_EVENT_BUS,
          ),
          row(`1c'. the same, ${DEEP_WINDOW} concurrent`, gBusDeep, identicalBus, undefined),
        );
      // The platformatic driver against raw @platformatic/kafka sending the same records (the
      // key + value column stays raw kafkajs: issue 10's "≥ 1.5× raw kafkajs key + value").
      if (ON_PLATFORMATIC)
        publish.push(
          row(
            `1a. [platformatic] gomes sync channel, ${WINDOW} concurrent (vs raw platformatic; ≥ 150% of kafkajs key + value wanted)`,
            pSyncSide,
            pIdentical,
            TARGET_PLATFORMATIC_IDENTICAL,
            TARGET_PLATFORMATIC_KEY_VALUE,
          ),
          row(`1a'. [platformatic] the same, ${DEEP_WINDOW} concurrent`, pSyncDeep, pIdentical, undefined),
          row(
            '1b. [platformatic] gomes async channel (withAsync) + flush',
            pAsyncSide,
            pIdentical,
            undefined,
          ),
          row(
            `1c. [platformatic] gomes eventBusByChannel().publish, ${WINDOW} concurrent`,
            pBus,
            pIdenticalBus,
            undefined,
          ),
          row(`1c'. [platformatic] the same, ${DEEP_WINDOW} concurrent`, pBusDeep, pIdenticalBus, undefined),
          // The anchors themselves against raw kafkajs key + value: what the platformatic rows can
          // reach at most in this run (the "gomes" column is the raw client here).
          row(
            "1d. [platformatic] raw @platformatic/kafka sending gomes' records (key, value, 7 headers): the ceiling of 1a–1c in the key + value column",
            pIdentical,
            pIdentical,
            undefined,
          ),
          row(
            '1e. [platformatic] raw @platformatic/kafka, key + value only',
            pKeyValue,
            pIdentical,
            undefined,
          ),
        );
      if (ON_PLATFORMATIC)
        log(
          `raw platformatic key + value: ${fmtSpread(spread(pKeyValue.rates))} (${((spread(pKeyValue.rates).median / spread(keyValue.rates).median) * 100).toFixed(1)}% of raw kafkajs key + value)`,
        );
    }

    if (ONLY.has('latency')) {
      /** Awaited single sends of one side: p50 and p99 per run. */
      const sender = (send: (p: readonly BenchPayload[]) => Promise<number[]>) => ({
        send,
        p50: [] as number[],
        p99: [] as number[],
      });
      const raw = sender(async (p) => rawSingleLatencies(producer, topics.latency, p));
      const g = sender(async (p) => gomesSingleLatencies(latencyChannel, p));
      const pRaw = sender(async (p) => rawPlatformaticSingleLatencies(plt, topics.latency, p));
      const pG = sender(async (p) => gomesSingleLatencies(pLatencyChannel, p));
      const senders = [...(ON_KAFKAJS ? [raw, g] : []), ...(ON_PLATFORMATIC ? [pRaw, pG] : [])];
      for (let rep = 1; rep <= REPS; rep++) {
        const order = rep % 2 === 1 ? senders : [...senders].reverse();
        for (const side of order) {
          const l = await side.send(singles);
          side.p50.push(percentile(l, 50));
          side.p99.push(percentile(l, 99));
        }
        log(
          `latency rep ${rep}: ` +
            [
              ['raw kafkajs', raw],
              ['gomes', g],
              ['raw platformatic', pRaw],
              ['gomes[platformatic]', pG],
            ]
              .filter(([, side]) => (side as typeof raw).p50.length > 0)
              .map(([label, side]) => {
                const x = side as typeof raw;
                return `${label as string} p50 ${x.p50.at(-1)!.toFixed(2)} ms p99 ${x.p99.at(-1)!.toFixed(2)} ms`;
              })
              .join(', '),
        );
      }
      // Each driver's rows compare with its own raw client (the "raw" column: kafkajs, then platformatic).
      const rows = (tag: string, rawSide: typeof raw, gomesSide: typeof raw): ResultRow[] => [
        {
          scenario: `3a. ${tag}Awaited single publish latency p50 (acks=all)`,
          unit: 'ms',
          raw: spread(rawSide.p50),
          gomes: spread(gomesSide.p50),
          target: undefined,
          met: undefined,
        },
        {
          scenario: `3b. ${tag}Awaited single publish latency p99 (acks=all)`,
          unit: 'ms',
          raw: spread(rawSide.p99),
          gomes: spread(gomesSide.p99),
          target: 'gomes p99 ≤ 10 ms',
          met: spread(gomesSide.p99).median <= 10,
        },
      ];
      if (ON_KAFKAJS) latency.push(...rows('', raw, g));
      if (ON_PLATFORMATIC) latency.push(...rows('[platformatic, raw = raw platformatic] ', pRaw, pG));
    }
  } finally {
    await app.shutdown();
    await pApp.shutdown();
    await Promise.allSettled([
      sync.close(),
      async.close(),
      latencyChannel.close(),
      pSync.close(),
      pAsync.close(),
      pLatencyChannel.close(),
    ]);
    await connection.disconnect();
    await pConnection.disconnect();
    await producer.disconnect();
    await plt.close();
  }
  return { publish, latency };
}

/**
 * Kafka's own Java clients on the same broker: `ProducerPerformance` with the publish runs' record
 * count, record size and acks; `ConsumerPerformance` reading the consume topic (the same records
 * the consume rows read) when it was filled.
 */
async function javaScenarios(kafkaVersion: string, consumeTopicFilled: boolean): Promise<Partial<JavaRows>> {
  log(`Java reference: Kafka ${kafkaVersion} performance tools ...`);
  const classpath = perfToolsClasspath(kafkaVersion);
  const producer: number[] = [];
  const consumer: number[] = [];
  for (let rep = 1; rep <= REPS; rep++) {
    producer.push(
      await javaProducerPerformance(
        classpath,
        BROKERS,
        topics.java,
        JAVA_RECORDS,
        JAVA_WARMUP,
        PAYLOAD_BYTES,
      ),
    );
    if (consumeTopicFilled) {
      consumer.push(
        await javaConsumerPerformance(
          classpath,
          BROKERS,
          topics.consume,
          CONSUME_MESSAGES,
          `${RUN}-java-${rep}`,
        ),
      );
    }
    log(
      `java rep ${rep}: ProducerPerformance ${fmtRate(producer.at(-1)!)}` +
        (consumeTopicFilled ? `, ConsumerPerformance ${fmtRate(consumer.at(-1)!)}` : ''),
    );
  }
  return {
    producer: spread(producer),
    consumer: consumer.length > 0 ? spread(consumer) : undefined,
  };
}

async function consumeScenarios(admin: Admin): Promise<ResultRow[]> {
  log(`pre-filling ${topics.consume} with ${CONSUME_MESSAGES} gomes records ...`);
  const connection = await gomesConnection(BROKERS);
  const filler = await gomesPublisher(connection, topics.consume, 'async');
  const warmFiller = await gomesPublisher(connection, topics.warm, 'async');
  try {
    await gomesAsyncPublish(filler, makePayloads(CONSUME_MESSAGES, RUN));
    await gomesAsyncPublish(warmFiller, makePayloads(WARMUP_CONSUME, RUN));
  } finally {
    await Promise.allSettled([filler.close(), warmFiller.close()]);
    await connection.disconnect();
  }
  log('warm-up ...');
  await rawConsume(BROKERS, topics.warm, `${RUN}-warm-raw`, WARMUP_CONSUME, CONSUME_TIMEOUT_MS);
  if (ON_PLATFORMATIC)
    await rawPlatformaticConsume(BROKERS, topics.warm, `${RUN}-warm-plt`, WARMUP_CONSUME, CONSUME_TIMEOUT_MS);
  for (const driver of DRIVERS)
    await gomesConsume(
      BROKERS,
      topics.warm,
      `${RUN}-warm-gomes-${driver}`,
      WARMUP_CONSUME,
      CONSUME_TIMEOUT_MS,
      {
        driver,
      },
    );
  const raw: number[] = [];
  const plt: number[] = [];
  const poison = {
    every: POISON_EVERY,
    attempts: POISON_ATTEMPTS,
    backoffMs: POISON_BACKOFF_MS,
    deadLetterTopic: topics.consumeDlq,
  };
  const variants: { tuning: ConsumeTuning; label: string; rates: number[]; driver: KafkaDriverName }[] =
    DRIVERS.flatMap((driver) => {
      const tag = driver === 'kafkajs' ? 'gomes' : `gomes[${driver}]`;
      return [
        { tuning: { driver }, label: tag, rates: [], driver },
        { tuning: { driver, processors: 4 }, label: `${tag} 4 processors`, rates: [], driver },
        { tuning: { driver, batchMaxSize: BATCH_SIZE }, label: `${tag} batch handler`, rates: [], driver },
        { tuning: { driver, poison }, label: `${tag} 1% poison`, rates: [], driver },
      ];
    });
  for (let rep = 1; rep <= REPS; rep++) {
    const order: (() => Promise<void>)[] = [
      async () => {
        const group = `${RUN}-raw-${rep}`;
        raw.push(
          checked(
            await rawConsume(BROKERS, topics.consume, group, CONSUME_MESSAGES, CONSUME_TIMEOUT_MS),
            'raw',
          ),
        );
        await checkCommitted(admin, group);
      },
      ...(ON_PLATFORMATIC
        ? [
            async () => {
              const group = `${RUN}-plt-${rep}`;
              plt.push(
                checked(
                  await rawPlatformaticConsume(
                    BROKERS,
                    topics.consume,
                    group,
                    CONSUME_MESSAGES,
                    CONSUME_TIMEOUT_MS,
                  ),
                  'raw platformatic',
                ),
              );
              await checkCommitted(admin, group);
            },
          ]
        : []),
      ...variants.map((v, i) => async () => {
        const group = `${RUN}-gomes${i}-${rep}`;
        const result = await gomesConsume(
          BROKERS,
          topics.consume,
          group,
          CONSUME_MESSAGES,
          CONSUME_TIMEOUT_MS,
          v.tuning,
        );
        v.rates.push(checked(result, v.label));
        await checkCommitted(admin, group);
      }),
    ];
    for (const step of rep % 2 === 1 ? order : [...order].reverse()) await step();
    log(
      `consume rep ${rep}: raw ${fmtRate(raw.at(-1)!)}${ON_PLATFORMATIC ? `, raw platformatic ${fmtRate(plt.at(-1)!)}` : ''}, ${variants.map((v) => `${v.label} ${fmtRate(v.rates.at(-1)!)}`).join(', ')}`,
    );
  }
  return DRIVERS.flatMap((driver): ResultRow[] => {
    const [defaults, processors4, batch, poisoned] = variants
      .filter((v) => v.driver === driver)
      .map((v) => spread(v.rates)) as [Spread, Spread, Spread, Spread];
    const tag = driver === 'kafkajs' ? '' : '[platformatic] ';
    const rawSpread = spread(raw);
    // The raw column is raw kafkajs eachBatch on every row but the poison row; the platformatic
    // driver's target also compares with raw @platformatic/kafka (its median in the target text).
    const pltMedian = ON_PLATFORMATIC ? spread(plt).median : NaN;
    const target =
      driver === 'kafkajs'
        ? { target: '≥ 90% of raw', met: defaults.median >= 0.9 * rawSpread.median }
        : {
            target: `≥ 100% of raw kafkajs and ≥ 90% of raw platformatic (${fmtRate(pltMedian)})`,
            met: defaults.median >= rawSpread.median && defaults.median >= 0.9 * pltMedian,
          };
    return [
      {
        scenario: `2. ${tag}Consume (pre-filled topic, no-op handler, at-least-once), gomes defaults`,
        unit: 'msgs/s',
        raw: rawSpread,
        gomes: defaults,
        ...target,
      },
      {
        scenario: `2b. ${tag}Consume, withAmountOfProcessors(4) (target: ≥ row 2's gomes, ${fmtRate(defaults.median)})`,
        unit: 'msgs/s',
        raw: rawSpread,
        gomes: processors4,
        target: '≥ the 1-processor figure',
        met: processors4.median >= defaults.median,
      },
      {
        scenario: `2c. ${tag}Consume with a batch handler (defineBatchEventHandler, maxSize ${BATCH_SIZE})`,
        unit: 'msgs/s',
        raw: rawSpread,
        gomes: batch,
        target: '≥ 95% of raw',
        met: batch.median >= 0.95 * rawSpread.median,
      },
      {
        scenario:
          `2d. ${tag}Consume with 1% poison records (always throw; ${POISON_ATTEMPTS} attempts, ${POISON_BACKOFF_MS} ms backoff, then the dead-letter topic): ` +
          `good records/s; the raw column here is row 2's gomes (no poison)`,
        unit: 'msgs/s',
        raw: defaults,
        gomes: poisoned,
        target: '≥ 80% of the poison-free rate',
        met: poisoned.median >= 0.8 * defaults.median,
      },
    ];
  }).concat(
    ON_PLATFORMATIC
      ? [
          {
            scenario:
              '2d. raw @platformatic/kafka consume (stream API, commits every 1 s) vs raw kafkajs eachBatch',
            unit: 'msgs/s',
            raw: spread(raw),
            gomes: spread(plt),
            target: undefined,
            met: undefined,
          },
        ]
      : [],
  );
}

/**
 * 4. Avro vs JSON, both through gomes with its defaults and the same payload objects: publish (sync
 * channel, WINDOW concurrent awaited sends) and consume (pre-filled topics, no-op handler). The Avro
 * schema is registered on the first send, before the clock runs (warm-up); then ids are cached.
 */
async function avroScenarios(driver: KafkaDriverName): Promise<ResultRow[]> {
  const registry = benchRegistry();
  const payloads = makePayloads(PUBLISH_MESSAGES, RUN);
  const warm = makePayloads(WARMUP_PUBLISH, RUN, PUBLISH_MESSAGES);
  const connection = await gomesConnection(BROKERS, driver);
  const json = await gomesPublisher(connection, topics.avroPublish, 'sync');
  const avro = await avroPublisher(connection, topics.avroPublish, benchAvroSerializer(registry), 'sync');
  const publishJson: number[] = [];
  const publishAvro: number[] = [];
  const consumeJson: number[] = [];
  const consumeAvro: number[] = [];
  try {
    log(`avro (${driver}): warm-up ...`);
    await gomesConcurrentPublish(json, warm, WINDOW);
    await gomesConcurrentPublish(avro, warm, WINDOW);
    for (let rep = 1; rep <= REPS; rep++) {
      const order: (() => Promise<void>)[] = [
        async () => void publishJson.push(await gomesConcurrentPublish(json, payloads, WINDOW)),
        async () => void publishAvro.push(await gomesConcurrentPublish(avro, payloads, WINDOW)),
      ];
      for (const step of rep % 2 === 1 ? order : [...order].reverse()) await step();
      log(
        `avro publish rep ${rep}: JSON ${fmtRate(publishJson.at(-1)!)}, Avro ${fmtRate(publishAvro.at(-1)!)}`,
      );
    }
    if (!avroFilled) {
      avroFilled = true; // once for every driver: their consumers read the same records
      log(
        `avro: pre-filling ${topics.avroJson} and ${topics.avroAvro} with ${CONSUME_MESSAGES} records each ...`,
      );
      const fillJson = await gomesPublisher(connection, topics.avroJson, 'async');
      const fillAvro = await avroPublisher(
        connection,
        topics.avroAvro,
        benchAvroSerializer(registry),
        'async',
      );
      try {
        await gomesAsyncPublish(fillJson, makePayloads(CONSUME_MESSAGES, RUN));
        await gomesAsyncPublish(fillAvro, makePayloads(CONSUME_MESSAGES, RUN));
      } finally {
        await Promise.allSettled([fillJson.close(), fillAvro.close()]);
      }
    }
    for (let rep = 1; rep <= REPS; rep++) {
      const order: (() => Promise<void>)[] = [
        async () =>
          void consumeJson.push(
            checked(
              await gomesConsume(
                BROKERS,
                topics.avroJson,
                `${RUN}-json-${driver}-${rep}`,
                CONSUME_MESSAGES,
                CONSUME_TIMEOUT_MS,
                { driver },
              ),
              'gomes JSON',
            ),
          ),
        async () =>
          void consumeAvro.push(
            checked(
              await gomesConsume(
                BROKERS,
                topics.avroAvro,
                `${RUN}-avro-${driver}-${rep}`,
                CONSUME_MESSAGES,
                CONSUME_TIMEOUT_MS,
                { serializer: benchAvroSerializer(registry), driver },
              ),
              'gomes Avro',
            ),
          ),
      ];
      for (const step of rep % 2 === 1 ? order : [...order].reverse()) await step();
      log(
        `avro consume rep ${rep}: JSON ${fmtRate(consumeJson.at(-1)!)}, Avro ${fmtRate(consumeAvro.at(-1)!)}`,
      );
    }
  } finally {
    await Promise.allSettled([json.close(), avro.close()]);
    await connection.disconnect();
    await registry.close();
  }
  return [
    {
      scenario: `4a. ${driver === 'kafkajs' ? '' : '[platformatic] '}Avro (Confluent wire format) vs JSON publish: gomes sync channel, ${WINDOW} concurrent`,
      unit: 'msgs/s',
      raw: spread(publishJson),
      gomes: spread(publishAvro),
      target: undefined,
      met: undefined,
    },
    {
      scenario: `4b. ${driver === 'kafkajs' ? '' : '[platformatic] '}Avro vs JSON consume: gomes defaults, no-op handler`,
      unit: 'msgs/s',
      raw: spread(consumeJson),
      gomes: spread(consumeAvro),
      target: undefined,
      met: undefined,
    },
  ];
}

function checked(result: ConsumeResult, side: string): number {
  if (result.count !== CONSUME_MESSAGES)
    throw new Error(`${side} consumed ${result.count}, expected ${CONSUME_MESSAGES}`);
  return result.msgsPerSec;
}

/** Both sides are at-least-once: after they stop, the group's committed offsets must be the log end. */
async function checkCommitted(admin: Admin, groupId: string): Promise<void> {
  const [committed, ends] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: [topics.consume] }),
    admin.fetchTopicOffsets(topics.consume),
  ]);
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
  for (const end of ends) {
    if (byPartition.get(end.partition) !== end.high) {
      throw new Error(
        `group ${groupId} committed ${byPartition.get(end.partition)} on partition ${end.partition}, log end ${end.high}`,
      );
    }
  }
}

/** kafkajs' version, the broker's version and whether its JVM runs with the full JIT. */
function versions(): {
  kafkajs: string;
  platformatic: string;
  drivers: readonly string[];
  kafka: string;
  brokerJit: string;
} {
  const require = createRequire(import.meta.url);
  const kafkajs = (require('kafkajs/package.json') as { version: string }).version;
  // Its exports map hides package.json: read it next to the resolved entry point (dist/index.js).
  const platformatic = (
    JSON.parse(
      readFileSync(new URL('../package.json', `file://${require.resolve('@platformatic/kafka')}`), 'utf8'),
    ) as { version: string }
  ).version;
  let kafka = process.env['KAFKA_VERSION'] ?? 'unknown';
  let brokerJit = 'unknown';
  try {
    // scripts/kafka-broker.mjs: .kafka/run for the default port 19092, .kafka/run-<port> otherwise.
    const port = BROKERS[0]?.split(':')[1] ?? '19092';
    const runDir = port === '19092' ? 'run' : `run-${port}`;
    const info = JSON.parse(
      readFileSync(
        fileURLToPath(new URL(`../../../../.kafka/${runDir}/broker.json`, import.meta.url)),
        'utf8',
      ),
    ) as { version?: string; pid?: number };
    if (kafka === 'unknown' && info.version) kafka = info.version;
    const cmdline = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8');
    brokerJit = cmdline.includes('-XX:TieredStopAtLevel=1')
      ? 'C1 only (fast-start default)'
      : 'full JIT (C1 + C2)';
  } catch {
    // not the repository's broker, or not Linux
  }
  return { kafkajs, platformatic, drivers: DRIVERS, kafka, brokerJit };
}

try {
  await main();
  process.exit(0);
} catch (error) {
  process.stderr.write(
    `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
