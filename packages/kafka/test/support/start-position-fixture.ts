// The fixture of the start-position and seek integration tests (gomes-start-position-*.int.spec.ts):
// a 3-partition topic with records in two phases separated by a timestamp, the positions every record
// landed at, and a consumer app of a group on the consume core that records the positions it handled.
import 'reflect-metadata';
import { IsInt, IsString } from 'class-validator';
import {
  Event,
  defineEventHandler,
  type EventDrivenConsumer,
  type Gomes,
  type LogFields,
  type Logger,
  type StartPosition,
} from '@gomes/core';
import { KafkaPublisherChannelBuilder, type KafkaStartOffset } from '@gomes/kafka';
import { uniqueTopic } from './kafka-test-env.js';
import { createTopic, readRaw, waitFor } from './kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes } from './gomes-kafka.js';

@Event('sps.counted')
export class Counted {
  @IsString() key: string;
  @IsString() phase: string;
  @IsInt() seq: number;
  constructor(key: string, phase: string, seq: number) {
    this.key = key;
    this.phase = phase;
    this.seq = seq;
  }
}

export const PARTITIONS = 3;
/** Records per phase (two phases): ~200 per partition in all. */
export const PER_PHASE = 300;
export const KEYS = 30;

/** Where a record landed, and whether it is before (`a`) or at/after (`b`) the fixture's `at`. */
export interface Pos {
  readonly partition: number;
  readonly offset: number;
  readonly phase: 'a' | 'b' | 'c';
}

export interface Fixture {
  readonly topic: string;
  /** messageId → position (filled for records published later too). */
  readonly byId: Map<string, Pos>;
  /** Per partition: its end offset after the two phases. */
  readonly ends: number[];
  /** Per partition: the offset of its first phase-b record. */
  readonly firstB: number[];
  /** Strictly after every phase-a record's timestamp, at or before every phase-b one's. */
  readonly at: Date;
  readonly producer: Gomes;
}

export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** A time strictly after every record timestamp written so far (waits for the clock to tick). */
export async function nextInstant(): Promise<Date> {
  const now = Date.now();
  await waitFor(() => Date.now() > now, 1000);
  return new Date();
}

export async function publishPhase(
  producer: Gomes,
  topic: string,
  phase: string,
  count: number,
): Promise<void> {
  const bus = producer.eventBusByChannel(topic);
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      range(i, Math.min(count, i + 50)).map(async (seq) => {
        const key = `k-${seq % KEYS}`;
        await bus.publish(new Counted(key, phase, seq), { partitionKey: key });
      }),
    );
  }
}

/**
 * Reads back every record of `topic` (`total` of them) and maps the message ids not mapped yet to
 * their positions.
 */
export async function mapPositions(
  topic: string,
  total: number,
  phaseOf: (timestampMs: number) => Pos['phase'],
  into: Map<string, Pos>,
): Promise<void> {
  for (const record of await readRaw(topic, total)) {
    const id = record.headers['messageId'];
    if (id === undefined) throw new Error(`record ${record.partition}/${record.offset} has no messageId`);
    if (into.has(id)) continue;
    into.set(id, {
      partition: record.partition,
      offset: Number(record.offset),
      phase: phaseOf(Number(record.timestamp)),
    });
  }
}

/** A topic of 3 partitions with PER_PHASE records before `at` and PER_PHASE at or after it. */
export async function fixture(): Promise<Fixture> {
  const topic = await createTopic(uniqueTopic('sps'), PARTITIONS);
  const producer = kafkaGomes('sps-producer').addPublisherChannel(
    new KafkaPublisherChannelBuilder('kafka', topic),
  );
  await producer.start();
  await publishPhase(producer, topic, 'a', PER_PHASE);
  const at = await nextInstant();
  await publishPhase(producer, topic, 'b', PER_PHASE);
  const byId = new Map<string, Pos>();
  await mapPositions(topic, 2 * PER_PHASE, (ts) => (ts >= at.getTime() ? 'b' : 'a'), byId);
  const all = [...byId.values()];
  const ends = range(0, PARTITIONS).map((p) => all.filter((x) => x.partition === p).length);
  const firstB = range(0, PARTITIONS).map((p) =>
    Math.min(...all.filter((x) => x.partition === p && x.phase === 'b').map((x) => x.offset)),
  );
  // Preconditions: every partition has enough records of both phases, phase a before phase b.
  for (let p = 0; p < PARTITIONS; p++) {
    expect(ends[p]).toBeGreaterThanOrEqual(100);
    expect(firstB[p]).toBeGreaterThanOrEqual(30);
    expect(ends[p]! - firstB[p]!).toBeGreaterThanOrEqual(30);
    const phases = all.filter((x) => x.partition === p).sort((x, y) => x.offset - y.offset);
    expect(phases.map((x) => x.phase)).toEqual(phases.map((x) => (x.offset < firstB[p]! ? 'a' : 'b')));
  }
  return { topic, byId, ends, firstB, at, producer };
}

