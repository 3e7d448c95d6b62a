// Metrics end to end over the real broker (OpenTelemetry MeterProvider with a pull reader): counters
// that match the messages sent, failed and dead-lettered, and the consumer lag gauge of a topic with
// unconsumed messages.
import 'reflect-metadata';
import { defineEventHandler, Event, MessagingAttributes as A, MessagingMetricNames as M } from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { OtelTestKit } from '../../../core/test/support/otel-test-kit.js';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, waitFor } from '../support/kafka-harness.js';
import { consumerBuilder, gate, kafkaGomes, readDeadLetters } from '../support/gomes-kafka.js';

@Event('obs.jobQueued')
class JobQueued {
  constructor(readonly id: string) {}
}

let kit: OtelTestKit;
beforeEach(() => (kit = new OtelTestKit()));
afterEach(async () => {
  await closeAll();
  await kit.shutdown();
});

it('counts exactly the messages sent, consumed, succeeded, failed, retried and dead-lettered', async () => {
  const jobs = await createTopic(uniqueTopic('obs-jobs'), 2);
  const dlq = await createTopic(`${jobs}.DLQ`, 1);
  const group = uniqueTopic('obs-worker');
  const app = kafkaGomes('metrics', { meterProvider: kit.meterProvider })
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', jobs))
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', dlq))
    .addConsumerChannel(
      consumerBuilder(jobs, group)
        .withRetry({ maxAttempts: 3, initialDelayMs: 10, jitter: 0 })
        .withDeadLetterChannelName(dlq),
    )
    .addActionHandler(
      defineEventHandler(JobQueued, (e) => {
        if (e.id.startsWith('bad')) throw new Error(`job ${e.id} is broken`);
      }),
    );
  await app.start();
  const consumer = app.eventDrivenConsumer(group).withAmountOfProcessors(2);
  await consumer.run();
  const ids = ['a', 'b', 'c', 'd', 'e', 'bad-1', 'bad-2'];
  for (const id of ids) await app.eventBusByChannel(jobs).publish(new JobQueued(id), { partitionKey: id });
  await waitFor(() => consumer.stats.succeeded + consumer.stats.deadLettered === ids.length, 30_000);
  expect(await readDeadLetters(dlq, 2)).toHaveLength(2);

  const onJobs = { [A.SYSTEM]: 'kafka', [A.DESTINATION_NAME]: jobs };
  expect(await kit.sum(M.SENT, onJobs)).toBe(7);
  expect(await kit.sum(M.SENT, { [A.DESTINATION_NAME]: dlq })).toBe(2);
  expect(await kit.histogramCount(M.SEND_DURATION, onJobs)).toBe(7);
  expect(await kit.sum(M.CONSUMED, { ...onJobs, [A.CONSUMER_GROUP]: group })).toBe(7);
  expect(await kit.sum(M.SUCCEEDED, onJobs)).toBe(5);
  expect(await kit.sum(M.FAILED, onJobs)).toBe(2);
  expect(
    await kit.sum(M.DEAD_LETTERED, { ...onJobs, [A.CONSUMER_GROUP]: group, [A.ERROR_TYPE]: 'Error' }),
  ).toBe(2);
  expect(await kit.sum(M.RETRIED, onJobs)).toBe(4); // 2 failing messages x 2 retries each
  expect(await kit.histogramCount(M.PROCESS_DURATION, onJobs)).toBe(7);
  expect(await kit.sum(M.IN_FLIGHT, { [A.GOMES_ENDPOINT]: group })).toBe(0);
});

it('reports the consumer lag of a topic with unconsumed messages, per partition', async () => {
  const topic = await createTopic(uniqueTopic('obs-lagging'), 1);
  const group = uniqueTopic('obs-slow');
  const blocked = gate();
  const app = kafkaGomes('lag', { meterProvider: kit.meterProvider })
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
    .addConsumerChannel(consumerBuilder(topic, group).withQueueCapacity(2))
    .addActionHandler(defineEventHandler(JobQueued, async () => blocked.promise));
  await app.start();
  for (let i = 0; i < 10; i++)
    await app.eventBusByChannel(topic).publish(new JobQueued(`j${i}`), { partitionKey: 'same' });
  const consumer = app.eventDrivenConsumer(group);
  await consumer.run();

  const lag = { [A.DESTINATION_NAME]: topic, [A.PARTITION_ID]: '0', [A.CONSUMER_GROUP]: group };
  await waitFor(async () => (await kit.sum(M.LAG, lag)) === 10, 20_000);
  expect(await kit.sum(M.IN_FLIGHT, { [A.GOMES_ENDPOINT]: group })).toBe(1);
  blocked.open();
  await waitFor(() => consumer.stats.succeeded === 10, 20_000);
  await waitFor(async () => (await kit.sum(M.LAG, lag)) === 0, 20_000);
});
