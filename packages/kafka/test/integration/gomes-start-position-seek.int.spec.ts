// Start positions (`withStartPosition`) and `seek` of an event-driven consumer over the real broker
// (each driver of the run), on the consume core: earliest / latest / timestamp / explicit offsets
// resolved by the Kafka source with the broker's list-offsets, on a fresh group and over committed
// offsets; seek by timestamp and by offset on a running consumer, with a record in flight.
// 3 partitions x ~200 records in two phases separated by a timestamp.
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
import { holdsFor } from '@gomes/core/testing';
import { KafkaPublisherChannelBuilder, type KafkaStartOffset } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, readRaw, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, gate, kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

jest.setTimeout(180_000);

@Event('sps.counted')
class Counted {
  @IsString() key: string;
  @IsString() phase: string;
  @IsInt() seq: number;
  constructor(key: string, phase: string, seq: number) {
    this.key = key;
    this.phase = phase;
    this.seq = seq;
  }
}

const PARTITIONS = 3;
/** Records per phase (two phases): ~200 per partition in all. */
const PER_PHASE = 300;
const KEYS = 30;

/** Where a record landed, and whether it is before (`a`) or at/after (`b`) the fixture's `at`. */
interface Pos {
  readonly partition: number;
  readonly offset: number;
  readonly phase: 'a' | 'b' | 'c';
}