/** A logger that records the messages of its lines (to see when a start position applied). */
export function recording(): Logger & { messages: string[] } {
  const messages: string[] = [];
  const logger: Logger & { messages: string[] } = {
    messages,
    debug: () => undefined,
    info: (message: string, _fields?: LogFields) => void messages.push(message),
    warn: (message: string) => void messages.push(message),
    error: (message: string) => void messages.push(message),
    child: () => logger,
  };
  return logger;
}

export interface Running {
  readonly app: Gomes;
  readonly consumer: EventDrivenConsumer;
  /** Message ids handled, in handling order. */
  readonly ids: string[];
  /** Positions handled, in handling order (every id handled must be mapped). */
  readonly seen: Pos[];
  readonly logger: ReturnType<typeof recording>;
}

/** A consumer app of `group` on the consume core, recording the positions it handled. */
export async function consume(
  f: Fixture,
  group: string,
  options: {
    start?: StartPosition;
    startOffset?: KafkaStartOffset;
    /** Awaited before a record is recorded as handled (to hold one in flight). */
    hold?: (pos: Pos) => Promise<void> | undefined;
    /** Throws in the handler of `pos` at this attempt (the channel retries: 3 attempts, 300 ms apart). */
    fail?: (pos: Pos, attempt: number) => boolean;
    /** Further channel settings (commit interval, …). */
    channel?: (builder: ReturnType<typeof consumerBuilder>) => ReturnType<typeof consumerBuilder>;
    /** Further consumer settings (processors, revoke budget, …). */
    consumer?: (consumer: EventDrivenConsumer) => EventDrivenConsumer;
  } = {},
): Promise<Running> {
  const ids: string[] = [];
  const logger = recording();
  let channel = consumerBuilder(f.topic, 'counter').withGroupId(group);
  if (options.startOffset) channel = channel.withStartOffset(options.startOffset);
  if (options.fail)
    channel = channel.withRetry({ maxAttempts: 3, initialDelayMs: 300, multiplier: 1, jitter: 0 });
  if (options.channel) channel = options.channel(channel);
  const app = kafkaGomes(`sps-${group}`, { logger })
    .addConsumerChannel(channel)
    .addActionHandler(
      defineEventHandler(Counted, async (_event, ctx) => {
        // Records published during a test are mapped to positions after they were read back.
        const pos = f.byId.get(ctx.messageId);
        if (pos) await options.hold?.(pos);
        if (pos && options.fail?.(pos, ctx.attempt)) throw new Error(`attempt ${ctx.attempt} fails`);
        ids.push(ctx.messageId);
      }),
    );
  await app.start();
  const made = app.eventDrivenConsumer('counter');
  const positioned = options.start ? made.withStartPosition(options.start) : made;
  const consumer = options.consumer ? options.consumer(positioned) : positioned;
  await consumer.run();
  return {
    app,
    consumer,
    ids,
    get seen(): Pos[] {
      return ids.map((id) => {
        const pos = f.byId.get(id);
        if (!pos) throw new Error(`message ${id} handled but not mapped to a position`);
        return pos;
      });
    },
    logger,
  };
}

/** Offsets handled in `partition`, in handling order. */
export const offsetsIn = (seen: readonly Pos[], partition: number): number[] =>
  seen.filter((x) => x.partition === partition).map((x) => x.offset);

export async function committedAt(group: string, topic: string, expected: number[]): Promise<void> {
  await waitFor(
    async () => JSON.stringify(await committedOffsets(group, topic)) === JSON.stringify(expected),
    30_000,
    { description: `committed ${expected.join(',')}` },
  );
}

/** Runs a group through every record and stops it: its committed offsets are the ends. */
export async function groupAtEnd(f: Fixture, group: string): Promise<void> {
  const first = await consume(f, group);
  const total = f.ends.reduce((a, b) => a + b, 0);
  await waitFor(() => first.seen.length === total, 60_000, { description: `${total} handled` });
  await committedAt(group, f.topic, f.ends);
  await first.app.shutdown();
}
