// Kafka publisher channel against the real broker: acks=all round trip with headers and messageId,
// key → partition, async mode flushed on close, topic provisioning.
import { MessageBuilder, PARTITION_KEY_HEADER, isGomesError } from '@gomes/core';
import { KafkaHeaders } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import {
  admin,
  closeAll,
  collect,
  connection,
  consumer,
  consumerBuilder,
  createTopic,
  publisher,
  readRaw,
  waitFor,
} from '../support/kafka-harness.js';

afterEach(closeAll);

describe('KafkaPublisherChannel (real broker)', () => {
  it('publishes with acks=all (send resolves after the ack) and round-trips payload, headers and messageId', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('pub-roundtrip'), 3);
    const pub = await publisher(conn, topic);
    const sent = MessageBuilder.withPayload({ orderId: 'o-1', amount: 10 })
      .messageType('Command')
      .route('createOrder')
      .correlationId('corr-42')
      .header('tenant', 'acme')
      .header('Traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
      .build();
    await pub.send(sent);
    expect(pub.stats.sent).toBe(1);

    const [raw] = await readRaw(topic, 1);
    expect(raw!.key?.toString()).toBe('corr-42');
    expect(raw!.headers[KafkaHeaders.TRACEPARENT]).toBe(
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
    expect(raw!.headers['Traceparent']).toBeUndefined();

    const ch = await consumer(conn, consumerBuilder(topic, uniqueTopic('g')));
    const c = await collect(ch);
    await waitFor(() => c.deliveries.length >= 1, 20000);
    const got = c.deliveries[0]!.message;
    expect(got.messageId).toBe(sent.messageId);
    expect(got.payload).toEqual({ orderId: 'o-1', amount: 10 });
    expect(got.route).toBe('createOrder');
    expect(got.messageType).toBe('Command');
    expect(got.correlationId).toBe('corr-42');
    expect(got.header('tenant')).toBe('acme');
    expect(got.header('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(got.channelName).toBe(topic);
  });

  it('sends every message with the same partition key to the same partition, in order', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('pub-keys'), 3);
    const pub = await publisher(conn, topic);
    for (let i = 0; i < 10; i++) {
      await pub.send(
        MessageBuilder.withPayload({ i })
          .header(PARTITION_KEY_HEADER, 'customer-7')
          .correlationId(`c-${i}`)
          .build(),
      );
      await pub.send(
        MessageBuilder.withPayload({ i, byCorrelation: true }).correlationId('same-corr').build(),
      );
    }
    const records = await readRaw(topic, 20);
    const byKey = (k: string) => records.filter((r) => r.key?.toString() === k);
    expect(new Set(byKey('customer-7').map((r) => r.partition)).size).toBe(1);
    expect(new Set(byKey('same-corr').map((r) => r.partition)).size).toBe(1);
    const seq = byKey('customer-7').map((r) => (JSON.parse(r.value!.toString()) as { i: number }).i);
    expect(seq).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('async mode resolves on enqueue, batches, and flushes everything on close', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('pub-async'), 1);
    const pub = await publisher(conn, topic, (b) => b.withAsync().withBatchSize(20).withLinger(50));
    const errors: Error[] = [];
    pub.onError((e) => errors.push(e));
    for (let i = 0; i < 50; i++) await pub.send(MessageBuilder.withPayload({ i }).correlationId('k').build());
    await pub.close();
    expect(errors).toEqual([]);
    expect(pub.stats.sent).toBe(50);
    expect(pub.stats.batches).toBeLessThan(50);
    const records = await readRaw(topic, 50);
    expect(records.map((r) => (JSON.parse(r.value!.toString()) as { i: number }).i)).toEqual([
      ...Array(50).keys(),
    ]);
  });

  it('async mode reports failures through onError and the failed counter', async () => {
    const conn = await connection();
    // The topic does not exist and is not provisioned: every produce request fails.
    const pub = await publisher(conn, uniqueTopic('pub-missing'), (b) =>
      b.withAsync().withIdempotent(false).withMaxAttempts(1).withLinger(0),
    );
    const errors: Error[] = [];
    pub.onError((e) => errors.push(e));
    await pub.send(MessageBuilder.withPayload({ lost: false }).build());
    await waitFor(() => errors.length >= 1, 30000);
    expect(isGomesError(errors[0])).toBe(true);
    // Not a permanent rejection (kafkajs treats UNKNOWN_TOPIC_OR_PARTITION as retriable, as after a
    // leader move): gomes cannot rule out that the record was written, so the outcome is unknown.
    expect((errors[0] as unknown as { code: string }).code).toBe('GOMES_PUBLISH_OUTCOME_UNKNOWN');
    expect(pub.stats.failed).toBe(1);
  });

  it('provisions a missing topic with the configured partitions and configs', async () => {
    const conn = await connection();
    const topic = uniqueTopic('pub-provisioned');
    const pub = await publisher(conn, topic, (b) =>
      b.withTopic({
        partitions: 3,
        replicationFactor: 1,
        configs: { 'retention.ms': '3600000', 'cleanup.policy': 'delete' },
      }),
    );
    const a = await admin();
    const [info] = await a.describeTopics([topic]);
    expect(info).toEqual({ topic, partitions: 3, replicationFactor: 1 }); // min(3, brokers)
    const configs = await a.describeTopicConfigs(topic, ['retention.ms', 'cleanup.policy']);
    expect(configs).toEqual({ 'retention.ms': '3600000', 'cleanup.policy': 'delete' });
    await pub.send(MessageBuilder.withPayload({ ok: true }).build());
    expect(pub.stats.sent).toBe(1);
  });
});
