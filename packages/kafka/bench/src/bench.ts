/**
 * gomes on both Kafka drivers vs raw kafkajs and raw @platformatic/kafka, on one broker, in one run
 * (`pnpm bench`): 1. batched publish throughput, 2. consume throughput, 3. awaited single-publish
 * latency, 4. Avro vs JSON; every gomes scenario on each driver, both anchors in the same run.
 * Prints the results table and writes it, with the environment and the method, to docs/benchmarks.md.
 *
 * Knobs (environment): BENCH_REPS (5), BENCH_PUBLISH_MESSAGES (20000), BENCH_CONSUME_MESSAGES (30000),
 * BENCH_LATENCY_SENDS (500), BENCH_WRITE_DOCS (1; 0 = print only), BENCH_ONLY (publish,latency,consume,avro),
 * BENCH_DRIVERS (kafkajs,platformatic).
 * The avro scenario (gomes Avro vs gomes JSON) needs a schema registry: `pnpm bench` starts one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import {
  gomesAsyncPublish,
  gomesConcurrentPublish,
  gomesConnection,
  gomesConsume,
  gomesEventBusPublish,
  gomesPublisher,
  gomesSingleLatencies,
  gomesWithPublisher,
  eventMessage,
  type ConsumeTuning,
} from './gomes-kafka.js';
import { KafkaMessageTranslator, type KafkaDriverName } from '@gomes/kafka';
import { avroPublisher, benchAvroSerializer, benchRegistry } from './avro-kafka.js';
import { FINDINGS } from './notes.js';
import { makePayloads, PAYLOAD_BYTES } from './payload.js';
import {
  rawAdmin,
  rawBatchedPublish,
  rawConsume,
  rawProducer,
  rawSingleLatencies,
  type ConsumeResult,
} from './raw-kafka.js';
import {
  rawPlatformaticBatchedPublish,
  rawPlatformaticConsume,
  rawPlatformaticProducer,
  rawPlatformaticSingleLatencies,
} from './raw-platformatic.js';
import { AVRO_VS_JSON_HEADER, markdownTable, textTable, type ResultRow } from './report.js';
import { percentile, spread, type Spread } from './stats.js';

/** Reference measurements printed under the main table (not gomes vs raw). */
interface Reference {
  readonly what: string;
  readonly value: Spread;
  readonly ofRaw: number;
}
const references: Reference[] = [];

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
};

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const REPS = env('BENCH_REPS', 5);
const PUBLISH_MESSAGES = env('BENCH_PUBLISH_MESSAGES', 20000);
const CONSUME_MESSAGES = env('BENCH_CONSUME_MESSAGES', 30000);
const LATENCY_SENDS = env('BENCH_LATENCY_SENDS', 500);
const WRITE_DOCS = process.env['BENCH_WRITE_DOCS'] !== '0';
const ONLY = new Set((process.env['BENCH_ONLY'] ?? 'publish,latency,consume,avro').split(','));
/** The gomes drivers measured (every scenario runs on each), knob BENCH_DRIVERS. */
const DRIVERS: KafkaDriverName[] = (process.env['BENCH_DRIVERS'] ?? 'kafkajs,platformatic')
  .split(',')
  .map((d) => {
    if (d !== 'kafkajs' && d !== 'platformatic') throw new Error(`BENCH_DRIVERS: unknown driver ${d}`);
    return d;
  });
const PARTITIONS = 3;
/** Records per produce request: gomes' default `batchSize`, and the raw side's batch. */
const BATCH_SIZE = 100;
/** Sends awaiting their ack at once in the gomes concurrent-send scenarios. */
const WINDOW = 1000;
const WARMUP_PUBLISH = 5000;
const WARMUP_LATENCY = 100;
const WARMUP_CONSUME = 5000;
const CONSUME_TIMEOUT_MS = 120_000;

