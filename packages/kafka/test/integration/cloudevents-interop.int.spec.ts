// CloudEvents interop on the real broker, both ways, with the `cloudevents` SDK's Kafka binding (a
// test-only devDependency): records gomes writes with withEnvelope('cloudevents') — binary and
// structured — are read back raw and decoded by the SDK; records the SDK builds are produced with
// plain kafkajs and consumed by gomes, which routes them by `type` and keeps `id` as the messageId
// across a redelivery.
import 'reflect-metadata';
import { IsString } from 'class-validator';
import { CloudEvent, Kafka, type CloudEventV1, type KafkaMessage } from 'cloudevents';
import kafkajs from 'kafkajs';
import {
  Action,
  Command,
  Event,
  defineCommandHandler,
  defineEventHandler,
  type Gomes,
  type Message,
} from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, env, readRaw, track, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes, sleep } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Command('ce.placeOrder')
class PlaceOrder extends Action<void> {
  @IsString() orderId: string;
  constructor(orderId: string) {
    super();
    this.orderId = orderId;
  }
}

@Event('ce.orderPlaced', { subject: (e: OrderPlaced) => e.orderId })
class OrderPlaced {
  @IsString() orderId: string;
  constructor(
    orderId: string,
    readonly total: number,
  ) {
    this.orderId = orderId;
  }
}

/** What the SDK's Kafka binding reads from a raw record. */
function sdkRead(record: {
  key: Buffer | null;
  value: Buffer | null;
  headers: Readonly<Record<string, string>>;
}): CloudEventV1<unknown> {
  const message: KafkaMessage<Buffer | null> = {
    key: record.key ?? '',
    value: record.value,
    body: record.value,
    headers: { ...record.headers },
  };
  const event = Kafka.toEvent(message);
  if (Array.isArray(event)) throw new Error('unexpected batch');
  return event;
}

