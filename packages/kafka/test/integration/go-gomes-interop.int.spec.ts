// Interop with Go gomes on the real broker. Records exactly as Go gomes writes them (headers, key =
// correlationId, JSON body, the {"ReasonError","Payload","Headers"} dead letter) are produced with
// plain kafkajs and consumed through gomes; records gomes writes with withWireFormat('go-gomes') are
// read back raw and checked field by field against what Go gomes' parser reads (readAsGoGomes).
import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import kafkajs from 'kafkajs';
import {
  Action,
  Command,
  Event,
  defineCommandHandler,
  defineEventHandler,
  type HandlerContext,
} from '@gomes/core';
import { formatGoGomesTimestamp, readGoGomesDeadLetter } from '@gomes/core/transport';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import {
  closeAll,
  collect,
  connection,
  consumer,
  createTopic,
  env,
  readRaw,
  track,
  waitFor,
} from '../support/kafka-harness.js';
import { consumerBuilder, kafkaGomes } from '../support/gomes-kafka.js';
import {
  GO_TRACEPARENT,
  goCommandRecord,
  goDeadLetterRecord,
  goEventRecord,
  readAsGoGomes,
  wireRecord,
  type WireRecord,
} from '../support/go-gomes-wire.js';

afterEach(closeAll);

@Command('goInterop.placeOrder')
class PlaceOrder extends Action<void> {
  @IsString() orderId: string;
  @IsInt() @Min(1) quantity: number;
  constructor(orderId: string, quantity: number) {
    super();
    this.orderId = orderId;
    this.quantity = quantity;
  }
}

@Event('goInterop.orderPlaced')
class OrderPlaced {
  @IsString() orderId: string;
  constructor(
    orderId: string,
    readonly total: number,
  ) {
    this.orderId = orderId;
  }
}

/** Produces `records` to `topic` with plain kafkajs, byte for byte (no gomes involved). */
async function produceRaw(topic: string, records: readonly WireRecord[]): Promise<void> {
  const kafka = new kafkajs.Kafka({ brokers: [...env.brokers], logLevel: kafkajs.logLevel.NOTHING });
  const producer = track(kafka.producer());
  await producer.connect();
  await producer.send({
    topic,
    messages: records.map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers } })),
  });
}

