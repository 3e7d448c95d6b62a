/**
 * A quick publish probe (issue 10): the platformatic publish rows of `pnpm bench` alone, small
 * enough to run in a minute against one broker, for measuring and profiling changes:
 *
 *   GOMES_KAFKA_PORT_BASE=<yours> node scripts/run-with-kafka.mjs --full-jit \
 *     node packages/kafka/bench/dist/publish-probe.js
 *
 * Sides, interleaved (order rotated every rep), each sending the same 1 KiB JSON payloads in
 * produce requests of 100 records, acks=all, idempotent, 3 partitions:
 * - `kafkajs k+v`: raw kafkajs, key + value (issue 10's "1.5×" anchor);
 * - `plt k+v`: raw @platformatic/kafka, key + value;
 * - `plt identical`: raw @platformatic/kafka sending gomes' records (key, value, gomes' 7 headers);
 * - `gomes[plt] sync`: gomes' sync publisher channel on the platformatic driver, 200 concurrent sends.
 *
 * Prints per rep msgs/s and CPU µs/msg of this process, then the medians and the ratios against
 * raw kafkajs k+v and raw platformatic identical. Knobs: PROBE_REPS (5), PROBE_MESSAGES (10000 per
 * side and rep), PROBE_SIDES (comma-separated labels, default all), PROBE_ONLY (one label: run that
 * side alone, PROBE_REPS times, e.g. under `node --cpu-prof`).
 */
import type { Producer as PlatformaticProducer } from '@platformatic/kafka';
import type { Producer as KafkajsProducer } from 'kafkajs';
import type { KafkaConnection, KafkaPublisherChannel } from '@gomes/kafka';
import { channelFrames, gomesConcurrentPublish, gomesConnection, gomesPublisher } from './gomes-kafka.js';
import { makePayloads, type BenchPayload } from './payload.js';
import {
  rawPlatformaticBatchedPublish,
  rawPlatformaticIdenticalPublish,
  rawPlatformaticProducer,
} from './raw-platformatic.js';
import { rawAdmin, rawBatchedPublish, rawProducer, type RecordFrame } from './raw-kafka.js';
import { positiveIntEnv } from './stats.js';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const REPS = positiveIntEnv('PROBE_REPS', 5);
const MESSAGES = positiveIntEnv('PROBE_MESSAGES', 10000);
const BATCH_SIZE = 100;
const WINDOW = 2 * BATCH_SIZE;
const RUN = `gomes-probe-${Date.now().toString(36)}`;
const TOPIC = `${RUN}-publish`;

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface ProbeSide {
  readonly label: string;
  readonly run: (payloads: readonly BenchPayload[], frames: readonly RecordFrame[]) => Promise<number>;
  readonly rates: number[];
  readonly cpu: number[];
}

async function main(): Promise<void> {
  const admin = await rawAdmin(BROKERS);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 1 }],
  });
  let kafkajs: KafkajsProducer | undefined;
  let plt: PlatformaticProducer | undefined;
  let connection: KafkaConnection | undefined;
  let channel: KafkaPublisherChannel | undefined;
  try {
    kafkajs = await rawProducer(BROKERS);
    plt = rawPlatformaticProducer(BROKERS);
    connection = await gomesConnection(BROKERS, 'platformatic');
    channel = await gomesPublisher(connection, TOPIC, 'sync');
    const k = kafkajs;
    const p = plt;
    const c = channel;
    const all: ProbeSide[] = [
      side('kafkajs k+v', async (payloads) => rawBatchedPublish(k, TOPIC, payloads, BATCH_SIZE)),
      side('plt k+v', async (payloads) => rawPlatformaticBatchedPublish(p, TOPIC, payloads, BATCH_SIZE)),
      side('plt identical', async (payloads, frames) =>
        rawPlatformaticIdenticalPublish(p, TOPIC, payloads, frames, BATCH_SIZE),
      ),
      side('gomes[plt] sync', async (payloads) => gomesConcurrentPublish(c, payloads, WINDOW)),
    ];
    const only = process.env['PROBE_ONLY'];
    const wanted = only
      ? [only]
      : (process.env['PROBE_SIDES'] ?? all.map((s) => s.label).join(',')).split(',');
    const sides = all.filter((s) => wanted.includes(s.label));
    if (sides.length !== wanted.length) throw new Error(`unknown side in ${wanted.join(',')}`);

    // Warm-up: every side once, 2000 messages.
    const warm = makePayloads(2000, RUN, 1_000_000);
    // Record frames (gomes' keys and headers) only for the side that needs them: making them costs
    // CPU that would otherwise show in a profile of another side.
    const needsFrames = sides.some((s) => s.label === 'plt identical');
    const framesOf = (p: readonly BenchPayload[]): RecordFrame[] => (needsFrames ? channelFrames(p) : []);
    const warmFrames = framesOf(warm);
    for (const s of sides) await s.run(warm, warmFrames);

    for (let rep = 0; rep < REPS; rep++) {
      const payloads = makePayloads(MESSAGES, RUN, rep * MESSAGES);
      const frames = framesOf(payloads);
      const shift = rep % sides.length;
      const order = [...sides.slice(shift), ...sides.slice(0, shift)];
      for (const s of rep % 2 === 0 ? order : order.reverse()) {
        const before = process.cpuUsage();
        const rate = await s.run(payloads, frames);
        const used = process.cpuUsage(before);
        s.rates.push(rate);
        s.cpu.push((used.user + used.system) / payloads.length);
      }
      log(
        `rep ${rep + 1}: ${sides.map((s) => `${s.label} ${Math.round(s.rates.at(-1)!)} (${s.cpu.at(-1)!.toFixed(1)} µs)`).join(', ')}`,
      );
    }
    const kv = sides.find((s) => s.label === 'kafkajs k+v');
    const identical = sides.find((s) => s.label === 'plt identical');
    log('');
    for (const s of sides) {
      const ratio = (anchor: ProbeSide | undefined, name: string): string =>
        anchor && anchor !== s
          ? `, ${((median(s.rates) / median(anchor.rates)) * 100).toFixed(1)}% of ${name} (median of the reps' ratios ${(median(s.rates.map((r, i) => r / anchor.rates[i]!)) * 100).toFixed(1)}%: ${s.rates.map((r, i) => Math.round((r / anchor.rates[i]!) * 100)).join('/')})`
          : '';
      log(
        `${s.label.padEnd(16)} median ${Math.round(median(s.rates))} msgs/s, CPU ${median(s.cpu).toFixed(1)} µs/msg${ratio(kv, 'kafkajs k+v')}${ratio(identical, 'plt identical')}`,
      );
    }
  } finally {
    await channel?.close();
    await connection?.disconnect();
    await kafkajs?.disconnect();
    await plt?.close();
    await admin.deleteTopics({ topics: [TOPIC] }).catch(() => undefined);
    await admin.disconnect();
  }
}

function side(
  label: string,
  run: (payloads: readonly BenchPayload[], frames: readonly RecordFrame[]) => Promise<number>,
): ProbeSide {
  return { label, run, rates: [], cpu: [] };
}

await main();
