// Nested payloads end to end over the real broker: a handler gets the declared classes (nested
// objects and array elements included) after JSON over Kafka; an invalid nested literal is rejected
// on send (nothing reaches the topic); invalid nested values sent raw are dead-lettered at once as
// non-retriable with the violations in the reason, never retried, never handled.
import 'reflect-metadata';
import { IsArray, IsDefined, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { Action, Command, CommandHandler, Type, ValidationError } from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, readRaw, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes, readDeadLetters } from '../support/gomes-kafka.js';

afterEach(closeAll);

class RequestMeta {
  @IsString() requestedBy!: string;
}

class OrderLine {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
}

class Address {
  @IsString() city!: string;
}

@Command('nk.placeOrder')
class PlaceOrder extends Action<string> {
  @IsString() customerId!: string;
  @IsDefined() @ValidateNested() @Type(() => RequestMeta) meta!: RequestMeta;
  @IsArray() @ValidateNested({ each: true }) @Type(() => OrderLine) lines!: OrderLine[];
  @IsOptional() @ValidateNested() @Type(() => Address) shipTo?: Address;
}

interface Seen {
  customerId: string;
  meta: boolean;
  lines: boolean[];
  shipTo: boolean | undefined;
}

@CommandHandler(PlaceOrder)
class PlaceOrderHandler {
  readonly seen: Seen[] = [];
  handle(order: PlaceOrder): string {
    this.seen.push({
      customerId: order.customerId,
      meta: order.meta instanceof RequestMeta,
      lines: order.lines.map((l) => l instanceof OrderLine),
      shipTo: order.shipTo === undefined ? undefined : order.shipTo instanceof Address,
    });
    return order.customerId;
  }
}

const valid = {
  customerId: 'c-1',
  meta: { requestedBy: 'ana' },
  lines: [
    { sku: 'book', quantity: 2 },
    { sku: 'pen', quantity: 1 },
  ],
};
const placeOrder = (fields: object): PlaceOrder => Object.assign(new PlaceOrder(), fields);

describe('nested validation over Kafka', () => {
  it('restores nested classes on receive, rejects invalid nested literals on send, dead-letters invalid nested values as non-retriable', async () => {
    const topic = await createTopic(uniqueTopic('nested'), 1);
    const dlq = await createTopic(`${topic}.DLQ`, 1);
    const group = uniqueTopic('g-nested');

    const sender = kafkaGomes('nested-sender');
    sender.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
    await sender.start();
    const bus = sender.commandBusByChannel(topic);

    // On send: an invalid nested literal is rejected and nothing is written.
    const rejected = await bus
      .sendAsync(placeOrder({ ...valid, meta: { requestedBy: 42 } }))
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(ValidationError);
    expect((rejected as ValidationError).message).toBe(
      'Invalid nk.placeOrder: meta.requestedBy: requestedBy must be a string',
    );

    await bus.sendAsync(placeOrder(valid)); // offset 0
    // sendRawAsync has no class, so nothing validates on send: the receiver must.
    await bus.sendRawAsync('nk.placeOrder', { ...valid, meta: { requestedBy: 42 } }); // 1
    await bus.sendRawAsync('nk.placeOrder', { ...valid, lines: [{ sku: 'a', quantity: 0 }] }); // 2
    await bus.sendAsync(placeOrder({ ...valid, customerId: 'c-2', shipTo: { city: 'Porto' } })); // 3
    const written = await readRaw(topic, 4);
    expect(written).toHaveLength(4);

    const handler = new PlaceOrderHandler();
    const app = kafkaGomes('nested-consumer');
    app
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', dlq))
      .addConsumerChannel(
        consumerBuilder(topic, 'nested-worker')
          .withGroupId(group)
          .withRetry({ maxAttempts: 5, initialDelayMs: 200, jitter: 0 })
          .withDeadLetterChannelName(dlq),
      )
      .addActionHandler(handler);
    await app.start();
    const consumer = app.eventDrivenConsumer('nested-worker');
    await consumer.run();

    const dead = await readDeadLetters(dlq, 2);
    await waitFor(() => handler.seen.length === 2, 20_000, { description: 'both valid orders handled' });
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 4, 20_000, {
      description: 'commit past all four',
    });

    expect(handler.seen).toEqual([
      { customerId: 'c-1', meta: true, lines: [true, true], shipTo: undefined },
      { customerId: 'c-2', meta: true, lines: [true, true], shipTo: true },
    ]);
    expect(
      dead.map((d) => [
        d.envelope.errorCode,
        d.envelope.retriable,
        d.envelope.attempts,
        d.envelope.originOffset,
      ]),
    ).toEqual([
      ['GOMES_VALIDATION', false, 1, '1'],
      ['GOMES_VALIDATION', false, 1, '2'],
    ]);
    expect(dead.map((d) => d.envelope.errorMessage)).toEqual([
      'Invalid nk.placeOrder: meta.requestedBy: requestedBy must be a string',
      'Invalid nk.placeOrder: lines.0.quantity: quantity must not be less than 1',
    ]);
    expect(dead[0]!.message.payload).toEqual({ ...valid, meta: { requestedBy: 42 } });
    expect(consumer.stats.retried).toBe(0);
    expect(consumer.stats.deadLettered).toBe(2);
  });
});
