// End to end through the gomes API over the real broker: request-reply between two gomes instances
// (requester and responder, each with its own KafkaConnection). commandBusByChannel / queryBusByChannel
// send() resolves to the remote handler's typed result, a remote failure rejects with
// GOMES_REMOTE_HANDLER_FAILED, and no responder rejects with GOMES_REPLY_TIMEOUT.
import 'reflect-metadata';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import {
  Action,
  Command,
  CommandHandler,
  GomesError,
  Query,
  QueryHandler,
  type Gomes,
  type HandlerContext,
  type HandlerRegistration,
} from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic } from '../support/kafka-harness.js';
import { consumerBuilder, kafkaGomes, readDeadLetters } from '../support/gomes-kafka.js';

afterEach(closeAll);

interface Reservation {
  reservationId: string;
  sku: string;
  quantity: number;
}

@Command('rr.reserveStock')
class ReserveStock extends Action<Reservation> {
  @IsString() @MinLength(2) sku: string;
  @IsInt() @Min(1) quantity: number;
  constructor(sku: string, quantity: number) {
    super();
    this.sku = sku;
    this.quantity = quantity;
  }
}

@Command('rr.cancelReservation')
class CancelReservation extends Action<void> {
  @IsString() reservationId: string;
  constructor(reservationId: string) {
    super();
    this.reservationId = reservationId;
  }
}

interface StockLevel {
  sku: string;
  available: number;
  warehouses: string[];
}

@Query('rr.getStock')
class GetStock extends Action<StockLevel> {
  @IsString() sku: string;
  constructor(sku: string) {
    super();
    this.sku = sku;
  }
}

@CommandHandler(ReserveStock)
class ReserveStockHandler {
  readonly seen: { sku: string; correlationId: string | undefined; instanceOfCommand: boolean }[] = [];
  handle(command: ReserveStock, context: HandlerContext): Reservation {
    this.seen.push({
      sku: command.sku,
      correlationId: context.correlationId,
      instanceOfCommand: command instanceof ReserveStock,
    });
    return {
      reservationId: `res-${command.sku}-${command.quantity}`,
      sku: command.sku,
      quantity: command.quantity,
    };
  }
}

@CommandHandler(CancelReservation)
class CancelReservationHandler {
  calls = 0;
  handle(command: CancelReservation): void {
    this.calls++;
    throw new Error(`reservation ${command.reservationId} is already shipped`);
  }
}

@QueryHandler(GetStock)
class GetStockHandler {
  handle(query: GetStock): StockLevel {
    return { sku: query.sku, available: 42, warehouses: ['north', 'south'] };
  }
}

interface Topics {
  requests: string;
  replies: string;
}

async function topics(prefix: string): Promise<Topics> {
  const requests = await createTopic(uniqueTopic(`${prefix}-requests`), 2);
  const replies = await createTopic(uniqueTopic(`${prefix}-replies`), 1);
  await createTopic(`${requests}.DLQ`, 1);
  return { requests, replies };
}

/** The requester: publishes to `requests` stamping replyTo=`replies`, and listens on `replies`. */
async function requester(t: Topics, requestTimeoutMs = 15_000): Promise<Gomes> {
  const app = kafkaGomes('requester', { requestTimeoutMs });
  app
    .addPublisherChannel(
      new KafkaPublisherChannelBuilder('kafka', t.requests).withReplyChannelName(t.replies),
    )
    .addConsumerChannel(consumerBuilder(t.replies, uniqueTopic('requester-replies')));
  await app.start();
  return app;
}

/** The responder: consumes `requests`, replies through the send-reply middleware, dead-letters failures. */
async function responder(t: Topics, handlers: HandlerRegistration[]): Promise<Gomes> {
  const app = kafkaGomes('responder');
  app
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', t.replies))
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', `${t.requests}.DLQ`))
    .addConsumerChannel(
      consumerBuilder(t.requests, uniqueTopic('responder'))
        .withSendReplyUsingReplyTo()
        .withRetry({ maxAttempts: 2, initialDelayMs: 50, jitter: 0 })
        .withDeadLetterChannelName(),
    );
  for (const h of handlers) app.addActionHandler(h);
  await app.start();
  const consumerName = app.showActiveEndpoints().find((e) => e.direction === 'inbound')!.name;
  await app.eventDrivenConsumer(consumerName).withAmountOfProcessors(2).withNackDelay(200).run();
  return app;
}

describe('gomes request-reply over Kafka (two gomes instances)', () => {
  it('commandBusByChannel(topic).send() and queryBusByChannel(topic).send() resolve to the remote handler typed result', async () => {
    const t = await topics('rr-ok');
    const reserve = new ReserveStockHandler();
    await responder(t, [reserve, new GetStockHandler()]);
    const app = await requester(t);

    const reservation: Reservation = await app
      .commandBusByChannel(t.requests)
      .send(new ReserveStock('book-42', 3), {
        correlationId: 'checkout-1',
      });
    expect(reservation).toEqual({ reservationId: 'res-book-42-3', sku: 'book-42', quantity: 3 });
    expect(reserve.seen).toEqual([{ sku: 'book-42', correlationId: 'checkout-1', instanceOfCommand: true }]);

    const stock: StockLevel = await app.queryBusByChannel(t.requests).send(new GetStock('book-42'));
    expect(stock).toEqual({ sku: 'book-42', available: 42, warehouses: ['north', 'south'] });

    // Concurrent requests are matched to their own replies (by causationId), whatever partition they use.
    const many = await Promise.all(
      Array.from({ length: 8 }, async (_, i) =>
        app
          .commandBusByChannel(t.requests)
          .send(new ReserveStock(`sku-${i}`, i + 1), { partitionKey: `sku-${i}` }),
      ),
    );
    expect(many.map((r) => r.reservationId)).toEqual(
      Array.from({ length: 8 }, (_, i) => `res-sku-${i}-${i + 1}`),
    );
  });

  it('a remote handler error rejects send() with GOMES_REMOTE_HANDLER_FAILED (after the remote retries), and the request is dead-lettered', async () => {
    const t = await topics('rr-fail');
    const cancel = new CancelReservationHandler();
    await responder(t, [cancel]);
    const app = await requester(t);

    const error = await app
      .commandBusByChannel(t.requests)
      .send(new CancelReservation('res-9'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GomesError);
    expect((error as GomesError).code).toBe('GOMES_REMOTE_HANDLER_FAILED');
    expect((error as GomesError).message).toContain('reservation res-9 is already shipped');
    expect(cancel.calls).toBe(2); // one error reply, after the retry budget
    const [dead] = await readDeadLetters(`${t.requests}.DLQ`, 1);
    expect(dead!.envelope.errorMessage).toBe('reservation res-9 is already shipped');
    expect(dead!.envelope.attempts).toBe(2);
  });

  it('rejects with GOMES_REPLY_TIMEOUT when nobody answers', async () => {
    const t = await topics('rr-timeout');
    const app = await requester(t, 1500);
    const started = Date.now();
    const error = await app
      .commandBusByChannel(t.requests)
      .send(new ReserveStock('book-1', 1))
      .catch((e: unknown) => e);
    expect((error as GomesError).code).toBe('GOMES_REPLY_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    const perCall = await app
      .queryBusByChannel(t.requests)
      .send(new GetStock('book-1'), { timeoutMs: 500 })
      .catch((e: unknown) => e);
    expect((perCall as GomesError).code).toBe('GOMES_REPLY_TIMEOUT');
  });
});
