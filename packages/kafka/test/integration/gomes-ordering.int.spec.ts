// End to end through the gomes API over the real broker: ordering. One processor keeps partition
// order; several processors keep per-key order while different keys of ONE partition run in parallel.
import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import { Event, EventHandler } from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('ord.accountCredited')
class AccountCredited {
  @IsString() account: string;
  @IsInt() @Min(0) seq: number;
  constructor(account: string, seq: number) {
    this.account = account;
    this.seq = seq;
  }
}

@EventHandler(AccountCredited)
class Ledger {
  readonly handled: AccountCredited[] = [];
  readonly activeByKey = new Map<string, number>();
  sameKeyOverlap = 0;
  #active = 0;
  maxActive = 0;
  constructor(private readonly workMs: (seq: number) => number) {}

  async handle(event: AccountCredited): Promise<void> {
    this.#active++;
    this.maxActive = Math.max(this.maxActive, this.#active);
    const k = (this.activeByKey.get(event.account) ?? 0) + 1;
    this.activeByKey.set(event.account, k);
    if (k > 1) this.sameKeyOverlap++;
    try {
      await new Promise((resolve) => setTimeout(resolve, this.workMs(event.seq)));
      this.handled.push(event);
    } finally {
      this.#active--;
      this.activeByKey.set(event.account, (this.activeByKey.get(event.account) ?? 1) - 1);
    }
  }
}

/** Publishes `count` events to a 1-partition topic through a gomes event bus, keyed by account. */
async function publish(topic: string, count: number, accountOf: (seq: number) => string): Promise<void> {
  const app = kafkaGomes('ord-producer');
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await app.start();
  const bus = app.eventBusByChannel(topic);
  for (let seq = 0; seq < count; seq++) {
    const account = accountOf(seq);
    await bus.publish(new AccountCredited(account, seq), { partitionKey: account });
  }
}

async function consume(
  topic: string,
  group: string,
  ledger: Ledger,
  processors: number,
  queueCapacity?: number,
): Promise<void> {
  const app = kafkaGomes(`ord-consumer-${processors}`);
  app.addConsumerChannel(consumerBuilder(topic, 'ledger').withGroupId(group)).addActionHandler(ledger);
  await app.start();
  let consumer = app.eventDrivenConsumer('ledger').withAmountOfProcessors(processors);
  if (queueCapacity !== undefined) consumer = consumer.withQueueCapacity(queueCapacity);
  await consumer.run();
}

describe('gomes ordering over Kafka', () => {
  it('one processor: messages of a partition are handled one at a time, in offset order, across keys', async () => {
    const topic = await createTopic(uniqueTopic('ord-partition'), 1);
    const group = uniqueTopic('g-ord-partition');
    // Runs of one key (a a a b b c a d d d ...), so queued messages of a busy key sit next to other keys.
    await publish(
      topic,
      30,
      (seq) => `acct-${[0, 0, 0, 1, 1, 2, 0, 3, 3, 3][seq % 10]! + Math.floor(seq / 10) * 4}`,
    );
    // Some messages are slow, so any reordering behind them would show.
    const ledger = new Ledger((seq) => (seq % 3 === 0 ? 15 : 1));
    // A queue deeper than the default (2 x processors), as set for throughput.
    await consume(topic, group, ledger, 1, 10);
    await waitFor(() => ledger.handled.length === 30, 30_000, { description: '30 handled' });
    expect(ledger.handled.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(ledger.maxActive).toBe(1);
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 30, 10_000, {
      description: 'commit 30',
    });
  });

  it('several processors: different keys of one partition run in parallel, each key in order', async () => {
    const topic = await createTopic(uniqueTopic('ord-keys'), 1);
    const group = uniqueTopic('g-ord-keys');
    const count = 60;
    const keys = 6;
    await publish(topic, count, (seq) => `acct-${seq % keys}`);
    const ledger = new Ledger((seq) => 5 + ((seq * 7) % 4) * 10); // 5..35 ms, varying per message
    await consume(topic, group, ledger, 4);
    await waitFor(() => ledger.handled.length === count, 30_000, { description: `${count} handled` });

    expect(ledger.maxActive).toBeGreaterThan(1); // overlap: keys of one partition processed at once
    expect(ledger.maxActive).toBeLessThanOrEqual(4);
    expect(ledger.sameKeyOverlap).toBe(0);
    for (let k = 0; k < keys; k++) {
      const seqs = ledger.handled.filter((e) => e.account === `acct-${k}`).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: count / keys }, (_, i) => i * keys + k));
    }
    // Parallel keys finish out of offset order, yet the gap-safe commit reaches the end.
    expect(ledger.handled.map((e) => e.seq)).not.toEqual(Array.from({ length: count }, (_, i) => i));
    await waitFor(async () => (await committedOffsets(group, topic))[0] === count, 10_000, {
      description: `commit ${count}`,
    });
  });
});