const RUN = `gomes-bench-${Date.now().toString(36)}`;
const topics = {
  publish: `${RUN}-publish`,
  latency: `${RUN}-latency`,
  consume: `${RUN}-consume`,
  warm: `${RUN}-consume-warmup`,
  avroPublish: `${RUN}-avro-publish`,
  avroJson: `${RUN}-avro-json-consume`,
  avroAvro: `${RUN}-avro-avro-consume`,
};

/** Whether the Avro scenario's consume topics were pre-filled (by the first driver's run). */
let avroFilled = false;

/** Avro vs JSON rows (both gomes, same payload objects): `raw` is JSON, `gomes` is Avro. */
const avroRows: ResultRow[] = [];

/** The headers gomes writes on each benchmark record (from one translated message). */
const GOMES_HEADERS = (() => {
  const headers = new KafkaMessageTranslator().toRecord(eventMessage(makePayloads(1, RUN)[0]!)).headers;
  const bytes = Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
  return { headers, count: Object.keys(headers).length, bytes };
})();

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmtRate = (v: number): string => `${Math.round(v).toLocaleString('en-US')} msgs/s`;

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  const t0 = Date.now();
  log(`gomes Kafka benchmark: brokers ${BROKERS.join(',')}, ${REPS} reps, run ${RUN}`);
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
  try {
    if (ONLY.has('publish') || ONLY.has('latency')) rows.push(...(await publishScenarios()));
    if (ONLY.has('consume')) rows.push(...(await consumeScenarios(admin)));
    if (ONLY.has('avro')) for (const driver of DRIVERS) avroRows.push(...(await avroScenarios(driver)));
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
  // Scenario order (1a, 1b, 1c, 2, 2b, 2c, 3a, 3b), whatever order they were measured in.
  rows.sort((a, b) => a.scenario.localeCompare(b.scenario, 'en'));
  const loadAfter = os.loadavg();
  const seconds = (Date.now() - t0) / 1000;
  log('');
  if (rows.length > 0) log(textTable(rows));
  if (avroRows.length > 0) log(`\n${textTable(avroRows, AVRO_VS_JSON_HEADER)}`);
  for (const r of references) log(`reference: ${r.what}: ${referenceValue(r)}`);
  log(
    `\nload average (1/5/15 min) before ${fmtLoad(loadBefore)}, after ${fmtLoad(loadAfter)}; ${seconds.toFixed(0)} s`,
  );
  if (WRITE_DOCS) {
    const path = fileURLToPath(new URL('../../../../docs/benchmarks.md', import.meta.url));
    writeFileSync(path, markdown(rows, started, loadBefore, loadAfter, seconds));
    log(`written to ${path}`);
  }
}

