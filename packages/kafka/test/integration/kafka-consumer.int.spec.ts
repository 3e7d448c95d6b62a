// Kafka consumer channel delivery semantics against the real broker: gap-safe commits with
// out-of-order acks across a restart, nack, backpressure, slow handlers, undecodable records,
// and a rebalance mid-stream.
import { MessageBuilder, PARTITION_KEY_HEADER, type Delivery, type Message } from '@gomes/core';
import { holdsFor } from '@gomes/core/testing';
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
  rawDriver,
  readRaw,
  track,
  waitFor,
} from '../support/kafka-harness.js';

afterEach(closeAll);

const msg = (i: number, key = 'k'): Message =>
  MessageBuilder.withPayload({ i }).header(PARTITION_KEY_HEADER, key).build();
const indexOf = (d: Delivery): number => (d.message.payload as { i: number }).i;

async function committed(group: string, topic: string): Promise<string[]> {
  const a = await admin();
  return (await a.fetchCommittedOffsets(group, topic))
    .sort((x, y) => x.partition - y.partition)
    .map((p) => p.offset);
}

describe('KafkaConsumerChannel (real broker)', () => {
  it('commits only the contiguous acked prefix with out-of-order acks; a restart redelivers from the gap and loses nothing', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('con-gaps'), 1);
    const group = uniqueTopic('g-gaps');
    const pub = await publisher(conn, topic);
    const sent = Array.from({ length: 10 }, (_, i) => msg(i));
    for (const m of sent) await pub.send(m);

    const first = await consumer(conn, consumerBuilder(topic, group));
    const a = await collect(first, () => undefined); // accept everything, settle later
    await waitFor(() => a.deliveries.length >= 10, 20000, { description: '10 deliveries in flight' });
    const byIndex = (i: number) => a.deliveries.find((d) => indexOf(d) === i)!;
    for (const i of [3, 1, 6, 0, 5]) await byIndex(i).ack(); // acked: 0,1,3,5,6 — gap at 2
    await waitFor(async () => (await committed(group, topic))[0] === '2', 10000, { description: 'commit 2' });
    await a.subscription.close();
    expect(await committed(group, topic)).toEqual(['2']);

    const second = await consumer(conn, consumerBuilder(topic, group));
    const b = await collect(second);
    await waitFor(() => b.deliveries.length >= 8, 20000, { description: 'redelivery from the gap' });
    // The acked prefix (0, 1) is never redelivered; everything from the first unacked offset is.
    expect(b.deliveries.map(indexOf)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    await waitFor(async () => (await committed(group, topic))[0] === '10', 10000, {
      description: 'commit 10',
    });
    await holdsFor(() => b.deliveries.length === 8, 500);
  });

  it('nack redelivers the message (deliveryAttempt 2) and then the rest of the partition in order', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('con-nack'), 1);
    const pub = await publisher(conn, topic);
    for (let i = 0; i < 3; i++) await pub.send(msg(i));
    let nacked = false;
    const ch = await consumer(conn, consumerBuilder(topic, uniqueTopic('g-nack')));
    const c = await collect(ch, async (d) => {
      if (indexOf(d) === 0 && !nacked) {
        nacked = true;
        await d.nack({ delayMs: 200 });
      } else {
        await d.ack();
      }
    });
    await waitFor(() => c.deliveries.length >= 4, 20000);
    expect(c.deliveries.map(indexOf)).toEqual([0, 0, 1, 2]);
    expect(c.deliveries.map((d) => d.deliveryAttempt)).toEqual([1, 2, 1, 1]);
  });

  it('backpressure: at most queueCapacity records per partition are unacked; acking makes room', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('con-bp'), 1);
    const pub = await publisher(conn, topic);
    for (let i = 0; i < 10; i++) await pub.send(msg(i));
    const ch = await consumer(conn, consumerBuilder(topic, uniqueTopic('g-bp')).withQueueCapacity(3));
    const c = await collect(ch, () => undefined);
    await waitFor(() => c.deliveries.length >= 3, 20000);
    await holdsFor(() => c.deliveries.length === 3, 1000, {
      description: 'no 4th delivery while 3 are unacked',
    });
    await c.deliveries[0]!.ack();
    await waitFor(() => c.deliveries.length >= 4, 10000, { description: 'ack makes room' });
    expect(c.deliveries.map(indexOf)).toEqual([0, 1, 2, 3]);
  });

  it('a handler slower than sessionTimeout does not get the member evicted', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('con-slow'), 1);
    const pub = await publisher(conn, topic);
    for (let i = 0; i < 2; i++) await pub.send(msg(i));
    const ch = await consumer(
      conn,
      consumerBuilder(topic, uniqueTopic('g-slow')).withSessionTimeout(6000).withHeartbeatInterval(500),
    );
    const c = await collect(ch, async (d) => {
      if (indexOf(d) === 0) await new Promise((resolve) => setTimeout(resolve, 9000)); // the handler is slow
      await d.ack();
    });
    await waitFor(() => c.deliveries.length >= 2, 30000);
    expect(c.deliveries.map(indexOf)).toEqual([0, 1]);
    expect(ch.groupJoins).toBe(1);
    expect(ch.state).toBe('running');
    expect(c.errors).toEqual([]);
  }, 60000);

  it('sends an undecodable record to the dead-letter topic with the reason and keeps consuming the partition', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('con-dlq'), 1);
    const group = uniqueTopic('g-dlq');
    const producer = track(
      rawDriver().createProducer({
        idempotent: true,
        maxAttempts: 3,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        produceTimeoutMs: 30000,
      }),
    );
    await producer.connect();
    const good = (i: number) => ({
      key: 'k',
      value: Buffer.from(JSON.stringify({ i })),
      headers: { messageId: `m-${i}` },
    });
    await producer.send({
      topic,
      acks: -1,
      compression: 'none',
      timeoutMs: 30000,
      records: [
        good(0),
        { key: 'k', value: Buffer.from('{not json'), headers: { messageId: 'bad' } },
        good(2),
      ],
    });
    const ch = await consumer(conn, consumerBuilder(topic, group));
    const c = await collect(ch);
    await waitFor(() => c.deliveries.length >= 2, 20000);
    expect(c.deliveries.map(indexOf)).toEqual([0, 2]);
    const [dead] = await readRaw(`${topic}.DLQ`, 1);
    expect(dead!.value?.toString()).toBe('{not json');
    expect(dead!.headers[KafkaHeaders.DLQ_REASON]).toContain('Cannot decode record');
    expect(dead!.headers[KafkaHeaders.DLQ_ERROR_CODE]).toBe('GOMES_TRANSLATION_FAILED');
    expect(dead!.headers[KafkaHeaders.DLQ_SOURCE_OFFSET]).toBe('1');
    // Core's envelope: the letter has its own messageId; the original's headers are kept as gomes.original.*.
    expect(dead!.headers['gomes.original.messageId']).toBe('bad');
    await waitFor(async () => (await committed(group, topic))[0] === '3', 10000, {
      description: 'committed past the bad record',
    });
    expect(ch.deadLettered).toBe(1);
  });

  it('loses nothing when a second member joins and leaves mid-stream', async () => {
    const conn = await connection();
    const topic = await createTopic(uniqueTopic('con-rebalance'), 3);
    const group = uniqueTopic('g-rebalance');
    const pub = await publisher(conn, topic);
    const acked = new Set<string>();
    const slowAck = async (d: Delivery): Promise<void> => {
      setTimeout(() => void d.ack().then(() => acked.add(d.message.messageId)), 20);
    };
    const sent: Message[] = [];
    const publish = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i++) {
        const m = msg(i, `key-${i}`);
        sent.push(m);
        await pub.send(m);
      }
    };
    await publish(0, 30);
    const a = await collect(await consumer(conn, consumerBuilder(topic, group)), slowAck);
    await waitFor(() => a.deliveries.length >= 5, 20000);
    const memberB = await consumer(conn, consumerBuilder(topic, group));
    const b = await collect(memberB, slowAck);
    await publish(30, 30);
    await waitFor(() => memberB.assignment.length > 0 && b.deliveries.length > 0, 30000, {
      description: 'B gets a share',
    });
    await b.subscription.close();
    await publish(60, 30);
    await waitFor(() => sent.every((m) => acked.has(m.messageId)), 45000, {
      description: 'every message delivered and acked',
    });
    // Acks of revoked deliveries are ignored, so the group's commits reaching the end of every
    // partition proves each record was acked by its current owner: nothing was skipped.
    await waitFor(
      async () =>
        (await committed(group, topic)).reduce((sum, o) => sum + Math.max(0, Number(o)), 0) === sent.length,
      20000,
      { description: 'commits cover all 90 records' },
    );
    expect(memberB.state).toBe('stopped');
    expect(a.errors).toEqual([]);
  }, 90000);
});
