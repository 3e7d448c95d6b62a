/**
 * The gomes side: the Kafka publisher channel (sync and async mode), the event bus over that
 * channel, and the full consumer path users get (createGomes + consumer channel +
 * eventDrivenConsumer: gomes-consume.ts), all with gomes' defaults.
 */
import {
  createGomes,
  DEFAULT_ORIGIN,
  Event,
  MessageBuilder,
  newMessageId,
  noopLogger,
  type Gomes,
  type Message,
} from '@gomes/core';
import {
  KafkaConnection,
  KafkaMessageTranslator,
  KafkaPublisherChannelBuilder,
  type KafkaDriverName,
  type KafkaOutboundRecord,
  type KafkaPublisherChannel,
  type SerializationContext,
} from '@gomes/kafka';
import type { BenchPayload } from './payload.js';
import type { RecordFrame } from './raw-kafka.js';
import { elapsedMs } from './stats.js';

/** Route of the benchmark event. */
export const BENCH_ROUTE = 'benchOrderPlaced';

/** The benchmark event: no class-validator constraints, so validation finds nothing to check. */
@Event(BENCH_ROUTE)
export class BenchOrderPlaced {
  orderId!: string;
  customerId!: string;
  seq!: number;
}

/** A connected Kafka connection on `driver` (no-op logger, gomes defaults). */
export async function gomesConnection(
  brokers: readonly string[],
  driver: KafkaDriverName = 'kafkajs',
): Promise<KafkaConnection> {
  const connection = new KafkaConnection('kafka', brokers, { driver });
  await connection.connect();
  return connection;
}

/** A publisher channel with gomes' defaults (sync, acks=-1, idempotent, batch 100), or async mode. */
export async function gomesPublisher(
  connection: KafkaConnection,
  topic: string,
  mode: 'sync' | 'async',
): Promise<KafkaPublisherChannel> {
  const builder = new KafkaPublisherChannelBuilder('kafka', topic);
  return (mode === 'async' ? builder.withAsync(true) : builder).build({ connection, logger: noopLogger });
}

/** The message an event bus would build for `payload` (route, messageType Event). */
export function eventMessage(payload: BenchPayload): Message {
  return MessageBuilder.withPayload(payload).messageType('Event').route(BENCH_ROUTE).build();
}

/**
 * The key and headers gomes writes for each payload sent with `channel.send(eventMessage(p))`: made
 * by gomes' own message builder and translator, so they are the records of rows 1a/1b.
 */
export function channelFrames(payloads: readonly BenchPayload[]): RecordFrame[] {
  const translator = new KafkaMessageTranslator();
  return payloads.map((p) => frameOf(translator.toRecord(eventMessage(p))));
}

/**
 * The key and headers `gomes.eventBusByChannel(topic).publish(event)` writes for each payload: an
 * event message with a new correlationId (the record key) and the channel name. Checked against a
 * record the bus really built ({@link captureBusRecord}, {@link checkSameShape}).
 */
export function busFrames(payloads: readonly BenchPayload[], topic: string): RecordFrame[] {
  const translator = new KafkaMessageTranslator();
  return payloads.map((p) =>
    frameOf(
      translator.toRecord(
        MessageBuilder.withPayload(p)
          .messageType('Event')
          .route(BENCH_ROUTE)
          .correlationId(newMessageId())
          .origin(DEFAULT_ORIGIN) // the bus writes origin right after the ids
          .channelName(topic)
          .build(),
      ),
    ),
  );
}

function frameOf(record: KafkaOutboundRecord): RecordFrame {
  return { key: record.key, headers: record.headers };
}

/** The record `eventBusByChannel(topic).publish` builds for `payload` (sent once, to `topic`). */
export async function captureBusRecord(
  brokers: readonly string[],
  topic: string,
  payload: BenchPayload,
): Promise<KafkaOutboundRecord> {
  let captured: KafkaOutboundRecord | undefined;
  class CapturingTranslator extends KafkaMessageTranslator {
    override toRecord(message: Message, context?: SerializationContext): KafkaOutboundRecord {
      const record = super.toRecord(message, context);
      captured ??= record;
      return record;
    }
  }
  const app = createGomes({ name: 'bench-capture' });
  app.addChannelConnection(new KafkaConnection('kafka', brokers));
  app.addPublisherChannel(
    new KafkaPublisherChannelBuilder('kafka', topic).withMessageTranslator(new CapturingTranslator()),
  );
  await app.start();
  try {
    await app.eventBusByChannel(topic).publish(Object.assign(new BenchOrderPlaced(), payload));
  } finally {
    await app.shutdown();
  }
  if (!captured) throw new Error('the event bus sent no record');
  return captured;
}

