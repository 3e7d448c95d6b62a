// End to end through the gomes API over the real broker: retry with backoff, then the dead-letter
// topic (default `<topic>.DLQ`) with the error envelope in headers and the original value, committed
// past only once the dead letter is stored; invalid payloads dead-lettered at once with the
// validation reason; a poison message does not hold up other keys beyond its retry budget.
import 'reflect-metadata';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import { Event, EventHandler, type EventDrivenConsumer, type Gomes } from '@gomes/core';
import { holdsFor } from '@gomes/core/testing';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { admin, closeAll, createTopic, readRaw, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes, readDeadLetters } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('dl.parcelScanned')
class ParcelScanned {
  @IsString() @MinLength(1) parcelId: string;
  @IsInt() @Min(0) seq: number;
  constructor(parcelId: string, seq: number) {
    this.parcelId = parcelId;
    this.seq = seq;
  }
}

interface Handled {
  parcelId: string;
  seq: number;
  at: number;
}

@EventHandler(ParcelScanned)
class ParcelTracker {
  readonly attempts: Handled[] = [];
  readonly done: Handled[] = [];
  #active = 0;
  maxActive = 0;
  constructor(private readonly workMs = 0) {}

  async handle(event: ParcelScanned): Promise<void> {
    const h = { parcelId: event.parcelId, seq: event.seq, at: Date.now() };
    this.attempts.push(h);
    this.#active++;
    this.maxActive = Math.max(this.maxActive, this.#active);
    try {
      if (this.workMs > 0) await new Promise((resolve) => setTimeout(resolve, this.workMs));
      if (event.parcelId.startsWith('poison'))
        throw new Error(`parcel ${event.parcelId} has an unreadable label`);
      this.done.push(h);
    } finally {
      this.#active--;
    }
  }
}

const CONSUMER = 'parcel-tracker';

async function producer(topic: string): Promise<Gomes> {
  const app = kafkaGomes('dl-producer');
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await app.start();
  return app;
}

describe('gomes dead letters over Kafka', () => {
  it('retries with backoff, then dead-letters to <topic>.DLQ with the envelope and the original value; the offset is committed only after the dead letter is stored', async () => {
    const topic = await createTopic(uniqueTopic('dl-retry'), 1);
    const dlqTopic = `${topic}.DLQ`; // the default name; deliberately missing at first
    const group = uniqueTopic('g-dl-retry');
    const events = (await producer(topic)).eventBusByChannel(topic);
    await events.publish(new ParcelScanned('p-0', 0), { partitionKey: 'p-0' });
    await events.publish(new ParcelScanned('poison-1', 1), {
      partitionKey: 'poison-1',
      correlationId: 'route-7',
    });
    await events.publish(new ParcelScanned('p-2', 2), { partitionKey: 'p-2' });

    const tracker = new ParcelTracker();
    const app = kafkaGomes('dl-consumer');
    app
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', dlqTopic).withMaxAttempts(2))
      .addConsumerChannel(
        consumerBuilder(topic, CONSUMER)
          .withGroupId(group)
          .withRetry({ maxAttempts: 3, initialDelayMs: 150, multiplier: 2, jitter: 0 })
          .withDeadLetterChannelName(),
      )
      .addActionHandler(tracker);
    await app.start();
    const consumer = app.eventDrivenConsumer(CONSUMER).withNackDelay(300);
    await consumer.run();

    // Phase 1: the dead-letter topic does not exist, so the DLQ publish fails: the poison message is
    // nacked (never acked), and the group's commit never passes its offset.
    await waitFor(() => consumer.stats.failed >= 1, 60_000, { description: 'a failed dead-letter publish' });
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 1, 10_000, {
      description: 'commit of p-0',
    });
    await holdsFor(async () => (await committedOffsets(group, topic))[0] === 1, 1500, {
      description: 'nothing committed past the poison while its dead letter is not stored',
    });
    expect(consumer.stats.deadLettered).toBe(0);

    // The first delivery made 3 attempts with exponential backoff (150 ms, then 300 ms).
    const poisonAttempts = tracker.attempts.filter((a) => a.parcelId === 'poison-1');
    expect(poisonAttempts.length).toBeGreaterThanOrEqual(3);
    const [a1, a2, a3] = poisonAttempts.map((a) => a.at) as [number, number, number];
    expect(a2 - a1).toBeGreaterThanOrEqual(140);
    expect(a3 - a2).toBeGreaterThanOrEqual(290);

    // Phase 2: the topic appears; the next delivery's dead letter is stored, then the offset moves on.
    await createTopic(dlqTopic, 1);
    const [dead] = await readDeadLetters(dlqTopic, 1, 60_000);
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 3, 20_000, {
      description: 'commit past the poison',
    });
    await waitFor(() => tracker.done.some((h) => h.parcelId === 'p-2'), 10_000);

    const env = dead!.envelope;
    expect(env.errorMessage).toBe('parcel poison-1 has an unreadable label');
    expect(env.errorName).toBe('Error');
    expect(env.retriable).toBe(true);
    expect(env.attempts).toBe(3);
    expect(env.deliveryAttempt).toBeGreaterThanOrEqual(2); // the first delivery's DLQ publish failed
    expect(env.originChannel).toBe(topic);
    expect(env.originPartition).toBe(0);
    expect(env.originOffset).toBe('1');
    expect(env.consumer).toBe(CONSUMER);
    expect(env.firstFailureAt!.getTime()).toBeLessThanOrEqual(env.lastFailureAt!.getTime());
    expect(env.originalHeaders['route']).toBe('dl.parcelScanned');
    expect(env.originalHeaders['correlationId']).toBe('route-7');
    // The original value, unchanged.
    const originals = await readRaw(topic, 3);
    expect(dead!.value).toBe(originals[1]!.value!.toString('utf8'));
    expect(dead!.message.payload).toEqual({ parcelId: 'poison-1', seq: 1 });
    expect(dead!.message.causationId).toBe(originals[1]!.headers['messageId']);
    expect(dead!.message.route).toBeUndefined();
    expect(consumer.stats.deadLettered).toBe(1);
  });

