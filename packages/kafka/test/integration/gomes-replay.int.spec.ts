// gomes.replay over the real broker (each driver of the run): a time window [from, to) between
// three phases of records, whose bounds are offsets by timestamp on the broker, handles exactly
// the middle phase in offset order per partition; a replay aborted mid-way resumes from its
// checkpoint handling every remaining record once.
import 'reflect-metadata';
import { IsInt, IsString } from 'class-validator';
import {
  Event,
  InMemoryReplayCheckpointStore,
  defineEventHandler,
  type Gomes,
  type ReplayReport,
} from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, waitFor } from '../support/kafka-harness.js';
import { kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('rp.meterRead')
class MeterRead {
  @IsString() meter: string;
  @IsString() phase: string;
  @IsInt() seq: number;
  constructor(meter: string, phase: string, seq: number) {
    this.meter = meter;
    this.phase = phase;
    this.seq = seq;
  }
}

const METERS = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f', 'm-g'];

interface Seen {
  readonly id: string;
  readonly meter: string;
  readonly seq: number;
}

async function meterApp(
  topic: string,
  seen: Seen[],
  onHandled: () => void = () => undefined,
): Promise<Gomes> {
  const app = kafkaGomes('replay')
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
    .addActionHandler(
      defineEventHandler(MeterRead, (m) => {
        seen.push({ id: `${m.phase}-${m.seq}`, meter: m.meter, seq: m.seq });
        onHandled();
      }),
    );
  await app.start();
  return app;
}

async function publishPhase(app: Gomes, topic: string, phase: string, count: number): Promise<string[]> {
  const bus = app.eventBusByChannel(topic);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const meter = METERS[i % METERS.length]!;
    await bus.publish(new MeterRead(meter, phase, i), { partitionKey: meter });
    ids.push(`${phase}-${i}`);
  }
  return ids;
}

/** A time strictly after every record timestamp written so far (waits for the clock to tick). */
async function nextInstant(): Promise<Date> {
  const now = Date.now();
  await waitFor(() => Date.now() > now, 1000);
  return new Date();
}

/** Records before the window, inside it, after it; the window and the ids inside. */
async function threePhases(
  app: Gomes,
  topic: string,
  inside: number,
): Promise<{ from: Date; to: Date; expected: string[] }> {
  await publishPhase(app, topic, 'before', 14);
  const from = await nextInstant();
  const expected = await publishPhase(app, topic, 'inside', inside);
  const to = await nextInstant();
  await publishPhase(app, topic, 'after', 14);
  return { from, to, expected };
}

function expectOrderPerMeter(seen: readonly Seen[]): void {
  for (const meter of METERS) {
    const seqs = seen.filter((s) => s.meter === meter).map((s) => s.seq);
    expect({ meter, seqs }).toEqual({ meter, seqs: [...seqs].sort((a, b) => a - b) });
  }
}

describe('gomes.replay over Kafka', () => {
  it('handles exactly the records of [from, to), in offset order per partition', async () => {
    const topic = await createTopic(uniqueTopic('replay-window'), 3);
    const seen: Seen[] = [];
    const app = await meterApp(topic, seen);
    const { from, to, expected } = await threePhases(app, topic, 42);

    const report = await app.replay({ channel: topic, from, to });

    expect(report).toMatchObject({ status: 'completed', handled: 42, failed: 0, outsideWindow: 0 });
    expect(seen.map((s) => s.id).sort()).toEqual([...expected].sort());
    expectOrderPerMeter(seen);
    expect(report.partitions.reduce((n, p) => n + p.handled, 0)).toBe(42);

    // The same window with an explicit handler: positions in offset order within each partition.
    const positions: { partition: number; offset: bigint; at: number }[] = [];
    const explicit = await app.replay({
      channel: topic,
      from,
      to,
      handler: (_message, context) => {
        positions.push({
          partition: context.position.partition,
          offset: BigInt(context.position.offset),
          at: context.timestamp.getTime(),
        });
      },
    });
    expect(explicit.handled).toBe(42);
    expect(positions.every((p) => p.at >= from.getTime() && p.at < to.getTime())).toBe(true);
    for (const partition of new Set(positions.map((p) => p.partition))) {
      const offsets = positions.filter((p) => p.partition === partition).map((p) => p.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
      const reported = explicit.partitions.find((p) => p.partition === partition)!;
      expect(BigInt(reported.lastOffset!)).toBe(offsets.at(-1));
    }
  }, 90_000);

  it('resumes from its checkpoint after an abort: every record of the window handled once', async () => {
    const topic = await createTopic(uniqueTopic('replay-resume'), 3);
    const seen: Seen[] = [];
    const controller = new AbortController();
    const app = await meterApp(topic, seen, () => {
      if (seen.length === 29) controller.abort();
    });
    const { from, to, expected } = await threePhases(app, topic, 70);
    const store = new InMemoryReplayCheckpointStore();
    const checkpoint = { store, id: 'meters', every: 8 };

    const first: ReplayReport = await app.replay({
      channel: topic,
      from,
      to,
      checkpoint,
      signal: controller.signal,
    });

    expect(first).toMatchObject({ status: 'aborted', handled: 29 });
    const saved = (await store.load('meters'))!;
    expect(Object.keys(saved.offsets).length).toBeGreaterThan(0);
    const firstRun = seen.splice(0);

    const second = await app.replay({ channel: topic, from, to, checkpoint });

    expect(second).toMatchObject({ status: 'completed', handled: 41, skippedCheckpointed: 29 });
    expect(second.resumedFrom).toEqual(saved.offsets);
    const all = [...firstRun, ...seen].map((s) => s.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual([...expected].sort());
    expectOrderPerMeter(seen);
  }, 90_000);
});