describe('CloudEvents interop over Kafka (cloudevents SDK)', () => {
  it('gomes writes binary and structured CloudEvents the SDK reads, with the ids inherited from the handled command', async () => {
    const commands = await createTopic(uniqueTopic('ce-commands'), 1);
    const binaryTopic = await createTopic(uniqueTopic('ce-binary'), 1);
    const structuredTopic = await createTopic(uniqueTopic('ce-structured'), 1);
    const consumerName = uniqueTopic('ce-order-service');
    const app: Gomes = kafkaGomes('ce-writer', { origin: '/orders-service' })
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', commands))
      .addPublisherChannel(
        new KafkaPublisherChannelBuilder('kafka', binaryTopic).withEnvelope('cloudevents', {
          mode: 'binary',
        }),
      )
      .addPublisherChannel(
        new KafkaPublisherChannelBuilder('kafka', structuredTopic).withEnvelope('cloudevents', {
          mode: 'structured',
        }),
      )
      .addConsumerChannel(consumerBuilder(commands, consumerName))
      .addActionHandler(
        defineCommandHandler(PlaceOrder, async (command) => {
          // No ids passed: both events inherit the command's correlationId and causation.
          await app.eventBusByChannel(binaryTopic).publish(new OrderPlaced(command.orderId, 12.5));
          await app.eventBusByChannel(structuredTopic).publish(new OrderPlaced(command.orderId, 12.5));
        }),
      );
    await app.start();
    await app.eventDrivenConsumer(consumerName).run();
    const commandId = await app
      .commandBusByChannel(commands)
      .sendAsync(new PlaceOrder('o-1'), { correlationId: 'conv-ce-1' });

    const [binaryRecord] = await readRaw(binaryTopic, 1, 30_000);
    const [structuredRecord] = await readRaw(structuredTopic, 1, 30_000);
    for (const record of [binaryRecord!, structuredRecord!]) {
      const event = sdkRead(record);
      expect(event).toMatchObject({
        specversion: '1.0',
        id: record.headers['messageId'], // the gomes messageId, also written as a header
        type: 'ce.orderPlaced',
        source: '/orders-service',
        subject: 'o-1',
        datacontenttype: 'application/json',
        correlationid: 'conv-ce-1',
        causationid: commandId,
        data: { orderId: 'o-1', total: 12.5 },
      });
      expect(Date.parse(event.time!)).toBeGreaterThan(Date.now() - 120_000);
      expect(new CloudEvent({ ...event }, true).validate()).toBe(true);
      expect(record.key?.toString()).toBe('conv-ce-1');
    }
    expect(binaryRecord!.headers['ce_specversion']).toBe('1.0');
    expect(binaryRecord!.headers['route']).toBe('ce.orderPlaced'); // gomes headers stay (Go-compatible)
    expect(structuredRecord!.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
  });

  it('gomes consumes the SDK binary and structured records: routed by type, messageId = id, the same after a redelivery', async () => {
    const topic = await createTopic(uniqueTopic('ce-from-sdk'), 1);
    const group = uniqueTopic('g-ce-from-sdk');
    const event = (id: string, orderId: string): CloudEvent<{ orderId: string; total: number }> =>
      new CloudEvent({
        id,
        source: 'urn:acme:shop',
        type: 'ce.orderPlaced',
        subject: orderId,
        time: '2026-03-01T08:00:00.250Z',
        datacontenttype: 'application/json',
        correlationid: `conv-${orderId}`,
        causationid: `cause-${orderId}`,
        partitionkey: orderId,
        tenant: 'acme',
        data: { orderId, total: 7 },
      });
    const binary = Kafka.binary(event('evt-binary', 'o-7'));
    const structured = Kafka.structured(event('evt-structured', 'o-8'));
    const kafka = new kafkajs.Kafka({ brokers: [...env.brokers], logLevel: kafkajs.logLevel.NOTHING });
    const producer = track(kafka.producer());
    await producer.connect();
    const headers = (h: Record<string, unknown>): Record<string, string> =>
      Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
    await producer.send({
      topic,
      messages: [
        // The binary binding hands the data over as is: the producer serialises it.
        { key: binary.key, value: JSON.stringify(binary.value), headers: headers(binary.headers) },
        { key: structured.key, value: structured.value, headers: headers(structured.headers) },
      ],
    });

    const consumerName = uniqueTopic('ce-reader');
    const instance = async (
      name: string,
      seen: Array<{ payload: OrderPlaced; message: Message }>,
      work: (signal: AbortSignal) => Promise<void>,
      shutdownTimeoutMs: number,
    ): Promise<Gomes> => {
      const app = kafkaGomes(name, { shutdownTimeoutMs })
        .addConsumerChannel(consumerBuilder(topic, consumerName).withGroupId(group))
        .addActionHandler(
          defineEventHandler(OrderPlaced, async (payload, context) => {
            seen.push({ payload, message: context.message });
            await work(context.signal);
          }),
        );
      await app.start();
      await app.eventDrivenConsumer(consumerName).withNackDelay(0).run();
      return app;
    };

    // Instance A handles the first record but never finishes it: shut down with a tiny budget, it
    // commits nothing, so the group redelivers both records to instance B.
    const first: Array<{ payload: OrderPlaced; message: Message }> = [];
    const a = await instance('ce-reader-a', first, async (signal) => sleep(600_000, signal), 200);
    await waitFor(() => first.length >= 1, 30_000, { description: 'A got the first record' });
    await a.shutdown();
    expect((await committedOffsets(group, topic))[0]).toBeLessThan(1); // none, or offset 0

    const second: Array<{ payload: OrderPlaced; message: Message }> = [];
    await instance('ce-reader-b', second, async () => undefined, 5000);
    await waitFor(() => second.length === 2, 30_000, { description: 'B handled both records' });
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 2, 10_000, {
      description: 'commit 2',
    });

    expect(first[0]!.message.messageId).toBe('evt-binary');
    expect(second.map((s) => s.message.messageId)).toEqual(['evt-binary', 'evt-structured']);
    for (const [{ payload, message }, orderId] of [
      [second[0]!, 'o-7'],
      [second[1]!, 'o-8'],
    ] as const) {
      expect(payload).toBeInstanceOf(OrderPlaced);
      expect({ ...payload }).toEqual({ orderId, total: 7 });
      expect([message.route, message.messageType, message.origin, message.subject]).toEqual([
        'ce.orderPlaced',
        'Event',
        'urn:acme:shop',
        orderId,
      ]);
      expect([message.correlationId, message.causationId]).toEqual([`conv-${orderId}`, `cause-${orderId}`]);
      expect(message.timestamp?.toISOString()).toBe('2026-03-01T08:00:00.250Z');
      expect([message.channelName, message.header('ce_tenant')]).toEqual([topic, 'acme']);
    }
  });
});
