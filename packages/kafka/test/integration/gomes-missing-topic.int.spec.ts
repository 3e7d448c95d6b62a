// A consumer of a topic that does not exist, against the real broker: start() fails with one
// GOMES_TOPIC_NOT_FOUND naming every missing topic and what to do (create it, or withTopic()), and
// leaves nothing connected; withTopic() provisions the topic instead; a topic deleted after start()
// fails run() with the same code rather than a connection error.
import 'reflect-metadata';
import kafkajs from 'kafkajs';
import { Event, defineEventHandler, isGomesError, type GomesError } from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { admin, closeAll, createTopic, env, track, waitFor } from '../support/kafka-harness.js';
import { consumerBuilder, kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('missing.somethingHappened')
class SomethingHappened {
  constructor(readonly n: number) {}
}

async function errorOf(promise: Promise<unknown>): Promise<GomesError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isGomesError(error)) throw new Error(`expected a GomesError, got ${String(error)}`);
  return error;
}

async function topicExists(topic: string): Promise<boolean> {
  return (await (await admin()).describeTopics([topic])).length > 0;
}

describe('a consumer of a topic that does not exist', () => {
  it('fails start() with one GOMES_TOPIC_NOT_FOUND naming every missing topic and suggesting withTopic(); the check creates nothing', async () => {
    const present = await createTopic(uniqueTopic('missing-present'), 1);
    const missingA = uniqueTopic('missing-a');
    const missingB = uniqueTopic('missing-b');
    const app = kafkaGomes('missing-start')
      .addConsumerChannel(consumerBuilder(present, uniqueTopic('c-present')))
      .addConsumerChannel(consumerBuilder(missingA, 'reader-a'))
      .addConsumerChannel(consumerBuilder(missingB, 'reader-b'))
      .addActionHandler(defineEventHandler(SomethingHappened, () => undefined));

    const error = await errorOf(app.start());

    expect(error.code).toBe('GOMES_TOPIC_NOT_FOUND');
    expect(error.retriable).toBe(false);
    expect(error.details['topics']).toEqual([missingA, missingB]);
    expect(error.message).toBe(
      '2 consumers read topics that do not exist:\n' +
        `  - Kafka topic "${missingA}" read by consumer "reader-a" does not exist: create it, or add withTopic({ partitions }) to the builder of consumer "reader-a" so that start() creates "${missingA}"\n` +
        `  - Kafka topic "${missingB}" read by consumer "reader-b" does not exist: create it, or add withTopic({ partitions }) to the builder of consumer "reader-b" so that start() creates "${missingB}"`,
    );
    expect(error.message).not.toMatch(/does not host this topic-partition|GOMES_CONNECTION_FAILED/);
    expect(app.state).toBe('failed');
    // The check only looks: the broker (auto.create.topics.enable=true) did not create them.
    expect(await topicExists(missingA)).toBe(false);
    expect(await topicExists(missingB)).toBe(false);
  });

  it('names the missing group topics of a consumer and does not offer withTopic() for them', async () => {
    const channelTopic = await createTopic(uniqueTopic('missing-channel'), 1);
    const other = uniqueTopic('missing-group-topic');
    const app = kafkaGomes('missing-group')
      .addConsumerChannel(consumerBuilder(channelTopic, 'group-reader').withGroupTopics(other))
      .addActionHandler(defineEventHandler(SomethingHappened, () => undefined));
    const error = await errorOf(app.start());
    expect(error.code).toBe('GOMES_TOPIC_NOT_FOUND');
    expect(error.details).toEqual({ consumer: 'group-reader', topics: [other] });
    expect(error.message).toBe(
      `Kafka topic "${other}" read by consumer "group-reader" does not exist: create it (withTopic() only creates the channel topic "${channelTopic}")`,
    );
  });

  it('starts and consumes when the consumer builder asked for the topic with withTopic()', async () => {
    const topic = uniqueTopic('missing-provisioned');
    const seen: number[] = [];
    const app = kafkaGomes('missing-provisioned')
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
      .addConsumerChannel(consumerBuilder(topic, 'provisioned').withTopic({ partitions: 2 }))
      .addActionHandler(defineEventHandler(SomethingHappened, (e) => void seen.push(e.n)));
    await app.start();
    expect((await (await admin()).describeTopics([topic]))[0]?.partitions).toBe(2);
    await app.eventDrivenConsumer('provisioned').run();
    await app.eventBusByChannel(topic).publish(new SomethingHappened(7));
    await waitFor(() => seen.length === 1, 30_000, { description: 'the event on the provisioned topic' });
    expect(seen).toEqual([7]);
  });

  it("counts a topic the publisher's withTopic() creates: publishers are built before consumers are checked", async () => {
    const topic = uniqueTopic('missing-by-publisher');
    const app = kafkaGomes('missing-by-publisher')
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic).withTopic({ partitions: 1 }))
      .addConsumerChannel(consumerBuilder(topic, 'reads-published'))
      .addActionHandler(defineEventHandler(SomethingHappened, () => undefined));
    await app.start();
    expect(app.state).toBe('started');
    expect(await topicExists(topic)).toBe(true);
  });

  it('fails run() with GOMES_TOPIC_NOT_FOUND (not a connection error) when the topic was deleted after start()', async () => {
    const topic = await createTopic(uniqueTopic('missing-deleted'), 1);
    const app = kafkaGomes('missing-deleted')
      .addConsumerChannel(consumerBuilder(topic, 'late-reader'))
      .addActionHandler(defineEventHandler(SomethingHappened, () => undefined));
    await app.start();

    const kafka = new kafkajs.Kafka({ brokers: [...env.brokers], logLevel: kafkajs.logLevel.NOTHING });
    const kafkaAdmin = track(kafka.admin());
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await kafkaAdmin.listTopics()).includes(topic), 30_000, {
      description: `topic ${topic} deleted`,
      intervalMs: 200,
    });

    const error = await errorOf(app.eventDrivenConsumer('late-reader').run());
    expect(error.code).toBe('GOMES_TOPIC_NOT_FOUND');
    expect(error.details).toMatchObject({ consumer: 'late-reader', topics: [topic] });
    expect(error.message).toContain(`Kafka topic "${topic}" read by consumer "late-reader" does not exist`);
    expect(error.message).toContain('withTopic(');
    expect(await topicExists(topic)).toBe(false);
  });
});