/**
 * Throws unless `frame` has the same key length and the same headers (names, order, value lengths)
 * as `record`: the raw side then sends records identical to gomes' but for the ids' and timestamps'
 * own characters.
 */
export function checkSameShape(what: string, frame: RecordFrame, record: KafkaOutboundRecord): void {
  const shape = (key: string | null, headers: Readonly<Record<string, string>>): string =>
    JSON.stringify([key?.length ?? -1, Object.entries(headers).map(([k, v]) => [k, v.length])]);
  const expected = shape(record.key, record.headers);
  const actual = shape(frame.key, frame.headers);
  if (actual !== expected) throw new Error(`${what}: raw records ${actual} differ from gomes' ${expected}`);
}

/**
 * Sync mode: every message built and sent with `channel.send`, at most `window` sends awaiting
 * their broker ack at once (the channel coalesces them into produce requests of `batchSize`).
 * Returns msgs/s; every send has resolved (broker ack) when the clock stops.
 */
export async function gomesConcurrentPublish(
  channel: KafkaPublisherChannel,
  payloads: readonly BenchPayload[],
  window: number,
): Promise<number> {
  const start = process.hrtime.bigint();
  // The task hands back the channel's own promise (no async wrapper: an async function returning a
  // promise costs extra microtask hops per message, harness overhead the raw side does not have).
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  await windowed(payloads, window, (p) => channel.send(eventMessage(p)));
  return payloads.length / (elapsedMs(start) / 1000);
}

/**
 * Async mode: `send` resolves on enqueue (waits for room beyond `maxBufferedMessages`); the clock
 * stops when `flush()` resolved, i.e. after the broker acked every batch. Failures are counted.
 */
export async function gomesAsyncPublish(
  channel: KafkaPublisherChannel,
  payloads: readonly BenchPayload[],
): Promise<number> {
  const failedBefore = channel.stats.failed;
  const start = process.hrtime.bigint();
  for (const p of payloads) await channel.send(eventMessage(p));
  await channel.flush();
  const ms = elapsedMs(start);
  if (channel.stats.failed !== failedBefore)
    throw new Error(`${channel.stats.failed - failedBefore} async sends failed`);
  return payloads.length / (ms / 1000);
}

/** Awaited single sends through the channel (sync mode); returns each send's latency in ms. */
export async function gomesSingleLatencies(
  channel: KafkaPublisherChannel,
  payloads: readonly BenchPayload[],
): Promise<number[]> {
  const latencies: number[] = [];
  for (const p of payloads) {
    const start = process.hrtime.bigint();
    await channel.send(eventMessage(p));
    latencies.push(elapsedMs(start));
  }
  return latencies;
}

/** A started gomes instance with one publisher channel (for `eventBusByChannel`). */
export async function gomesWithPublisher(
  brokers: readonly string[],
  topic: string,
  driver: KafkaDriverName = 'kafkajs',
): Promise<Gomes> {
  const app = createGomes({ name: 'bench-publisher' });
  app.addChannelConnection(new KafkaConnection('kafka', brokers, { driver }));
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await app.start();
  return app;
}

/**
 * `gomes.eventBusByChannel(topic).publish(event)` (validation, message building, channel send), at
 * most `window` publishes awaiting their broker ack at once. Returns msgs/s.
 */
export async function gomesEventBusPublish(
  app: Gomes,
  topic: string,
  payloads: readonly BenchPayload[],
  window: number,
): Promise<number> {
  const bus = app.eventBusByChannel(topic);
  const start = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  await windowed(payloads, window, (p) => bus.publish(Object.assign(new BenchOrderPlaced(), p)));
  return payloads.length / (elapsedMs(start) / 1000);
}

/** Runs `task` over `items` with at most `window` tasks pending. */
async function windowed<T>(
  items: readonly T[],
  window: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, worker));
}