  it('withDeadLetterTopic(t) on the consumer channel is its dead-letter channel: a failed message goes to t (created when missing) with core envelope, no publisher registered', async () => {
    const topic = await createTopic(uniqueTopic('dl-topic'), 1);
    const dlqTopic = uniqueTopic('dl-topic-parked');
    const group = uniqueTopic('g-dl-topic');
    const events = (await producer(topic)).eventBusByChannel(topic);
    await events.publish(new ParcelScanned('poison-0', 0));
    await events.publish(new ParcelScanned('p-1', 1));

    const tracker = new ParcelTracker();
    const app = kafkaGomes('dl-topic-consumer');
    app
      .addConsumerChannel(
        consumerBuilder(topic, CONSUMER)
          .withGroupId(group)
          .withRetry({ maxAttempts: 2, initialDelayMs: 50, jitter: 0 })
          .withDeadLetterTopic(dlqTopic),
      )
      .addActionHandler(tracker);
    await app.start();
    const consumer = app.eventDrivenConsumer(CONSUMER);
    await consumer.run();

    // The consumer creates the topic with its first dead letter.
    await waitFor(() => consumer.stats.deadLettered === 1, 60_000, { description: 'the dead letter' });
    expect((await (await admin()).describeTopics([dlqTopic]))[0]?.partitions).toBe(1);
    const [dead] = await readDeadLetters(dlqTopic, 1, 60_000);
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 2, 20_000, {
      description: 'commit past both',
    });
    const env = dead!.envelope;
    expect(env.errorMessage).toBe('parcel poison-0 has an unreadable label');
    expect(env.attempts).toBe(2);
    expect(env.originChannel).toBe(topic);
    expect(env.originOffset).toBe('0');
    expect(env.consumer).toBe(CONSUMER);
    expect(dead!.message.payload).toEqual({ parcelId: 'poison-0', seq: 0 });
    expect(tracker.done.map((h) => h.parcelId)).toEqual(['p-1']);
    expect(consumer.stats.deadLettered).toBe(1);
  });

  it('dead-letters an invalid payload (class-validator) at once with the validation reason: never retried, never handled', async () => {
    const topic = await createTopic(uniqueTopic('dl-invalid'), 1);
    const group = uniqueTopic('g-dl-invalid');
    const events = (await producer(topic)).eventBusByChannel(topic);
    // publishRaw skips the class, so nothing validates on send: the receiver must.
    await events.publishRaw('dl.parcelScanned', { parcelId: '', seq: -4 });
    await events.publish(new ParcelScanned('p-ok', 1));

    const tracker = new ParcelTracker();
    const app = kafkaGomes('dl-invalid-consumer');
    app
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', `${topic}.DLQ`).withTopic())
      .addConsumerChannel(
        consumerBuilder(topic, CONSUMER)
          .withGroupId(group)
          .withRetry({ maxAttempts: 5, initialDelayMs: 200, jitter: 0 })
          .withDeadLetterChannelName(),
      )
      .addActionHandler(tracker);
    await app.start();
    const consumer = app.eventDrivenConsumer(CONSUMER);
    await consumer.run();

    const [dead] = await readDeadLetters(`${topic}.DLQ`, 1);
    await waitFor(() => tracker.done.length === 1, 10_000);
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 2, 10_000, {
      description: 'commit past both',
    });
    const env = dead!.envelope;
    expect(env.errorCode).toBe('GOMES_VALIDATION');
    expect(env.retriable).toBe(false);
    expect(env.attempts).toBe(1);
    expect(env.errorMessage).toContain('parcelId');
    expect(env.errorMessage).toContain('seq');
    expect(env.originOffset).toBe('0');
    expect(dead!.message.payload).toEqual({ parcelId: '', seq: -4 });
    expect(tracker.attempts.map((a) => a.parcelId)).toEqual(['p-ok']);
    expect(consumer.stats.retried).toBe(0);
    expect(consumer.stats.deadLettered).toBe(1);
  });

  it('a poison message of one key does not hold up other keys (several processors, one partition); later messages of its key wait for its retry budget, in order', async () => {
    const topic = await createTopic(uniqueTopic('dl-poison'), 1);
    const group = uniqueTopic('g-dl-poison');
    const events = (await producer(topic)).eventBusByChannel(topic);
    const sent: { parcelId: string; key: string }[] = [{ parcelId: 'poison-0', key: 'bad' }];
    for (let i = 1; i <= 24; i++) {
      sent.push({ parcelId: `p-${i}`, key: i === 5 || i === 17 ? 'bad' : `k${i % 6}` });
    }
    for (const [seq, s] of sent.entries())
      await events.publish(new ParcelScanned(s.parcelId, seq), { partitionKey: s.key });

    const tracker = new ParcelTracker(20);
    const app = kafkaGomes('dl-poison-consumer');
    app
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', `${topic}.DLQ`).withTopic())
      .addConsumerChannel(
        consumerBuilder(topic, CONSUMER)
          .withGroupId(group)
          .withRetry({ maxAttempts: 4, initialDelayMs: 400, multiplier: 1, jitter: 0 })
          .withDeadLetterChannelName(),
      )
      .addActionHandler(tracker);
    await app.start();
    const consumer: EventDrivenConsumer = app.eventDrivenConsumer(CONSUMER).withAmountOfProcessors(4);
    await consumer.run();

    await waitFor(() => tracker.done.length === 24, 30_000, { description: 'every other message handled' });
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 25, 10_000, {
      description: 'commit of all 25',
    });
    const poison = tracker.attempts.filter((a) => a.parcelId === 'poison-0');
    expect(poison).toHaveLength(4); // one delivery, its whole retry budget, then the DLQ
    const lastPoisonAttempt = poison[3]!.at;
    const otherKeys = tracker.done.filter((h) => sent[h.seq]!.key !== 'bad');
    expect(otherKeys).toHaveLength(22);
    // Other keys were not held up: all of them finished before the poison's budget (3 x 400 ms) ran out.
    expect(Math.max(...otherKeys.map((h) => h.at))).toBeLessThan(lastPoisonAttempt);
    // Its own key waited for it, in order.
    expect(tracker.done.filter((h) => sent[h.seq]!.key === 'bad').map((h) => h.parcelId)).toEqual([
      'p-5',
      'p-17',
    ]);
    expect(
      Math.min(...tracker.done.filter((h) => sent[h.seq]!.key === 'bad').map((h) => h.at)),
    ).toBeGreaterThanOrEqual(lastPoisonAttempt);
    // Handled exactly once each: nothing was nacked or redelivered.
    expect(new Set(tracker.done.map((h) => h.seq)).size).toBe(24);
    expect(consumer.stats.nacked).toBe(0);
    const [dead] = await readDeadLetters(`${topic}.DLQ`, 1);
    expect(dead!.envelope.attempts).toBe(4);
    expect(dead!.envelope.originOffset).toBe('0');
  });
});