async function publishScenarios(): Promise<ResultRow[]> {
  const payloads = makePayloads(PUBLISH_MESSAGES, RUN);
  const warm = makePayloads(WARMUP_PUBLISH, RUN, PUBLISH_MESSAGES);
  const singles = makePayloads(LATENCY_SENDS, RUN, PUBLISH_MESSAGES + WARMUP_PUBLISH);
  const producer = await rawProducer(BROKERS);
  const plt = rawPlatformaticProducer(BROKERS);
  /** The gomes side on one driver: its connection, channels and event bus. */
  const sides = await Promise.all(
    DRIVERS.map(async (driver) => {
      const connection = await gomesConnection(BROKERS, driver);
      return {
        driver,
        connection,
        sync: await gomesPublisher(connection, topics.publish, 'sync'),
        async: await gomesPublisher(connection, topics.publish, 'async'),
        latency: await gomesPublisher(connection, topics.latency, 'sync'),
        app: await gomesWithPublisher(BROKERS, topics.publish, driver),
        rates: { sync: [] as number[], async: [] as number[], bus: [] as number[] },
        p50: [] as number[],
        p99: [] as number[],
      };
    }),
  );
  const rows: ResultRow[] = [];
  try {
    log('warm-up ...');
    await rawBatchedPublish(producer, topics.publish, warm, BATCH_SIZE);
    await rawPlatformaticBatchedPublish(plt, topics.publish, warm, BATCH_SIZE);
    await rawSingleLatencies(producer, topics.latency, warm.slice(0, WARMUP_LATENCY));
    await rawPlatformaticSingleLatencies(plt, topics.latency, warm.slice(0, WARMUP_LATENCY));
    for (const side of sides) {
      await gomesConcurrentPublish(side.sync, warm, WINDOW);
      await gomesAsyncPublish(side.async, warm);
      await gomesEventBusPublish(side.app, topics.publish, warm, WINDOW);
      await gomesSingleLatencies(side.latency, warm.slice(0, WARMUP_LATENCY));
    }

    if (ONLY.has('publish')) {
      const raw: number[] = [];
      const rawHeaders: number[] = [];
      const plain: number[] = [];
      const plainHeaders: number[] = [];
      for (let rep = 1; rep <= REPS; rep++) {
        // Alternate who goes first, so a load change on the shared machine does not favour one side.
        const order: (() => Promise<void>)[] = [
          async () => void raw.push(await rawBatchedPublish(producer, topics.publish, payloads, BATCH_SIZE)),
          async () =>
            void plain.push(await rawPlatformaticBatchedPublish(plt, topics.publish, payloads, BATCH_SIZE)),
          ...sides.flatMap((side) => [
            async () => void side.rates.sync.push(await gomesConcurrentPublish(side.sync, payloads, WINDOW)),
            async () => void side.rates.async.push(await gomesAsyncPublish(side.async, payloads)),
            async () =>
              void side.rates.bus.push(
                await gomesEventBusPublish(side.app, topics.publish, payloads, WINDOW),
              ),
          ]),
          async () =>
            void rawHeaders.push(
              await rawBatchedPublish(producer, topics.publish, payloads, BATCH_SIZE, GOMES_HEADERS.headers),
            ),
          async () =>
            void plainHeaders.push(
              await rawPlatformaticBatchedPublish(
                plt,
                topics.publish,
                payloads,
                BATCH_SIZE,
                GOMES_HEADERS.headers,
              ),
            ),
        ];
        for (const step of rep % 2 === 1 ? order : [...order].reverse()) await step();
        log(
          `publish rep ${rep}: raw kafkajs ${fmtRate(raw.at(-1)!)}, raw platformatic ${fmtRate(plain.at(-1)!)}, ` +
            sides
              .map(
                (side) =>
                  `gomes ${side.driver} sync ${fmtRate(side.rates.sync.at(-1)!)} / async ${fmtRate(side.rates.async.at(-1)!)} / bus ${fmtRate(side.rates.bus.at(-1)!)}`,
              )
              .join(', ') +
            `, raw + gomes headers: kafkajs ${fmtRate(rawHeaders.at(-1)!)}, platformatic ${fmtRate(plainHeaders.at(-1)!)}`,
        );
      }
      references.push(
        {
          what: `raw kafkajs batched publish with gomes' ${GOMES_HEADERS.count} headers added to every record (wire-format cost, no gomes code)`,
          value: spread(rawHeaders),
          ofRaw: spread(rawHeaders).median / spread(raw).median,
        },
        {
          what: `raw @platformatic/kafka batched publish, key + value only (% of raw kafkajs)`,
          value: spread(plain),
          ofRaw: spread(plain).median / spread(raw).median,
        },
        {
          what: `raw @platformatic/kafka batched publish of gomes' records (its ${GOMES_HEADERS.count} headers added; % of raw kafkajs)`,
          value: spread(plainHeaders),
          ofRaw: spread(plainHeaders).median / spread(raw).median,
        },
      );
      for (const side of sides) {
        // kafkajs: ≥ 95% of raw kafkajs. platformatic (issue 10): ≥ 1.5× raw kafkajs key + value and
        // ≥ 90% of raw platformatic writing the same records (gomes' headers included).
        const target = (gomes: number[]): Pick<ResultRow, 'target' | 'met'> =>
          side.driver === 'kafkajs'
            ? { target: '≥ 95% of raw kafkajs', met: spread(gomes).median >= 0.95 * spread(raw).median }
            : {
                target: '≥ 150% of raw kafkajs, ≥ 90% of raw platformatic (same records)',
                met:
                  spread(gomes).median >= 1.5 * spread(raw).median &&
                  spread(gomes).median >= 0.9 * spread(plainHeaders).median,
              };
        const tag = `[${side.driver}]`;
        rows.push(
          {
            scenario: `1a. Batched publish: gomes sync channel, ${WINDOW} concurrent awaited sends ${tag}`,
            unit: 'msgs/s',
            raw: spread(raw),
            raw2: spread(plainHeaders),
            gomes: spread(side.rates.sync),
            ...target(side.rates.sync),
          },
          {
            scenario: `1b. Batched publish: gomes async channel (withAsync) + flush ${tag}`,
            unit: 'msgs/s',
            raw: spread(raw),
            raw2: spread(plainHeaders),
            gomes: spread(side.rates.async),
            ...target(side.rates.async),
          },
          {
            scenario: `1c. Batched publish: gomes eventBusByChannel().publish, ${WINDOW} concurrent ${tag}`,
            unit: 'msgs/s',
            raw: spread(raw),
            raw2: spread(plainHeaders),
            gomes: spread(side.rates.bus),
            target: undefined,
            met: undefined,
          },
        );
      }
    }

    if (ONLY.has('latency')) {
      const rawP50: number[] = [];
      const rawP99: number[] = [];
      const pltP50: number[] = [];
      const pltP99: number[] = [];
      for (let rep = 1; rep <= REPS; rep++) {
        const order: (() => Promise<void>)[] = [
          async () => {
            const l = await rawSingleLatencies(producer, topics.latency, singles);
            rawP50.push(percentile(l, 50));
            rawP99.push(percentile(l, 99));
          },
          async () => {
            const l = await rawPlatformaticSingleLatencies(plt, topics.latency, singles);
            pltP50.push(percentile(l, 50));
            pltP99.push(percentile(l, 99));
          },
          ...sides.map((side) => async () => {
            const l = await gomesSingleLatencies(side.latency, singles);
            side.p50.push(percentile(l, 50));
            side.p99.push(percentile(l, 99));
          }),
        ];
        for (const step of rep % 2 === 1 ? order : [...order].reverse()) await step();
        log(
          `latency rep ${rep}: raw kafkajs p50 ${rawP50.at(-1)!.toFixed(2)} ms p99 ${rawP99.at(-1)!.toFixed(2)} ms, ` +
            `raw platformatic p50 ${pltP50.at(-1)!.toFixed(2)} ms p99 ${pltP99.at(-1)!.toFixed(2)} ms, ` +
            sides
              .map(
                (side) =>
                  `gomes ${side.driver} p50 ${side.p50.at(-1)!.toFixed(2)} ms p99 ${side.p99.at(-1)!.toFixed(2)} ms`,
              )
              .join(', '),
        );
      }
      for (const side of sides) {
        rows.push(
          {
            scenario: `3a. Awaited single publish latency p50 (acks=all) [${side.driver}]`,
            unit: 'ms',
            raw: spread(rawP50),
            raw2: spread(pltP50),
            gomes: spread(side.p50),
            target: undefined,
            met: undefined,
          },
          {
            scenario: `3b. Awaited single publish latency p99 (acks=all) [${side.driver}]`,
            unit: 'ms',
            raw: spread(rawP99),
            raw2: spread(pltP99),
            gomes: spread(side.p99),
            target: 'gomes p99 ≤ 10 ms',
            met: spread(side.p99).median <= 10,
          },
        );
      }
    }
  } finally {
    for (const side of sides) {
      await side.app.shutdown();
      await Promise.allSettled([side.sync.close(), side.async.close(), side.latency.close()]);
      await side.connection.disconnect();
    }
    await producer.disconnect();
    await plt.close();
  }
  return rows;
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
  const variants: { tuning: ConsumeTuning; label: string; rates: number[]; driver: KafkaDriverName }[] =
    DRIVERS.flatMap((driver) => [
      { tuning: { driver }, label: `gomes ${driver}`, rates: [], driver },
      { tuning: { driver, queueCapacity: 1000 }, label: `gomes ${driver} q1000`, rates: [], driver },
      {
        tuning: { driver, queueCapacity: 1000, processingTimeoutMs: 0 },
        label: `gomes ${driver} q1000 no-timeout`,
        rates: [],
        driver,
      },
    ]);
  for (let rep = 1; rep <= REPS; rep++) {
    const order: (() => Promise<void>)[] = [
      async () => {
        const group = `${RUN}-raw-${rep}`;
        raw.push(
          checked(
            await rawConsume(BROKERS, topics.consume, group, CONSUME_MESSAGES, CONSUME_TIMEOUT_MS),
            'raw kafkajs',
          ),
        );
        await checkCommitted(admin, group);
      },
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
      `consume rep ${rep}: raw kafkajs ${fmtRate(raw.at(-1)!)}, raw platformatic ${fmtRate(plt.at(-1)!)}, ${variants.map((v) => `${v.label} ${fmtRate(v.rates.at(-1)!)}`).join(', ')}`,
    );
  }
  references.push({
    what: 'raw @platformatic/kafka consume (stream API, JSON.parse, commits every 1 s; % of raw kafkajs eachBatch)',
    value: spread(plt),
    ofRaw: spread(plt).median / spread(raw).median,
  });
  return DRIVERS.flatMap((driver) => {
    const [defaults, q1000, q1000NoTimeout] = variants
      .filter((v) => v.driver === driver)
      .map((v) => spread(v.rates)) as [Spread, Spread, Spread];
    const tag = `[${driver}]`;
    // kafkajs: ≥ 90% of raw kafkajs. platformatic (issue 10): ≥ 1.0× raw kafkajs eachBatch and ≥ 90%
    // of raw platformatic.
    const met =
      driver === 'kafkajs'
        ? defaults.median >= 0.9 * spread(raw).median
        : defaults.median >= spread(raw).median && defaults.median >= 0.9 * spread(plt).median;
    return [
      {
        scenario: `2. Consume (pre-filled topic, no-op handler, at-least-once), gomes defaults ${tag}`,
        unit: 'msgs/s',
        raw: spread(raw),
        raw2: spread(plt),
        gomes: defaults,
        target:
          driver === 'kafkajs' ? '≥ 90% of raw kafkajs' : '≥ 100% of raw kafkajs, ≥ 90% of raw platformatic',
        met,
      },
      {
        scenario: `2b. Consume, gomes channel withQueueCapacity(1000) ${tag}`,
        unit: 'msgs/s',
        raw: spread(raw),
        raw2: spread(plt),
        gomes: q1000,
        target: undefined,
        met: undefined,
      },
      {
        scenario: `2c. Consume, withQueueCapacity(1000) + withMessageProcessingTimeout(0) ${tag}`,
        unit: 'msgs/s',
        raw: spread(raw),
        raw2: spread(plt),
        gomes: q1000NoTimeout,
        target: undefined,
        met: undefined,
      },
    ] satisfies ResultRow[];
  });
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
      scenario: `4a. Avro (Confluent wire format) vs JSON publish: gomes sync channel, ${WINDOW} concurrent [${driver}]`,
      unit: 'msgs/s',
      raw: spread(publishJson),
      gomes: spread(publishAvro),
      target: undefined,
      met: undefined,
    },
    {
      scenario: `4b. Avro vs JSON consume: gomes defaults, no-op handler [${driver}]`,
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

function referenceValue(r: Reference): string {
  const f = (v: number): string => Math.round(v).toLocaleString('en-US');
  return `${f(r.value.median)} (${f(r.value.min)}–${f(r.value.max)}) msgs/s, ${(r.ofRaw * 100).toFixed(1)}% of raw`;
}

function fmtLoad(load: number[]): string {
  return load.map((l) => l.toFixed(2)).join(' / ');
}

function versions(): { kafkajs: string; platformatic: string; kafka: string; brokerJit: string } {
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
    const info = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../../../.kafka/run/broker.json', import.meta.url)), 'utf8'),
    ) as { version?: string; pid?: number };
    if (kafka === 'unknown' && info.version) kafka = info.version;
    const cmdline = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8');
    brokerJit = cmdline.includes('-XX:TieredStopAtLevel=1')
      ? 'C1 only (fast-start default)'
      : 'full JIT (C1 + C2)';
  } catch {
    // not the repository's broker, or not Linux
  }
  return { kafkajs, platformatic, kafka, brokerJit };
}