describe('Go gomes interop over Kafka', () => {
  it('consumes records exactly as Go gomes writes them, and reads its dead letters', async () => {
    const topic = await createTopic(uniqueTopic('go-orders'), 1);
    const dlq = await createTopic(uniqueTopic('go-orders-dlq'), 1);
    const command = goCommandRecord(topic);
    const event = goEventRecord(topic);
    await produceRaw(topic, [command, event]);
    await produceRaw(dlq, [goDeadLetterRecord(dlq, command, 'stock service unavailable')]);

    const handled: Array<{ payload: object; context: HandlerContext }> = [];
    const consumerName = uniqueTopic('go-reader');
    const app = kafkaGomes('go-reader')
      .addConsumerChannel(consumerBuilder(topic, consumerName))
      .addActionHandler(
        defineCommandHandler(PlaceOrder, (payload, context) => void handled.push({ payload, context })),
      )
      .addActionHandler(
        defineEventHandler(OrderPlaced, (payload, context) => void handled.push({ payload, context })),
      );
    await app.start();
    const reader = app.eventDrivenConsumer(consumerName);
    await reader.run();
    await waitFor(() => handled.length === 2, 30_000, { description: 'both Go records handled' });

    const [placed, orderPlaced] = handled;
    expect(placed!.payload).toBeInstanceOf(PlaceOrder);
    expect({ ...placed!.payload }).toEqual({ orderId: 'o-42', quantity: 2 });
    const m = placed!.context.message;
    expect([m.route, m.messageType, m.messageId, m.correlationId]).toEqual([
      'goInterop.placeOrder',
      'Command',
      command.headers['messageId'],
      command.headers['correlationId'],
    ]);
    expect(m.timestamp?.toISOString()).toBe('2026-02-17T10:11:12.000Z');
    expect(m.header('traceparent')).toBe(GO_TRACEPARENT);
    expect(m.replyTo).toBeUndefined();
    expect([m.channelName, m.origin, m.version]).toEqual([topic, 'Gomes', '1.0']);

    expect(orderPlaced!.payload).toBeInstanceOf(OrderPlaced);
    expect({ ...orderPlaced!.payload }).toEqual({ orderId: 'o-42', total: 99.5 });
    expect([orderPlaced!.context.messageId, orderPlaced!.context.message.messageType]).toEqual([
      event.headers['messageId'],
      'Event',
    ]);
    expect(reader.stats).toMatchObject({ succeeded: 2, failed: 0, deadLettered: 0 });

    const conn = await connection();
    const { deliveries } = await collect(
      await consumer(conn, consumerBuilder(dlq, uniqueTopic('go-dlq-reader'))),
    );
    await waitFor(() => deliveries.length === 1, 30_000, { description: 'the Go dead letter' });
    const deadLetter = deliveries[0]!.message;
    expect([deadLetter.messageType, deadLetter.route, deadLetter.correlationId]).toEqual([
      'Document',
      undefined,
      command.headers['correlationId'],
    ]);
    const dead = readGoGomesDeadLetter(deadLetter);
    expect(dead?.reason).toBe('stock service unavailable');
    expect(dead?.payload).toEqual({ orderId: 'o-42', quantity: 2 });
    expect(dead?.headers).toMatchObject({
      route: 'goInterop.placeOrder',
      messageType: 'Command',
      correlationId: command.headers['correlationId'],
      Traceparent: GO_TRACEPARENT,
    });
  });

  it("writes, with withWireFormat('go-gomes'), records whose every field Go gomes parses", async () => {
    const topic = await createTopic(uniqueTopic('go-written'), 1);
    const app = kafkaGomes('go-writer').addPublisherChannel(
      new KafkaPublisherChannelBuilder('kafka', topic).withWireFormat('go-gomes'),
    );
    await app.start();
    const commandId = await app
      .commandBusByChannel(topic)
      .sendAsync(new PlaceOrder('o-7', 3), { correlationId: 'corr-7', headers: { tenant: 'acme' } });
    const eventId = await app
      .eventBusByChannel(topic)
      .publish(new OrderPlaced('o-7', 12.5), { correlationId: 'corr-8' });

    const records = await readRaw(topic, 2);
    const [commandRecord, eventRecord] = records;
    for (const [record, type, route, id, correlationId, payload] of [
      [
        commandRecord!,
        'Command',
        'goInterop.placeOrder',
        commandId,
        'corr-7',
        { orderId: 'o-7', quantity: 3 },
      ],
      [eventRecord!, 'Event', 'goInterop.orderPlaced', eventId, 'corr-8', { orderId: 'o-7', total: 12.5 }],
    ] as const) {
      const go = readAsGoGomes(wireRecord(record));
      expect(go.problems).toEqual([]);
      expect([go.messageType, go.route, go.correlationId, go.payload]).toEqual([
        type,
        route,
        correlationId,
        payload,
      ]);
      expect(record.key?.toString()).toBe(correlationId);
      expect(record.headers).toMatchObject({
        messageType: type,
        route,
        correlationId,
        messageId: id,
        channelName: topic,
        version: '1.0',
        origin: 'gomes',
      });
      // Go's layout, in local time, the second the message was built (just before the produce).
      const producedAt = Number(record.timestamp);
      expect([
        formatGoGomesTimestamp(new Date(producedAt)),
        formatGoGomesTimestamp(new Date(producedAt - 1000)),
      ]).toContain(record.headers['timestamp']);
    }
    expect(commandRecord!.headers['tenant']).toBe('acme');
  });
});
