/**
 * The second anchor: plain @platformatic/kafka 1.x, used the way its documentation shows, with the
 * same settings as the raw kafkajs side (idempotent, acks=-1, Java-compatible partitioner, batches
 * of 100 awaited; consume with JSON.parse and processed offsets committed every second).
 */
import {
  compatibilityPartitioner,
  Consumer,
  ProduceAcks,
  Producer,
  type MessageToProduce,
} from '@platformatic/kafka';
import type { BenchPayload } from './payload.js';
import { withTimeout, type ConsumeResult, type RecordFrame } from './raw-kafka.js';
import { timedBatches, timedSends } from './timed-sends.js';

/** An idempotent producer (acks=-1 implied), murmur2 as Java / kafkajs, 10 attempts. */
export function rawPlatformaticProducer(brokers: readonly string[]): Producer {
  return new Producer({
    clientId: 'gomes-bench-raw-platformatic-producer',
    bootstrapBrokers: [...brokers],
    idempotent: true,
    retries: 9,
    retryDelay: 300,
    partitioner: compatibilityPartitioner,
  });
}

/**
 * Publishes `payloads` in batches of `batchSize`, each `send` awaited (acks=-1). Returns msgs/s.
 * `headers` adds the same string headers to every record (gomes' record, byte for byte).
 */
export async function rawPlatformaticBatchedPublish(
  producer: Producer,
  topic: string,
  payloads: readonly BenchPayload[],
  batchSize: number,
  headers?: Readonly<Record<string, string>>,
): Promise<number> {
  const encoded = headers
    ? new Map(Object.entries(headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]))
    : undefined;
  return timedBatches(payloads.length, batchSize, async (i, end) => {
    const messages: MessageToProduce[] = [];
    for (const p of payloads.slice(i, end)) {
      const value = Buffer.from(JSON.stringify(p));
      const key = Buffer.from(p.orderId);
      messages.push(encoded ? { topic, key, value, headers: new Map(encoded) } : { topic, key, value });
    }
    await producer.send({ messages, acks: ProduceAcks.ALL });
  });
}

/**
 * The same as {@link rawPlatformaticBatchedPublish}, but every record carries the key and headers
 * gomes writes (`frames[i]` for `payloads[i]`, built beforehand), as the kafkajs "identical" anchor.
 */
export async function rawPlatformaticIdenticalPublish(
  producer: Producer,
  topic: string,
  payloads: readonly BenchPayload[],
  frames: readonly RecordFrame[],
  batchSize: number,
): Promise<number> {
  if (frames.length !== payloads.length) throw new Error('one record frame per payload');
  return timedBatches(payloads.length, batchSize, async (i, end) => {
    const messages: MessageToProduce[] = [];
    for (let j = i; j < end; j++) {
      const frame = frames[j]!;
      const headers = new Map<Buffer, Buffer>();
      for (const name in frame.headers) headers.set(Buffer.from(name), Buffer.from(frame.headers[name]!));
      messages.push({
        topic,
        key: frame.key === null ? undefined : Buffer.from(frame.key),
        value: Buffer.from(JSON.stringify(payloads[j])),
        headers,
      });
    }
    await producer.send({ messages, acks: ProduceAcks.ALL });
  });
}

/** Awaited single sends (acks=-1); returns each send's latency in ms. */
export async function rawPlatformaticSingleLatencies(
  producer: Producer,
  topic: string,
  payloads: readonly BenchPayload[],
): Promise<number[]> {
  return timedSends(payloads, async (p) => {
    await producer.send({
      messages: [{ topic, key: Buffer.from(p.orderId), value: Buffer.from(JSON.stringify(p)) }],
      acks: ProduceAcks.ALL,
    });
  });
}

/**
 * Consumes `expected` records of a pre-filled topic with a fresh group through the library's stream
 * API (from the earliest offset): JSON.parse of every value, auto-commit off, processed offsets
 * committed every second and once more at the end; fetch settings as gomes' defaults. The clock runs
 * from the first record to the last one processed.
 */
export async function rawPlatformaticConsume(
  brokers: readonly string[],
  topic: string,
  groupId: string,
  expected: number,
  timeoutMs: number,
): Promise<ConsumeResult> {
  const consumer = new Consumer({
    clientId: 'gomes-bench-raw-platformatic-consumer',
    bootstrapBrokers: [...brokers],
    groupId,
    sessionTimeout: 30000,
    rebalanceTimeout: 30000,
    heartbeatInterval: 3000,
    minBytes: 1,
    maxBytes: 10485760,
    maxBytesPerPartition: 1048576,
    maxWaitTime: 500,
    autocommit: false,
  });
  const processed = new Map<number, bigint>();
  const commit = async (): Promise<void> => {
    const offsets = [...processed].map(([partition, offset]) => ({
      topic,
      partition,
      offset: offset + 1n,
      leaderEpoch: -1,
    }));
    if (offsets.length > 0) await consumer.commit({ offsets });
  };
  let count = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  let sink = 0;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const timer = setInterval(() => void commit().catch(() => undefined), 1000);
    try {
      const reading = (async () => {
        for await (const m of stream) {
          first ??= process.hrtime.bigint();
          const value = JSON.parse(m.value.toString('utf8')) as { seq?: number } | null;
          sink += value?.seq ?? 0;
          processed.set(m.partition, m.offset);
          if (++count === expected) {
            last = process.hrtime.bigint();
            break;
          }
        }
      })();
      await withTimeout(
        reading,
        timeoutMs,
        () => `raw platformatic consumer got ${count}/${expected} records`,
      );
    } finally {
      clearInterval(timer);
    }
    await commit();
  } finally {
    await new Promise<void>((resolve, reject) =>
      consumer.close(true, (error) => (error ? reject(error) : resolve())),
    );
  }
  if (sink < 0) throw new Error('unreachable');
  const ms = Number((last ?? 0n) - (first ?? 0n)) / 1e6;
  return { msgsPerSec: count / (ms / 1000), count };
}
