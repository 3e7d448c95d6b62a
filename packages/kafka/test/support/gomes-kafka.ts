// Helpers for the end-to-end gomes-over-Kafka integration tests (gomes-*.int.spec.ts): gomes instances
// wired to the real broker through the public API (createGomes + KafkaConnection + builders), each
// registered with the harness so `closeAll()` shuts it down.
import 'reflect-metadata';
import {
  createGomes,
  noopLogger,
  readDeadLetterEnvelope,
  type DeadLetterEnvelope,
  type Gomes,
  type GomesOptions,
  type Message,
} from '@gomes/core';
import { KafkaConnection, KafkaMessageTranslator, type KafkaConnectionOptions } from '@gomes/kafka';
import { admin, env, readRaw, testDriverName, track } from './kafka-harness.js';

/** Consumer settings that keep group joins and commits fast on a 2-core machine. */
export { consumerBuilder } from './kafka-harness.js';

/** A gomes instance with its own KafkaConnection named `kafka` (driver under test); shut down by `closeAll()`. */
export function kafkaGomes(
  name: string,
  options: Partial<GomesOptions> = {},
  connection: KafkaConnectionOptions = {},
  brokers: readonly string[] = env.brokers,
): Gomes {
  const app = createGomes({
    name,
    logger: noopLogger,
    shutdownTimeoutMs: 10_000,
    requestTimeoutMs: 15_000,
    ...options,
  });
  app.addChannelConnection(
    new KafkaConnection('kafka', brokers, {
      driver: testDriverName(),
      socketConnectTimeoutMs: 5000,
      initialRetryTimeMs: 100,
      maxRetryTimeMs: 1000,
      ...connection,
    }),
  );
  track({ close: async () => app.shutdown() });
  return app;
}

/** Committed offsets of `group` on `topic`, by partition (`-1` = none). */
export async function committedOffsets(group: string, topic: string): Promise<number[]> {
  const a = await admin();
  const offsets = await a.fetchCommittedOffsets(group, topic);
  return offsets.sort((x, y) => x.partition - y.partition).map((p) => Number(p.offset));
}

/** Reads `count` dead-letter records of `topic` and decodes them back into gomes messages and envelopes. */
export async function readDeadLetters(
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<{ message: Message; envelope: DeadLetterEnvelope; value: string; offset: string }[]> {
  const translator = new KafkaMessageTranslator();
  const records = await readRaw(topic, count, timeoutMs);
  return records.map((record) => {
    const message = translator.fromRecord(record);
    const envelope = readDeadLetterEnvelope(message);
    if (!envelope) throw new Error(`record ${record.offset} of ${topic} is not a dead letter`);
    return { message, envelope, value: record.value?.toString('utf8') ?? '', offset: record.offset };
  });
}

/** A promise with its resolver (for blocking handlers). */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Waits for `ms` unless `signal` aborts first (then rejects with its reason). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
