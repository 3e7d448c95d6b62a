/**
 * The raw kafkajs side: what a user would write with kafkajs directly, configured like gomes'
 * defaults (idempotent producer, acks=-1, one request in flight, no compression, murmur2
 * partitioner; consumer with auto-commit off, committing what it processed).
 */
import kafkajs from 'kafkajs';
import type { Admin, Consumer, KafkaConfig, Producer } from 'kafkajs';
import type { BenchPayload } from './payload.js';
import { timedBatches, timedSends } from './timed-sends.js';

const { Kafka, CompressionTypes, Partitioners, logLevel } = kafkajs;

/** The same client settings as gomes' driver (timeouts, retries), with kafkajs logging off. */
export function rawClient(brokers: readonly string[], clientId: string): InstanceType<typeof Kafka> {
  const config: KafkaConfig = {
    brokers: [...brokers],
    clientId,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    enforceRequestTimeout: true,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
    logLevel: logLevel.NOTHING,
  };
  return new Kafka(config);
}

/** Admin helpers: create / delete topics, read committed offsets and high watermarks. */
export async function rawAdmin(brokers: readonly string[]): Promise<Admin> {
  const admin = rawClient(brokers, 'gomes-bench-admin').admin();
  await admin.connect();
  return admin;
}

/** An idempotent producer with gomes' publisher defaults (max attempts 10, one request in flight). */
export async function rawProducer(brokers: readonly string[]): Promise<Producer> {
  const producer = rawClient(brokers, 'gomes-bench-raw-producer').producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 9, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  await producer.connect();
  return producer;
}

/**
 * Publishes `payloads` with `producer.send` in batches of `batchSize`, each batch awaited (acks=-1),
 * so every message is acknowledged by the broker when it returns: key (the order id) and value only,
 * as a plain kafkajs user writes it. Returns msgs/s.
 */
export async function rawBatchedPublish(
  producer: Producer,
  topic: string,
  payloads: readonly BenchPayload[],
  batchSize: number,
): Promise<number> {
  return timedBatches(payloads.length, batchSize, async (i, end) => {
    const messages = [];
    for (const p of payloads.slice(i, end)) messages.push({ key: p.orderId, value: JSON.stringify(p) });
    await producer.send({ topic, acks: -1, timeout: 30000, compression: CompressionTypes.None, messages });
  });
}

/** The key and headers of one record gomes would send, made before the clock starts. */
export interface RecordFrame {
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The same as {@link rawBatchedPublish}, but every record carries the key and headers gomes writes
 * (`frames[i]` for `payloads[i]`, built beforehand: the raw side does not make ids or timestamps),
 * with the value made the same way (`JSON.stringify` at send time). Returns msgs/s.
 */
export async function rawIdenticalPublish(
  producer: Producer,
  topic: string,
  payloads: readonly BenchPayload[],
  frames: readonly RecordFrame[],
  batchSize: number,
): Promise<number> {
  if (frames.length !== payloads.length) throw new Error('one record frame per payload');
  return timedBatches(payloads.length, batchSize, async (i, end) => {
    const messages = [];
    for (let j = i; j < end; j++) {
      const frame = frames[j]!;
      messages.push({ key: frame.key, value: JSON.stringify(payloads[j]), headers: frame.headers });
    }
    await producer.send({ topic, acks: -1, timeout: 30000, compression: CompressionTypes.None, messages });
  });
}

/** Awaited single sends (acks=-1); returns each send's latency in ms. */
export async function rawSingleLatencies(
  producer: Producer,
  topic: string,
  payloads: readonly BenchPayload[],
): Promise<number[]> {
  return timedSends(payloads, async (p) => {
    await producer.send({
      topic,
      acks: -1,
      timeout: 30000,
      compression: CompressionTypes.None,
      messages: [{ key: p.orderId, value: JSON.stringify(p) }],
    });
  });
}

/** Result of one consume run. */
export interface ConsumeResult {
  /** Messages per second from the first message handed over to the last one processed. */
  readonly msgsPerSec: number;
  /** Messages processed. */
  readonly count: number;
}

/**
 * Consumes `expected` records of a pre-filled topic with a fresh group: eachBatch, JSON.parse of
 * every value, `resolveOffset` per record, auto-commit off and processed offsets committed every
 * second (as gomes' default `commitIntervalMs`) and once more at the end; fetch settings as gomes'
 * defaults. The clock runs from the first record to the last one processed.
 */
export async function rawConsume(
  brokers: readonly string[],
  topic: string,
  groupId: string,
  expected: number,
  timeoutMs: number,
): Promise<ConsumeResult> {
  const consumer: Consumer = rawClient(brokers, 'gomes-bench-raw-consumer').consumer({
    groupId,
    sessionTimeout: 30000,
    rebalanceTimeout: 30000,
    heartbeatInterval: 3000,
    minBytes: 1,
    maxBytes: 10485760,
    maxBytesPerPartition: 1048576,
    maxWaitTimeInMs: 500,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  const processed = new Map<number, string>();
  const commit = async (): Promise<void> => {
    const offsets = [...processed].map(([partition, offset]) => ({
      topic,
      partition,
      offset: (BigInt(offset) + 1n).toString(),
    }));
    if (offsets.length > 0) await consumer.commitOffsets(offsets);
  };
  let count = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  let lastCommit = Date.now();
  let sink = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        for (const m of batch.messages) {
          if (!payload.isRunning() || payload.isStale()) break;
          first ??= process.hrtime.bigint();
          const value = JSON.parse(m.value?.toString('utf8') ?? 'null') as { seq?: number } | null;
          sink += value?.seq ?? 0;
          payload.resolveOffset(m.offset);
          processed.set(batch.partition, m.offset);
          if (++count === expected) {
            last = process.hrtime.bigint();
            finish();
          }
        }
        if (Date.now() - lastCommit >= 1000) {
          lastCommit = Date.now();
          await commit();
        }
        await payload.heartbeat();
      },
    });
    await withTimeout(done, timeoutMs, () => `raw consumer got ${count}/${expected} records`);
    await commit();
  } finally {
    await consumer.disconnect();
  }
  if (sink < 0) throw new Error('unreachable');
  const ms = Number((last ?? 0n) - (first ?? 0n)) / 1e6;
  return { msgsPerSec: count / (ms / 1000), count };
}

/** Rejects with `what()` when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
