// End to end through the gomes API over the real broker: at-least-once delivery with several
// processors. A consumer stopped mid-stream (tiny budget, handlers blocked) commits only the gap-free
// acked prefix, and a new gomes instance in the same group handles everything else; a graceful
// gomes.shutdown() under load lets in-flight messages finish and commits them, so a restarted
// instance receives nothing already processed and nothing is lost.
import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import { Event, EventHandler, type Gomes, type HandlerContext } from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes, sleep } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('alo.meterRead')
class MeterRead {
  @IsString() meter: string;
  @IsInt() @Min(0) seq: number;
  constructor(meter: string, seq: number) {
    this.meter = meter;
    this.seq = seq;
  }
}

@EventHandler(MeterRead)
class MeterProjection {
  readonly started: number[] = [];
  readonly finished: number[] = [];
  readonly aborted: number[] = [];
  constructor(private readonly work: (seq: number, signal: AbortSignal) => Promise<void>) {}

  async handle(event: MeterRead, context: HandlerContext): Promise<void> {
    this.started.push(event.seq);
    try {
      await this.work(event.seq, context.signal);
    } catch (error) {
      this.aborted.push(event.seq);
      throw error;
    }
    this.finished.push(event.seq);
  }
}

const CONSUMER = 'meter-projection';
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const sorted = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

async function publish(topic: string, count: number, keys: number): Promise<void> {
  const app = kafkaGomes('alo-producer');
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await app.start();
  const bus = app.eventBusByChannel(topic);
  for (let seq = 0; seq < count; seq++)
    await bus.publish(new MeterRead(`m-${seq % keys}`, seq), { partitionKey: `m-${seq % keys}` });
  await app.shutdown();
}

async function consumerInstance(
  name: string,
  topic: string,
  group: string,
  projection: MeterProjection,
  shutdownTimeoutMs: number,
): Promise<Gomes> {
  const app = kafkaGomes(name, { shutdownTimeoutMs });
  app.addConsumerChannel(consumerBuilder(topic, CONSUMER).withGroupId(group)).addActionHandler(projection);
  await app.start();
  await app.eventDrivenConsumer(CONSUMER).withAmountOfProcessors(4).withNackDelay(0).run();
  return app;
}

describe('gomes at-least-once over Kafka (several processors)', () => {
  it('stopped mid-stream with a tiny budget: only the gap-free acked prefix is committed; a new instance in the group handles the rest; nothing is lost', async () => {
    const topic = await createTopic(uniqueTopic('alo-stop'), 1);
    const group = uniqueTopic('g-alo-stop');
    await publish(topic, 20, 4); // keys m-0..m-3; m-2 holds seqs 2, 6, 10, 14, 18

    // Instance A: message 6 blocks until it is aborted; m-2's later messages queue behind it.
    const first = new MeterProjection(async (seq, signal) => (seq === 6 ? sleep(600_000, signal) : sleep(5)));
    const a = await consumerInstance('alo-a', topic, group, first, 200);
    const blocked = [6, 10, 14, 18];
    await waitFor(() => first.finished.length === 16, 30_000, {
      description: 'every message but m-2 from 6 on',
    });
    expect(sorted(first.finished)).toEqual(range(0, 20).filter((s) => !blocked.includes(s)));
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 6, 10_000, {
      description: 'commit up to the gap',
    });

    await a.shutdown(); // budget 200 ms: message 6 is aborted and nacked, 10/14/18 nacked unprocessed
    expect(first.aborted).toEqual([6]);
    expect(first.started).not.toContain(10);
    // Gap-safe: the commit stops at the first unfinished offset, although 7..19 (but m-2's) were acked.
    expect(await committedOffsets(group, topic)).toEqual([6]);

    // Instance B, same group: resumes at the committed offset.
    const second = new MeterProjection(async () => sleep(2));
    await consumerInstance('alo-b', topic, group, second, 5000);
    await waitFor(() => second.finished.length >= 14, 30_000, { description: 'redelivery from the gap' });
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 20, 10_000, {
      description: 'commit 20',
    });
    // Nothing below the committed offset is redelivered; everything from the gap is (at least once).
    expect(sorted(second.finished)).toEqual(range(6, 20));
    expect(new Set([...first.finished, ...second.finished])).toEqual(new Set(range(0, 20)));
  });

  it('graceful gomes.shutdown() under load: in-flight messages finish and are committed; a restarted instance receives nothing already processed and nothing is lost', async () => {
    const topic = await createTopic(uniqueTopic('alo-shutdown'), 1);
    const group = uniqueTopic('g-alo-shutdown');
    const total = 80;
    await publish(topic, total, 3); // few keys: messages queue behind a busy key while later keys run

    const work = async (seq: number, signal: AbortSignal): Promise<void> =>
      sleep(10 + ((seq * 13) % 5) * 10, signal); // 10..50 ms
    const first = new MeterProjection(work);
    const a = await consumerInstance('alo-shutdown-a', topic, group, first, 10_000);
    await waitFor(() => first.finished.length >= 20, 30_000, { description: '20 handled' });
    expect(first.started.length).toBeGreaterThan(first.finished.length); // messages are in flight now
    await a.shutdown();

    expect(first.aborted).toEqual([]); // nothing was cut short
    expect(sorted(first.finished)).toEqual(sorted(first.started)); // every started message finished
    const handledByA = sorted(first.finished);
    // What A processed is exactly the committed prefix: no gaps left behind.
    expect(await committedOffsets(group, topic)).toEqual([handledByA.length]);
    expect(handledByA).toEqual(range(0, handledByA.length));

    const second = new MeterProjection(work);
    await consumerInstance('alo-shutdown-b', topic, group, second, 10_000);
    await waitFor(() => first.finished.length + second.finished.length >= total, 30_000, {
      description: 'all handled',
    });
    await waitFor(async () => (await committedOffsets(group, topic))[0] === total, 10_000, {
      description: `commit ${total}`,
    });
    expect(sorted(second.finished)).toEqual(range(handledByA.length, total)); // nothing twice, nothing lost
  });
});