function markdown(
  rows: readonly ResultRow[],
  started: Date,
  before: number[],
  after: number[],
  seconds: number,
): string {
  const v = versions();
  const cpus = os.cpus();
  return `# Benchmarks: gomes Kafka on both drivers vs raw kafkajs and raw @platformatic/kafka

Generated by \`pnpm bench\` (\`packages/kafka/bench\`); do not edit by hand, re-run it.

## Last run

- Date: ${started.toISOString()}
- Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}
- Load average (1/5/15 min): before ${fmtLoad(before)}, after ${fmtLoad(after)}. The machine is shared: other engineers' test
  runs (jest, other brokers' clients) may have loaded it during the run, so absolute numbers are noisy; the ratios matter.
- Broker: Apache Kafka ${v.kafka}, single-node KRaft on ${BROKERS.join(',')}, JVM ${v.brokerJit}; client and broker on the same machine
- Node ${process.version}, kafkajs ${v.kafkajs}, @platformatic/kafka ${v.platformatic}, gomes drivers measured: ${DRIVERS.join(', ')}; TypeScript build of @gomes/core and @gomes/kafka (this repository)
- Messages: ${PUBLISH_MESSAGES} per publish run, ${CONSUME_MESSAGES} per consume run, ${LATENCY_SENDS} awaited sends per latency run;
  ${REPS} runs of each scenario after a warm-up; total ${seconds.toFixed(0)} s

## Results

Median of ${REPS} runs, (min–max) over the runs. Throughput: higher is better; latency: lower is better. "gomes / raw …" is
the ratio of the medians. Every gomes scenario runs on each driver (rows tagged [kafkajs] and [platformatic]) against the
same two anchors of the same run: raw kafkajs (key + value, as a plain kafkajs user writes) and raw @platformatic/kafka (publish:
gomes' records byte for byte, its ${GOMES_HEADERS.count} headers included — the "same records" anchor; consume: the library's stream API).

${markdownTable(rows)}

Rows marked "info" have no target: 1c is the user-facing event bus on top of 1a; 2b and 2c are non-default consumer
settings that locate the consume cost (see the findings below).

Avro vs JSON, both through gomes with its defaults and the same payload objects (${PAYLOAD_BYTES} bytes as JSON), Avro in the
Confluent wire format with its schema in a schema registry (Apicurio Registry, started by \`pnpm bench\`; the schema id is
registered during the warm-up and cached, so the timed runs make no registry call):

${avroRows.length > 0 ? markdownTable(avroRows, AVRO_VS_JSON_HEADER) : '(not measured in this run)'}

Reference measurements of the same run (no gomes code involved):

${references.map((r) => `- ${r.what}: ${referenceValue(r)}.`).join('\n') || '- none'}

## Method

- One broker, one process, one run. Four topics created for the run (publish, latency, consume, consume warm-up), all with
  the same settings: ${PARTITIONS} partitions, replication factor 1, broker defaults otherwise; deleted at the end.
- Payload: the same pre-built objects for both sides, each exactly ${PAYLOAD_BYTES} bytes of JSON (an order with three lines and a
  padding note). Both sides do the same JSON work: \`JSON.stringify\` on send, \`JSON.parse\` on receive (gomes' JSON serializer).
  gomes additionally builds a \`Message\` (uuid v7 \`messageId\`, timestamp, route, messageType) and writes its headers
  (${GOMES_HEADERS.count} headers, ${GOMES_HEADERS.bytes} bytes per record); the raw side sends key + value only, as a plain kafkajs user would.
- Producer settings, both sides: kafkajs 2.2.4, idempotent, acks=-1 (all in-sync replicas), \`maxInFlightRequests\` 1, no compression,
  murmur2 (Java-compatible) partitioner, 10 attempts. Keys are distinct per message (raw: the order id; gomes: the messageId),
  so records spread over the ${PARTITIONS} partitions.
- 1. Batched publish. Raw: \`producer.send\` with batches of ${BATCH_SIZE} messages, each awaited (the batch is acknowledged by the broker
  when it returns). gomes, what counts as "batched publish": (1a, the headline) the default sync publisher channel with
  ${WINDOW} concurrent \`channel.send(message)\` calls in flight, each resolving only after the broker ack; the channel coalesces
  them into produce requests of its default \`batchSize\` ${BATCH_SIZE}, so the wire pattern and the guarantee (every message
  acked when its promise resolves) match the raw side. (1b) async mode (\`withAsync()\`, linger 10 ms, batch ${BATCH_SIZE}):
  \`send\` resolves on enqueue; the clock stops when \`flush()\` resolved, i.e. after the broker acked everything, and the run fails
  if any async send failed. (1c, informational) the user-facing \`gomes.eventBusByChannel(topic).publish(event)\` with ${WINDOW}
  concurrent publishes: adds class-validator validation (no constraints on the bench event) and action-message building.
  msgs/s = messages / (time from the first send to the last broker ack).
- 2. Consume. The topic is pre-filled once with ${CONSUME_MESSAGES} gomes records (headers included), so both sides read identical
  records. Each run uses a fresh consumer group from the earliest offset; the clock runs from the first message handed to
  user code to the last one processed (group join excluded). Raw: kafkajs \`eachBatch\`, auto-commit off, \`JSON.parse\` of each
  value, \`resolveOffset\` per message, processed offsets committed every 1 s and at the end (like gomes' default
  \`commitIntervalMs\` 1000), fetch settings equal to gomes' defaults (minBytes 1, maxWait 500 ms, 1 MiB per partition),
  read_committed. gomes: the full path users get: \`createGomes()\`, \`KafkaConnection\`, \`KafkaConsumerChannelBuilder\` with its
  defaults (queueCapacity 100, commit interval 1 s), a no-op \`defineEventHandler\`, \`gomes.eventDrivenConsumer(name).run()\` with
  its defaults (1 processor, message validation on), i.e. translation, the handler pipeline (ack, dead letter, retry, timeout),
  the action dispatcher and gap-safe offset tracking, ack after the handler. After each run both groups' committed offsets
  are checked to equal the log end offsets (both at-least-once, nothing lost).
- 3. Latency: ${LATENCY_SENDS} sequential awaited single-message sends per run (raw \`producer.send\` of one message; gomes
  \`channel.send\` on the default sync channel), acks=-1; p50/p99 per run, then median and spread over the runs.
- The platformatic anchor: \`Producer\` with \`idempotent: true\` (acks=-1), \`compatibilityPartitioner\` (Java / kafkajs murmur2),
  batches of ${BATCH_SIZE} awaited; \`Consumer.consume()\` from the earliest offset, auto-commit off, processed offsets committed every
  1 s and at the end, fetch settings as gomes' defaults, \`JSON.parse\` of every value. gomes on the platformatic driver uses the same
  library: its Producer, and its Consumer for the group with gomes' own fetch loop (docs/kafka.md, "Choosing a driver").
- Fairness: the raw and gomes runs of a scenario alternate (the order is reversed every other run), after a warm-up of every
  scenario (${WARMUP_PUBLISH} publishes, ${WARMUP_LATENCY} single sends, a ${WARMUP_CONSUME}-record consume per side). All times are
  taken after the broker acknowledged (publish) or after the handler/processing finished (consume), never at enqueue.

${FINDINGS}
`;
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