interface Fixture {
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

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** A time strictly after every record timestamp written so far (waits for the clock to tick). */
async function nextInstant(): Promise<Date> {
  const now = Date.now();
  await waitFor(() => Date.now() > now, 1000);
  return new Date();
}

async function publishPhase(producer: Gomes, topic: string, phase: string, count: number): Promise<void> {
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
async function mapPositions(
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
async function fixture(): Promise<Fixture> {
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
function recording(): Logger & { messages: string[] } {
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

interface Running {
  readonly app: Gomes;
  readonly consumer: EventDrivenConsumer;
  /** Message ids handled, in handling order. */
  readonly ids: string[];
  /** Positions handled, in handling order (every id handled must be mapped). */
  readonly seen: Pos[];
  readonly logger: ReturnType<typeof recording>;
}

/** A consumer app of `group` on the consume core, recording the positions it handled. */
async function consume(
  f: Fixture,
  group: string,
  options: {
    start?: StartPosition;
    startOffset?: KafkaStartOffset;
    /** Awaited before a record is recorded as handled (to hold one in flight). */
    hold?: (pos: Pos) => Promise<void> | undefined;
    /** Throws in the handler of `pos` at this attempt (the channel retries: 3 attempts, 300 ms apart). */
    fail?: (pos: Pos, attempt: number) => boolean;
  } = {},
): Promise<Running> {
  const ids: string[] = [];
  const logger = recording();
  let channel = consumerBuilder(f.topic, 'counter').withGroupId(group);
  if (options.startOffset) channel = channel.withStartOffset(options.startOffset);
  if (options.fail)
    channel = channel.withRetry({ maxAttempts: 3, initialDelayMs: 300, multiplier: 1, jitter: 0 });
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
  const consumer = options.start ? made.withStartPosition(options.start) : made;
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
const offsetsIn = (seen: readonly Pos[], partition: number): number[] =>
  seen.filter((x) => x.partition === partition).map((x) => x.offset);

async function committedAt(group: string, topic: string, expected: number[]): Promise<void> {
  await waitFor(
    async () => JSON.stringify(await committedOffsets(group, topic)) === JSON.stringify(expected),
    30_000,
    { description: `committed ${expected.join(',')}` },
  );
}

/** Runs a group through every record and stops it: its committed offsets are the ends. */
async function groupAtEnd(f: Fixture, group: string): Promise<void> {
  const first = await consume(f, group);
  const total = f.ends.reduce((a, b) => a + b, 0);
  await waitFor(() => first.seen.length === total, 60_000, { description: `${total} handled` });
  await committedAt(group, f.topic, f.ends);
  await first.app.shutdown();
}

describe('start positions and seek over Kafka (consume core)', () => {
  describe('withStartPosition on a fresh group', () => {
    it('earliest reads every partition from its start, over the channel startOffset latest', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-earliest');
      const run = await consume(f, group, { start: { kind: 'earliest' }, startOffset: 'latest' });
      const total = f.ends.reduce((a, b) => a + b, 0);
      await waitFor(() => run.ids.length === total, 60_000, { description: `${total} handled` });
      for (let p = 0; p < PARTITIONS; p++) expect(offsetsIn(run.seen, p)).toEqual(range(0, f.ends[p]!));
      await committedAt(group, f.topic, f.ends);
    });

    it('latest skips the backlog: only records appended after it applied are handled', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-latest');
      const run = await consume(f, group, { start: { kind: 'latest' } });
      await waitFor(() => run.logger.messages.includes('Start position applied'), 30_000, {
        description: 'start position applied',
      });
      await publishPhase(f.producer, f.topic, 'c', 60);
      await waitFor(() => run.ids.length >= 60, 60_000, { description: '60 handled' });
      await holdsFor(() => run.ids.length === 60, 300);
      await mapPositions(f.topic, 2 * PER_PHASE + 60, () => 'c', f.byId);
      const appended = [...f.byId.values()].filter((x) => x.offset >= f.ends[x.partition]!);
      expect(appended).toHaveLength(60);
      expect(run.seen.every((x) => x.offset >= f.ends[x.partition]!)).toBe(true);
      const newEnds = range(0, PARTITIONS).map(
        (p) => f.ends[p]! + appended.filter((x) => x.partition === p).length,
      );
      for (let p = 0; p < PARTITIONS; p++)
        expect(offsetsIn(run.seen, p)).toEqual(range(f.ends[p]!, newEnds[p]!));
      await committedAt(group, f.topic, newEnds);
    });

    it('a timestamp starts each partition at its first record at or after it (offsetsForTimes)', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-time');
      const run = await consume(f, group, { start: { kind: 'timestamp', timestamp: f.at } });
      const expected = range(0, PARTITIONS).reduce((n, p) => n + f.ends[p]! - f.firstB[p]!, 0);
      await waitFor(() => run.ids.length === expected, 60_000, { description: `${expected} handled` });
      await holdsFor(() => run.ids.length === expected, 300);
      expect(run.seen.every((x) => x.phase === 'b')).toBe(true);
      for (let p = 0; p < PARTITIONS; p++) {
        expect(offsetsIn(run.seen, p)).toEqual(range(f.firstB[p]!, f.ends[p]!));
      }
      await committedAt(group, f.topic, f.ends);
    });

    it('a timestamp after every record starts at the end', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-future');
      const run = await consume(f, group, {
        start: { kind: 'timestamp', timestamp: new Date(Date.now() + 3_600_000) },
      });
      await waitFor(() => run.logger.messages.includes('Start position applied'), 30_000, {
        description: 'start position applied',
      });
      await publishPhase(f.producer, f.topic, 'c', 9);
      await waitFor(() => run.ids.length >= 9, 60_000, { description: '9 handled' });
      await holdsFor(() => run.ids.length === 9, 300);
      await mapPositions(f.topic, 2 * PER_PHASE + 9, () => 'c', f.byId);
      expect(run.seen.every((x) => x.offset >= f.ends[x.partition]!)).toBe(true);
    });

    it('explicit offsets move the listed partitions; an unlisted one starts as the group would', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-offsets');
      const tail1 = f.ends[1]! - 7;
      const run = await consume(f, group, {
        start: { kind: 'offsets', offsets: { 0: '25', 1: String(tail1) } },
      });
      const expected = f.ends[0]! - 25 + 7 + f.ends[2]!;
      await waitFor(() => run.ids.length === expected, 60_000, { description: `${expected} handled` });
      await holdsFor(() => run.ids.length === expected, 300);
      expect(offsetsIn(run.seen, 0)).toEqual(range(25, f.ends[0]!));
      expect(offsetsIn(run.seen, 1)).toEqual(range(tail1, f.ends[1]!));
      // Partition 2 is not listed: the group has no committed offset, startOffset earliest.
      expect(offsetsIn(run.seen, 2)).toEqual(range(0, f.ends[2]!));
      await committedAt(group, f.topic, f.ends);
    });
  });

  describe('withStartPosition over committed offsets', () => {
    it('the start position wins over the committed offset (a timestamp rewinds the group)', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-committed');
      await groupAtEnd(f, group);
      const run = await consume(f, group, { start: { kind: 'timestamp', timestamp: f.at } });
      const expected = range(0, PARTITIONS).reduce((n, p) => n + f.ends[p]! - f.firstB[p]!, 0);
      await waitFor(() => run.ids.length === expected, 60_000, { description: `${expected} handled` });
      await holdsFor(() => run.ids.length === expected, 300);
      for (let p = 0; p < PARTITIONS; p++) {
        expect(offsetsIn(run.seen, p)).toEqual(range(f.firstB[p]!, f.ends[p]!));
      }
      await committedAt(group, f.topic, f.ends);
    });

    it('an offset past the end is out of range on the broker: the partition restarts as startOffset says', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-out-of-range');
      await groupAtEnd(f, group);
      // startOffset earliest (the default, as auto.offset.reset): partition 0 is read from its start.
      const run = await consume(f, group, {
        start: { kind: 'offsets', offsets: { 0: String(f.ends[0]! + 1000) } },
      });
      await waitFor(() => run.ids.length === f.ends[0]!, 60_000, {
        description: `${f.ends[0]} handled`,
      }).catch((e: unknown) => {
        throw new Error(
          `${String(e)}; got ${run.ids.length}: ${JSON.stringify(run.seen.map((p) => [p.partition, p.offset]))}`,
        );
      });
      await holdsFor(() => run.ids.length === f.ends[0]!, 300);
      expect(offsetsIn(run.seen, 0)).toEqual(range(0, f.ends[0]!));
      await committedAt(group, f.topic, f.ends);
    });

    it('earliest re-reads every partition of a group that committed', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-committed-earliest');
      await groupAtEnd(f, group);
      const run = await consume(f, group, { start: { kind: 'earliest' } });
      const total = f.ends.reduce((a, b) => a + b, 0);
      await waitFor(() => run.ids.length === total, 60_000, { description: `${total} handled` });
      for (let p = 0; p < PARTITIONS; p++) expect(offsetsIn(run.seen, p)).toEqual(range(0, f.ends[p]!));
      await committedAt(group, f.topic, f.ends);
    });
  });

  describe('seek on a running consumer', () => {
    it('by timestamp: the records from it are handled again in order, none before it', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-seek-time');
      const run = await consume(f, group);
      const total = f.ends.reduce((a, b) => a + b, 0);
      await waitFor(() => run.ids.length === total, 60_000, { description: `${total} handled` });
      await committedAt(group, f.topic, f.ends);
      const before = run.ids.length;
      const moved = await run.consumer.seek({ kind: 'timestamp', timestamp: f.at });
      expect([...moved].sort((a, b) => a.partition - b.partition)).toEqual(
        range(0, PARTITIONS).map((p) => ({ partition: p, offset: String(f.firstB[p]) })),
      );
      const again = range(0, PARTITIONS).reduce((n, p) => n + f.ends[p]! - f.firstB[p]!, 0);
      await waitFor(() => run.ids.length === before + again, 60_000, { description: `${again} again` });
      await holdsFor(() => run.ids.length === before + again, 300);
      const after = run.seen.slice(before);
      expect(after.every((x) => x.phase === 'b')).toBe(true);
      for (let p = 0; p < PARTITIONS; p++) {
        expect(offsetsIn(after, p)).toEqual(range(f.firstB[p]!, f.ends[p]!));
      }
      await committedAt(group, f.topic, f.ends);
    });

    it('repeated seeks while records keep arriving: each partition is read again from exactly each target', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-seek-live');
      const run = await consume(f, group);
      let produced = 0;
      let producing = true;
      const background = (async () => {
        while (producing) {
          await publishPhase(f.producer, f.topic, 'c', 30);
          produced += 30;
        }
      })();
      const targets = [10, 60, 35];
      for (const [round, target] of targets.entries()) {
        await waitFor(() => run.ids.length >= (round + 1) * 250, 60_000, { description: `round ${round}` });
        const moved = await run.consumer.seek({
          kind: 'offsets',
          offsets: Object.fromEntries(range(0, PARTITIONS).map((p) => [p, String(target)])),
        });
        expect(moved).toHaveLength(PARTITIONS);
      }
      producing = false;
      await background;
      const total = 2 * PER_PHASE + produced;
      await mapPositions(f.topic, total, () => 'c', f.byId);
      const ends = range(0, PARTITIONS).map(
        (p) => [...f.byId.values()].filter((x) => x.partition === p).length,
      );
      await waitFor(
        () => range(0, PARTITIONS).every((p) => offsetsIn(run.seen, p).at(-1) === ends[p]! - 1),
        60_000,
        { description: 'every partition at its end' },
      );
      await holdsFor(
        () => range(0, PARTITIONS).every((p) => offsetsIn(run.seen, p).at(-1) === ends[p]! - 1),
        300,
      );
      for (let p = 0; p < PARTITIONS; p++) {
        // Contiguous runs; each jump lands on the next seek's target (a seek from exactly its target
        // shows no jump). A batch fetched before a seek and handed out after it would jump elsewhere.
        const seen = offsetsIn(run.seen, p);
        expect(seen[0]).toBe(0);
        let next = 0;
        for (let i = 1; i < seen.length; i++) {
          if (seen[i] === seen[i - 1]! + 1) continue;
          while (next < targets.length && targets[next] !== seen[i]) next++;
          expect({ partition: p, index: i, jumpTo: seen[i], isNextTarget: next < targets.length }).toEqual({
            partition: p,
            index: i,
            jumpTo: seen[i],
            isNextTarget: true,
          });
          next++;
        }
      }
      await committedAt(group, f.topic, ends);
    });

    it('by offset while a record waits for its retry: the seek waits for its retries; it is handled once and committed', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-seek-retry');
      const attempts: number[] = [];
      let seekResolvedAfter: number | undefined;
      const run = await consume(f, group, {
        fail: (pos, attempt) => {
          if (pos.partition !== 0 || pos.offset !== 50) return false;
          attempts.push(attempt);
          return attempt < 3;
        },
      });
      await waitFor(() => attempts.length === 1, 60_000, { description: 'first attempt of 0/50 failed' });
      const target = 100;
      const moved = await run.consumer
        .seek({ kind: 'offsets', offsets: { 0: String(target) } })
        .finally(() => (seekResolvedAfter = attempts.length));
      expect(moved).toEqual([{ partition: 0, offset: String(target) }]);
      // Its retries ran before the partition moved: the third attempt succeeded.
      expect(seekResolvedAfter).toBe(3);
      expect(attempts).toEqual([1, 2, 3]);
      const end0 = f.ends[0]!;
      await waitFor(() => offsetsIn(run.seen, 0).at(-1) === end0 - 1, 60_000, {
        description: 'partition 0 at its end',
      });
      await committedAt(group, f.topic, f.ends);
      const seen0 = offsetsIn(run.seen, 0);
      // From the target on: each record once, in order, at the end of what partition 0 handled.
      expect(seen0.slice(seen0.length - (end0 - target))).toEqual(range(target, end0));
      // Before the seek: 0/50 handled exactly once, nothing twice. Records of other keys ran while
      // it waited for its retries (the wait holds no processor), some past the target: those are
      // handled again from the target; those not started were dropped by the seek.
      const before = seen0.slice(0, seen0.length - (end0 - target));
      expect(before.filter((o) => o === 50)).toEqual([50]);
      expect(new Set(before).size).toBe(before.length);
      expect(before.slice(0, 50)).toEqual(range(0, 50));
    });

    it('by offset with a record in flight: it finishes and is committed; buffered records are dropped, the target re-read', async () => {
      const f = await fixture();
      const group = uniqueTopic('g-sps-seek-offset');
      const held = gate();
      let holding = false;
      const run = await consume(f, group, {
        // One processor (the default): the whole consumer waits on partition 0's record 100.
        hold: (pos) => {
          if (pos.partition !== 0 || pos.offset !== 100 || holding) return undefined;
          holding = true;
          return held.promise;
        },
      });
      await waitFor(() => holding, 60_000, { description: 'record 0/100 in flight' });
      const target0 = 150;
      const target1 = 20;
      let result: unknown;
      const seeking = run.consumer
        .seek({ kind: 'offsets', offsets: { 0: String(target0), 1: String(target1) } })
        .then((moved) => (result = moved));
      // The record in flight is unfinished: the seek waits and nothing past it is committed.
      await holdsFor(
        async () => result === undefined && (await committedOffsets(group, f.topic))[0]! <= 100,
        500,
        {
          intervalMs: 50,
        },
      );
      held.open();
      await seeking;
      expect([...(result as { partition: number }[])].sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, offset: String(target0) },
        { partition: 1, offset: String(target1) },
      ]);
      const total0 = 101 + f.ends[0]! - target0;
      await waitFor(
        () =>
          offsetsIn(run.seen, 0).length === total0 &&
          offsetsIn(run.seen, 1).at(-1) === f.ends[1]! - 1 &&
          offsetsIn(run.seen, 2).length === f.ends[2]!,
        60_000,
        { description: 'every partition at its end' },
      );
      await committedAt(group, f.topic, f.ends);
      // Partition 0: up to the record in flight (handled once, not lost), then from the target;
      // 101..149 were buffered, never started: skipped by the seek forward, never handled.
      expect(offsetsIn(run.seen, 0)).toEqual([...range(0, 101), ...range(target0, f.ends[0]!)]);
      // Partition 1: a prefix read before the seek, then everything from the target, in order;
      // nothing fetched before the seek was handed out after it.
      const seen1 = offsetsIn(run.seen, 1);
      const reread = range(target1, f.ends[1]!);
      expect(seen1.slice(seen1.length - reread.length)).toEqual(reread);
      const prefix = seen1.slice(0, seen1.length - reread.length);
      expect(prefix).toEqual(range(0, prefix.length));
      // Partition 2 was not listed: read once, in order, untouched by the seek.
      expect(offsetsIn(run.seen, 2)).toEqual(range(0, f.ends[2]!));
    });
  });
});
