/**
 * A message's id, timestamp and headers are fixed when it is sent: every hook that can read them
 * reads the same values — before and after the message crosses a channel, whether the in-process
 * buses made the message eagerly or only when someone asked for it, and whatever is read first.
 */
import 'reflect-metadata';
import { Action } from '../actions/action.js';
import { Command, Event } from '../actions/action-decorators.js';
import type { HandlerContext } from '../actions/handler-context.js';
import { defineCommandHandler, defineEventHandler } from '../actions/handler-definition.js';
import { GomesError } from '../errors/gomes-error.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import { MessageHeaders } from '../message/message-headers.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import type { HandlerMiddleware, Interceptor } from '../pipeline/message-handler.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { MessagingAttributes as A } from '../observability/messaging-attributes.js';
import { OtelTestKit, registerOtelGlobals } from '../../test/support/otel-test-kit.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { createGomes } from './create-gomes.js';

@Command('placeOrder')
class PlaceOrder extends Action<string> {
  constructor(readonly sku: string) {
    super();
  }
}

@Event('orderPlaced')
class OrderPlaced {
  constructor(readonly id: string) {}
}

/** What one hook read, in the order given by `order` (the lazy envelope must not care). */
interface Reading {
  readonly hook: string;
  readonly messageId: string;
  readonly correlationId: string | undefined;
  readonly timestamp: string | undefined;
  readonly timestampMs: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

function readContext(hook: string, ctx: HandlerContext, idFirst: boolean): Reading {
  const messageId = idFirst ? ctx.messageId : ctx.message.messageId;
  const correlationId = idFirst ? ctx.correlationId : ctx.message.correlationId;
  const headers = { ...ctx.headers };
  expect(ctx.message.messageId).toBe(messageId);
  expect(ctx.messageId).toBe(messageId);
  expect(ctx.correlationId).toBe(correlationId);
  expect(ctx.headers).toBe(ctx.message.headers);
  return {
    hook,
    messageId,
    correlationId,
    timestamp: ctx.message.header(MessageHeaders.TIMESTAMP),
    timestampMs: ctx.message.timestamp?.getTime(),
    headers,
  };
}

function readMessage(hook: string, message: Message): Reading {
  return {
    hook,
    messageId: message.messageId,
    correlationId: message.correlationId,
    timestamp: message.header(MessageHeaders.TIMESTAMP),
    timestampMs: message.timestamp?.getTime(),
    headers: { ...message.headers },
  };
}

/** Every reading equals the first one (hook names aside). */
function expectSameEverywhere(readings: readonly Reading[], expected: Reading): void {
  expect(readings.length).toBeGreaterThan(0);
  for (const r of readings) expect({ ...r, hook: 'any' }).toEqual({ ...expected, hook: 'any' });
}

describe('message identity in process', () => {
  it.each([
    ['ids read before the message', true],
    ['the message read before the ids', false],
  ])('a command: the handler context reads one id, timestamp and header set (%s)', async (_, idFirst) => {
    const lines = recordingLogger();
    const app = createGomes({ logger: lines });
    const readings: Reading[] = [];
    let logged: Record<string, unknown> | undefined;
    // The clock is read when the command is sent; the handler reads later (the message, its ids and
    // its timestamp text are made only now, on first read) and must still see the send time.
    // In the future, so no id made earlier in this process has a later time (ids never go back).
    const sentAt = Date.now() + 60_000;
    const clock = jest.spyOn(Date, 'now');
    app.addActionHandler(
      defineCommandHandler(PlaceOrder, (cmd, ctx) => {
        clock.mockReturnValue(sentAt + 5000);
        if (!idFirst) ctx.logger.info('handling'); // the logger made before anything else was read
        readings.push(readContext('handler', ctx, idFirst));
        if (idFirst) ctx.logger.info('handling');
        logged = lines.lines.find((l) => l.message === 'handling')?.fields;
        return cmd.sku;
      }),
    );
    await app.start();
    clock.mockReturnValue(sentAt);
    try {
      await app.commandBus().send(new PlaceOrder('sku-1'), { headers: { tenant: 'acme' } });
    } finally {
      clock.mockRestore();
    }
    await app.shutdown();

    const [first] = readings;
    expectSameEverywhere(readings, { ...first!, hook: 'any' });
    expect(first!.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first!.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first!.correlationId).not.toBe(first!.messageId);
    expect(first!.timestampMs).toBe(sentAt);
    expect(first!.timestamp).toBe(new Date(sentAt).toISOString());
    // The ids, made on first read, carry the send time too (uuid v7 unix_ts_ms).
    const idTime = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(idTime(first!.messageId)).toBeGreaterThanOrEqual(sentAt);
    expect(idTime(first!.messageId)).toBeLessThan(sentAt + 5000);
    expect(first!.headers).toEqual({
      messageType: 'Command',
      route: 'placeOrder',
      correlationId: first!.correlationId,
      tenant: 'acme',
      messageId: first!.messageId,
      timestamp: first!.timestamp,
      origin: 'gomes',
      version: '1.0',
    });
    expect(logged).toMatchObject({
      messageId: first!.messageId,
      correlationId: first!.correlationId,
      route: 'placeOrder',
    });
  });

  it('an event: publish resolves to the id both handlers read, with the same timestamp and headers', async () => {
    const app = createGomes();
    const readings: Reading[] = [];
    app.addActionHandler(
      defineEventHandler(OrderPlaced, (_, ctx) => void readings.push(readContext('h1', ctx, true))),
    );
    app.addActionHandler(
      defineEventHandler(OrderPlaced, (_, ctx) => void readings.push(readContext('h2', ctx, false))),
    );
    await app.start();
    const messageId = await app.eventBus().publish(new OrderPlaced('o-1'), { correlationId: 'conv-9' });
    await app.shutdown();
    expect(readings).toHaveLength(2);
    expectSameEverywhere(readings, { ...readings[0]!, hook: 'any' });
    expect(readings[0]!.messageId).toBe(messageId);
    expect(readings[0]!.correlationId).toBe('conv-9');
  });

  it('sendAsync resolves to the id the handler reads, and a failure reports that same message', async () => {
    const app = createGomes();
    const readings: Reading[] = [];
    const reported: Message[] = [];
    app.onUnhandledError((_, message) => void (message && reported.push(message)));
    app.addActionHandler(
      defineCommandHandler(PlaceOrder, (cmd, ctx) => {
        readings.push(readContext('handler', ctx, true));
        if (cmd.sku === 'bad') throw new GomesError('HANDLER_FAILED', 'no');
        return cmd.sku;
      }),
    );
    await app.start();
    const good = await app.commandBus().sendAsync(new PlaceOrder('ok'));
    const bad = await app.commandBus().sendAsync(new PlaceOrder('bad'));
    await waitFor(() => readings.length === 2 && reported.length === 1);
    await app.shutdown();
    expect(readings.map((r) => r.messageId)).toEqual([good, bad]);
    expect(readMessage('reported', reported[0]!)).toEqual({ ...readings[1]!, hook: 'reported' });
  });

  it('the message carries the options as they were at send, even when it is built later', async () => {
    const app = createGomes();
    const seen: Reading[] = [];
    app.addActionHandler(
      defineCommandHandler(PlaceOrder, (cmd, ctx) => {
        seen.push(readMessage('handler', ctx.message)); // built now, after the caller changed its options
        return cmd.sku;
      }),
    );
    await app.start();
    const options = { headers: { tenant: 'acme' }, correlationId: 'conv-1', partitionKey: 'k-1' };
    await app.commandBus().sendAsync(new PlaceOrder('sku-1'), options);
    options.headers.tenant = 'other';
    options.correlationId = 'conv-2';
    options.partitionKey = 'k-2';
    await waitFor(() => seen.length === 1);
    await app.shutdown();
    expect(seen[0]!.headers).toMatchObject({
      tenant: 'acme',
      correlationId: 'conv-1',
      'gomes.partitionKey': 'k-1',
    });
  });

  it('with tracing on, the dispatch and handler spans carry the id the handler reads', async () => {
    const undo = registerOtelGlobals();
    const kit = new OtelTestKit();
    try {
      const app = createGomes({ tracing: true, tracerProvider: kit.tracerProvider });
      const readings: Reading[] = [];
      app.addActionHandler(
        defineCommandHandler(PlaceOrder, (cmd, ctx) => {
          readings.push(readContext('handler', ctx, true));
          return cmd.sku;
        }),
      );
      await app.start();
      await app.commandBus().send(new PlaceOrder('sku-1'));
      await app.shutdown();
      const spans = [kit.one('dispatch placeOrder'), kit.one('handle placeOrder')];
      for (const span of spans) {
        expect(span.attributes[A.MESSAGE_ID]).toBe(readings[0]!.messageId);
        expect(span.attributes[A.CONVERSATION_ID]).toBe(readings[0]!.correlationId);
      }
    } finally {
      await kit.shutdown();
      undo();
    }
  });
});

describe('in process, only what is read is made', () => {
  it("the bound logger is made on first read (once) and the signal is one object, the caller's when given", async () => {
    let children = 0;
    const counting = (logger: Logger): Logger => ({
      ...logger,
      child: (bindings) => {
        children++;
        return counting(logger.child(bindings));
      },
    });
    const logger = counting(recordingLogger());
    const app = createGomes({ logger });
    const signals: AbortSignal[] = [];
    app.addActionHandler(
      defineCommandHandler(PlaceOrder, (cmd, ctx) => {
        if (cmd.sku === 'reads') {
          ctx.logger.info('one');
          ctx.logger.info('two');
          signals.push(ctx.signal, ctx.signal);
        }
        return cmd.sku;
      }),
    );
    await app.start();
    const atStart = children;
    await app.commandBus().send(new PlaceOrder('silent'));
    expect(children).toBe(atStart);
    await app.commandBus().send(new PlaceOrder('reads'));
    expect(children).toBe(atStart + 1);
    expect(signals[0]).toBe(signals[1]);
    expect(signals[0]!.aborted).toBe(false);
    const mine = new AbortController().signal;
    await app.commandBus().send(new PlaceOrder('reads'), { signal: mine });
    expect(signals[2]).toBe(mine);
    await app.shutdown();
  });
});

describe('message identity across a channel', () => {
  it('the sender, interceptors, filter, middleware and handler read one id, timestamp and header set; the reply and the dead letter point back to it', async () => {
    const broker = new InMemoryBroker();
    const readings: Reading[] = [];
    const results: Message[] = [];
    const seen: Interceptor = (message) => {
      readings.push(readMessage('before-interceptor', message));
      return message;
    };
    const after: Interceptor = (result) => {
      results.push(result);
      return result;
    };
    const middleware: HandlerMiddleware = (next) => async (message, ctx) => {
      readings.push(readMessage('middleware', message));
      return next(message, ctx);
    };
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'orders'))
      .addPublisherChannel(inMemoryPublisher('mem', 'orders.DLQ'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'orders', 'orders-consumer')
          .withBeforeInterceptors(seen)
          .withFilter((message) => {
            readings.push(readMessage('filter', message));
            return true;
          })
          .withMiddleware(middleware)
          .withAfterInterceptors(after)
          .withDeadLetterChannelName('orders.DLQ')
          .withRetryTimes(),
      )
      .addActionHandler(
        defineCommandHandler(PlaceOrder, (cmd, ctx) => {
          readings.push(readContext('handler', ctx, cmd.sku === 'first'));
          if (cmd.sku === 'fail') throw new GomesError('VALIDATION', 'refused');
          return `placed:${cmd.sku}`;
        }),
      );
    const dead: Message[] = [];
    await app.start();
    broker.onAppend('orders.DLQ', (record) => dead.push(broker.decode(record)));
    await app.eventDrivenConsumer('orders-consumer').run();

    // A hand-built message: its own values are the reference. (It names its channel: a publisher
    // channel stamps `channelName` on a message that has none, as documented.)
    const sent = MessageBuilder.withPayload({ sku: 'first' })
      .channelName('orders')
      .messageType('Command')
      .route('placeOrder')
      .correlationId('conv-1')
      .header('tenant', 'acme')
      .build();
    await app.publisherChannel('orders').send(sent);
    await waitFor(() => results.length === 1);
    expectSameEverywhere(readings, readMessage('sent', sent));
    expect(readings.map((r) => r.hook)).toEqual(['middleware', 'before-interceptor', 'filter', 'handler']);
    expect(results[0]!.causationId).toBe(sent.messageId);
    expect(results[0]!.correlationId).toBe('conv-1');

    // Sent through the bus (the message made by the envelope): the returned id is what they all read.
    readings.length = 0;
    const messageId = await app.commandBusByChannel('orders').sendAsync(new PlaceOrder('second'));
    await waitFor(() => results.length === 2);
    expect(readings).toHaveLength(4);
    expectSameEverywhere(readings, readings[0]!);
    expect(readings[0]!.messageId).toBe(messageId);
    expect(readings[0]!.headers).toMatchObject({ channelName: 'orders', route: 'placeOrder', messageId });

    // A dead letter keeps the original's id, timestamp and headers.
    readings.length = 0;
    const failing = MessageBuilder.from(sent).payload({ sku: 'fail' }).messageId('failing-1').build();
    await app.publisherChannel('orders').send(failing);
    await waitFor(() => dead.length === 1);
    await app.shutdown();
    expect(readings).toHaveLength(4);
    expectSameEverywhere(readings, readMessage('sent', failing));
    const envelope = readDeadLetterEnvelope(dead[0]!);
    expect(envelope?.originalHeaders).toEqual({ ...failing.headers });
    expect(dead[0]!.causationId).toBe('failing-1');
  });
});
