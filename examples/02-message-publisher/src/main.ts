/**
 * Example 02 — publishing messages: custom headers, correlation and causation ids, partition keys.
 *
 * A command is built by hand with MessageBuilder and sent on a raw in-memory publisher channel;
 * the events it causes are published through gomes' event bus over a channel, with a tenant
 * header, the command's correlationId, causationId = the command's messageId, and the customer as
 * partition key. A plain consumer (the ConsumerChannel contract, no gomes pipeline) then shows that
 * the messageId survives the broker and a redelivery, and that each key keeps its order.
 *
 * Run: pnpm build && node examples/02-message-publisher/dist/main.js
 */
import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import {
  Event,
  InMemoryBroker,
  InMemoryConsumerChannel,
  InMemoryPublisherChannel,
  MessageBuilder,
  PARTITION_KEY_HEADER,
  createGomes,
  inMemoryConnection,
  inMemoryPublisher,
  partitionForKey,
  type Delivery,
} from '@gomes/core';

@Event('addressChanged', { version: '2.0' })
class AddressChanged {
  @IsString() customerId: string;
  @IsInt() @Min(1) seq: number;
  @IsString() city: string;
  constructor(customerId: string, seq: number, city: string) {
    this.customerId = customerId;
    this.seq = seq;
    this.city = city;
  }
}

interface Received {
  readonly topic: string;
  readonly partition: number | undefined;
  readonly offset: string | undefined;
  readonly attempt: number;
  readonly key: string;
  readonly messageId: string;
  readonly route: string | undefined;
  readonly payload: unknown;
}

function step(title: string): void {
  console.log(`\n== ${title}`);
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function main(): Promise<void> {
  // One broker shared by the gomes instance and the plain publisher/consumer below.
  const broker = new InMemoryBroker();
  broker.createTopic('customer.commands', 1);
  broker.createTopic('customer.events', 4);

  const app = createGomes({ name: 'publisher-example' });
  app
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'customer.events'));
  await app.start();

  step('1. a command built by hand and sent on a raw publisher channel');
  const command = MessageBuilder.withPayload({ customers: ['customer-A', 'customer-B'], city: 'Lisbon' })
    .messageType('Command')
    .route('relocateCustomers')
    .correlationId('req-42')
    .header('tenant', 'acme')
    .header(PARTITION_KEY_HEADER, 'batch-1')
    .build();
  await new InMemoryPublisherChannel(broker, 'customer.commands').send(command);
  console.log(
    `sent relocateCustomers messageId=${command.messageId} correlationId=${String(command.correlationId)}`,
  );
  console.log(`headers: ${JSON.stringify(command.headers)}`);

  step('2. the events it causes, through the event bus over customer.events (4 partitions)');
  const events = app.eventBusByChannel('customer.events');
  const cities = ['Porto', 'Braga', 'Faro'];
  for (let seq = 1; seq <= 3; seq++) {
    for (const customerId of ['customer-A', 'customer-B']) {
      await events.publish(new AddressChanged(customerId, seq, cities[seq - 1]!), {
        headers: { tenant: 'acme' },
        correlationId: command.correlationId!,
        causationId: command.messageId,
        partitionKey: customerId,
      });
    }
  }
  for (const key of ['customer-A', 'customer-B']) {
    console.log(
      `published 3 addressChanged for ${key} -> partition ${partitionForKey(key, 4)} (Kafka's murmur2 partitioner)`,
    );
  }

  step('3. a plain consumer reads both topics: the first delivery of the command is nacked once');
  const received: Received[] = [];
  const record = async (delivery: Delivery): Promise<void> => {
    const m = delivery.message;
    received.push({
      topic: delivery.position.channel,
      partition: delivery.position.partition,
      offset: delivery.position.offset,
      attempt: delivery.deliveryAttempt,
      key: delivery.key,
      messageId: m.messageId,
      route: m.route,
      payload: m.payload,
    });
    if (m.route === 'relocateCustomers' && delivery.deliveryAttempt === 1) {
      console.log(`customer.commands: ${m.messageId} attempt 1 -> nack (redeliver)`);
      await delivery.nack();
      return;
    }
    if (m.route === 'relocateCustomers') {
      const same = m.messageId === command.messageId ? 'same messageId as sent' : 'DIFFERENT messageId';
      console.log(`customer.commands: ${m.messageId} attempt ${delivery.deliveryAttempt} -> ack (${same})`);
    } else {
      const e = m.payload as AddressChanged;
      console.log(
        `customer.events p${String(delivery.position.partition)}@${String(delivery.position.offset)} key=${delivery.key} ` +
          `seq=${e.seq} city=${e.city} tenant=${String(m.header('tenant'))} version=${String(m.version)} ` +
          `correlationId=${String(m.correlationId)} causedByCommand=${String(m.causationId === command.messageId)}`,
      );
    }
    await delivery.ack();
  };
  const plain = (topic: string): InMemoryConsumerChannel =>
    new InMemoryConsumerChannel({
      broker,
      consumerName: 'audit',
      topic,
      groupId: 'audit',
      queueCapacity: 10,
      startOffset: 'earliest',
    });
  const subscriptions = await Promise.all([
    plain('customer.commands').subscribe(record),
    plain('customer.events').subscribe(record),
  ]);
  await until(
    'every message',
    () =>
      received.filter((r) => r.topic === 'customer.events').length === 6 &&
      received.some((r) => r.attempt === 2),
  );

  step('4. what the consumer saw');
  const redelivered = received.filter((r) => r.route === 'relocateCustomers');
  console.log(
    `command delivered ${redelivered.length} times, attempts ${redelivered.map((r) => r.attempt).join(',')}, ` +
      `messageId stable: ${String(redelivered.every((r) => r.messageId === command.messageId))}`,
  );
  for (const key of ['customer-A', 'customer-B']) {
    const mine = received.filter((r) => r.key === key);
    const seqs = mine.map((r) => (r.payload as AddressChanged).seq);
    const inOrder = seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!);
    const partitions = [...new Set(mine.map((r) => r.partition))].join(',');
    console.log(`${key}: seq ${seqs.join(',')} (in order: ${String(inOrder)}), partition ${partitions}`);
  }
  const ids = received.filter((r) => r.topic === 'customer.events').map((r) => r.messageId);
  console.log(`event messageIds unique: ${String(new Set(ids).size === ids.length)}`);
  console.log(
    `committed offsets of group "audit": commands=${String(broker.committedOffset('audit', 'customer.commands', 0))}`,
  );

  await Promise.all(subscriptions.map(async (s) => s.close()));
  await app.shutdown();
  console.log('\ndone');
}

await main();
