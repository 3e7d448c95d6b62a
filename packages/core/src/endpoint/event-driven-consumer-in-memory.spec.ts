import type { PublisherChannel } from '../channel/publisher-channel.js';
import { noopLogger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { InMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import {
  inMemoryConsumer,
  type InMemoryConsumerChannelBuilder,
} from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { PARTITION_KEY_HEADER } from '../transport/in-memory/partition-key.js';
import { EventDrivenConsumer } from './event-driven-consumer.js';

describe('EventDrivenConsumer on the in-memory transport', () => {
  let connection: InMemoryConnection;
  const consumers: EventDrivenConsumer[] = [];
  const publishers = new Map<string, PublisherChannel>();

  beforeEach(async () => {
    connection = new InMemoryConnection('memory', { broker: new InMemoryBroker() });
    await connection.connect();
    for (const topic of ['orders', 'orders.dlq']) {
      publishers.set(
        topic,
        await inMemoryPublisher('memory', topic).withPartitions(3).build({ connection, logger: noopLogger }),
      );
    }
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map(async (c) => c.stop(100)));
    await Promise.all([...publishers.values()].map(async (p) => p.close()));
    publishers.clear();
    await connection.disconnect();
  });

  async function consume(
    builder: InMemoryConsumerChannelBuilder,
    handler: (m: Message) => Promise<Message | undefined>,
  ): Promise<EventDrivenConsumer> {
    const consumer = new EventDrivenConsumer({
      name: builder.consumerName,
      channel: await builder.build({ connection, logger: noopLogger }),
      endpointOptions: builder.endpointOptions,
      handler: async (m) => handler(m),
      channels: { publisher: (n) => publishers.get(n) },
      logger: noopLogger,
    });
    consumers.push(consumer);
    return consumer;
  }
  const send = async (topic: string, key: string, payload: unknown): Promise<void> =>
    publishers
      .get(topic)
      ?.send(MessageBuilder.withPayload(payload).header(PARTITION_KEY_HEADER, key).build());

  it('redelivers a nacked message and keeps per-key order with several processors', async () => {
    const seen: Record<string, number[]> = {};
    let failedOnce = false;
    const base = await consume(inMemoryConsumer('memory', 'orders', 'billing'), async (m) => {
      const { key, n } = m.payload as { key: string; n: number };
      if (key === 'a' && n === 1 && !failedOnce) {
        failedOnce = true;
        throw new Error('transient');
      }
      (seen[key] ??= []).push(n);
      return m;
    });
    const consumer = base.withAmountOfProcessors(4).withNackDelay(5);
    consumers.push(consumer);
    await consumer.run();
    for (let n = 0; n < 10; n++) for (const key of ['a', 'b', 'c']) await send('orders', key, { key, n });
    const complete = (key: string): boolean => new Set(seen[key]).size === 10;
    await waitFor(() => ['a', 'b', 'c'].every(complete), 5000);
    // At-least-once: a partition rewind may repeat messages after the nacked one; first occurrences stay in order.
    for (const key of ['a', 'b', 'c']) expect([...new Set(seen[key])]).toEqual([...Array(10).keys()]);
    expect(seen['a']).toEqual([...Array(10).keys()]);
    expect(consumer.stats.failed).toBe(1);
  });

  it('retries, dead-letters to a real channel and acks; the dead letter is readable downstream', async () => {
    const dead: Message[] = [];
    const main = await consume(
      inMemoryConsumer('memory', 'orders', 'billing')
        .withRetryTimes(1, 1)
        .withDeadLetterChannelName('orders.dlq'),
      async () => Promise.reject(new Error('always')),
    );
    const dlq = await consume(
      inMemoryConsumer('memory', 'orders.dlq', 'dlq-reader'),
      async (m) => (dead.push(m), undefined),
    );
    await main.run();
    await dlq.run();
    await send('orders', 'k', { orderId: 7 });
    await waitFor(() => dead.length === 1, 5000);
    expect(dead[0]?.payload).toEqual({ orderId: 7 });
    expect(readDeadLetterEnvelope(dead[0] as Message)).toMatchObject({
      attempts: 3,
      errorMessage: 'always',
      originChannel: 'orders',
    });
    await waitFor(() => main.stats.acked === 1);
    expect(main.stats).toMatchObject({ deadLettered: 1, retried: 2, nacked: 0 });
  });
});
