// Causation through handlers: a bus call made inside a handler (in process, or for a message from
// a consumer channel) inherits the handled message's correlationId and gets its messageId as
// causationId, unless the call gives them; `inheritCausation: false` turns it off. Also the
// `origin` and `subject` of sent messages (instance option, send options, decorator).
import 'reflect-metadata';
import { Action } from '../actions/action.js';
import { Command, Event } from '../actions/action-decorators.js';
import { defineBatchEventHandler } from '../actions/batch-event-handler.js';
import { defineCommandHandler, defineEventHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { createGomes } from './create-gomes.js';
import type { Gomes } from './gomes.js';

@Command('causation.placeOrder')
class PlaceOrder extends Action<string> {
  constructor(readonly orderId: string) {
    super();
  }
}

@Event('causation.orderPlaced', { subject: (e: OrderPlaced) => e.orderId })
class OrderPlaced {
  constructor(readonly orderId: string) {}
}

@Command('causation.reserveStock')
class ReserveStock extends Action<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

@Event('causation.badSubject', { subject: (e: BadSubject) => e.n as unknown as string })
class BadSubject {
  constructor(readonly n: number) {}
}

/** A promise settled from outside, to interleave handlers. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const ids = (m: Message): [string | undefined, string | undefined] => [m.correlationId, m.causationId];

let apps: Gomes[] = [];
afterEach(async () => {
  await Promise.all(apps.map(async (a) => a.shutdown()));
  apps = [];
});
function app(options: Parameters<typeof createGomes>[0] = {}): Gomes {
  const g = createGomes(options);
  apps.push(g);
  return g;
}

describe('causation: bus calls inside handlers inherit the handled message ids', () => {
  it('in process: before and after an await, through nesting, and restored after a nested call', async () => {
    const g = app();
    const events: Message[] = [];
    const reservations: Message[] = [];
    g.addActionHandler(
      defineCommandHandler(PlaceOrder, async (cmd) => {
        await g.eventBus().publish(new OrderPlaced(`${cmd.orderId}-sync`)); // before any await of its own
        await new Promise((resolve) => setTimeout(resolve, 5));
        await g.eventBus().publish(new OrderPlaced(cmd.orderId));
        return cmd.orderId;
      }),
    )
      .addActionHandler(
        defineEventHandler(OrderPlaced, async (event, ctx) => {
          events.push(ctx.message);
          await g.commandBus().send(new ReserveStock(event.orderId));
        }),
      )
      .addActionHandler(defineCommandHandler(ReserveStock, (_c, ctx) => void reservations.push(ctx.message)));
    await g.start();

    const commandId = await g.commandBus().sendAsync(new PlaceOrder('o-1'), { correlationId: 'conv-1' });
    await waitFor(() => reservations.length === 2);

    expect(events.map(ids)).toEqual([
      ['conv-1', commandId],
      ['conv-1', commandId], // after the first publish's nested handlers ran: the scope is the command's again
    ]);
    expect(events.map((e) => e.subject)).toEqual(['o-1-sync', 'o-1']);
    // One level deeper: each reservation was caused by the event whose handler sent it.
    expect(reservations.map(ids)).toEqual([
      ['conv-1', events[0]!.messageId],
      ['conv-1', events[1]!.messageId],
    ]);
  });

  it('keeps concurrent handlers apart, and lets a call give its own ids', async () => {
    const g = app();
    const gates = new Map([
      ['a', gate()],
      ['b', gate()],
    ]);
    const events: Message[] = [];
    g.addActionHandler(
      defineCommandHandler(PlaceOrder, async (cmd) => {
        await gates.get(cmd.orderId)!.promise;
        await g.eventBus().publish(new OrderPlaced(cmd.orderId));
        await g.eventBus().publish(new OrderPlaced(`${cmd.orderId}-own`), { correlationId: 'mine' });
        await g
          .eventBus()
          .publish(new OrderPlaced(`${cmd.orderId}-both`), { correlationId: 'c', causationId: 'd' });
        return cmd.orderId;
      }),
    ).addActionHandler(defineEventHandler(OrderPlaced, (_e, ctx) => void events.push(ctx.message)));
    await g.start();

    const a = g.commandBus().send(new PlaceOrder('a'), { correlationId: 'conv-a' });
    const b = g.commandBus().send(new PlaceOrder('b'), { correlationId: 'conv-b' });
    gates.get('b')!.open(); // b runs first, while a waits
    await waitFor(() => events.length === 3);
    gates.get('a')!.open();
    await Promise.all([a, b]);

    const bySubject = new Map(events.map((e) => [e.subject, e]));
    const causeOf = (subject: string) => bySubject.get(subject)!.causationId!;
    expect(ids(bySubject.get('a')!)).toEqual(['conv-a', causeOf('a')]);
    expect(ids(bySubject.get('b')!)).toEqual(['conv-b', causeOf('b')]);
    expect(causeOf('a')).not.toBe(causeOf('b'));
    expect(ids(bySubject.get('a-own')!)).toEqual(['mine', causeOf('a')]);
    expect(ids(bySubject.get('b-both')!)).toEqual(['c', 'd']);
  });

  it('outside a handler a call starts a conversation: a new correlationId, no causationId', async () => {
    const g = app();
    const events: Message[] = [];
    g.addActionHandler(defineEventHandler(OrderPlaced, (_e, ctx) => void events.push(ctx.message)));
    await g.start();
    const id = await g.eventBus().publish(new OrderPlaced('o-9'));
    expect(events[0]!.messageId).toBe(id);
    expect(events[0]!.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[0]!.causationId).toBeUndefined();
  });

  it('for a message from a consumer channel: what the handler sends over a channel carries its ids', async () => {
    const broker = new InMemoryBroker();
    const g = app()
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addPublisherChannel(inMemoryPublisher('memory', 'orders'))
      .addPublisherChannel(inMemoryPublisher('memory', 'order-events'))
      .addConsumerChannel(inMemoryConsumer('memory', 'orders', 'order-service'))
      .addActionHandler(
        defineCommandHandler(PlaceOrder, async (cmd) => {
          await Promise.resolve();
          await g.eventBusByChannel('order-events').publish(new OrderPlaced(cmd.orderId));
          return cmd.orderId;
        }),
      );
    await g.start();
    await g.eventDrivenConsumer('order-service').run();
    const commandId = await g
      .commandBusByChannel('orders')
      .sendAsync(new PlaceOrder('o-3'), { correlationId: 'conv-3' });

    await waitFor(() => broker.records('order-events', 0).length === 1);
    const event = broker.decode(broker.records('order-events', 0)[0]!);
    expect([event.route, event.correlationId, event.causationId, event.subject]).toEqual([
      'causation.orderPlaced',
      'conv-3',
      commandId,
      'o-3',
    ]);
  });

  it("a batch handler's bus calls inherit no event's ids: the call handles the whole batch", async () => {
    const broker = new InMemoryBroker();
    const g = app()
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addPublisherChannel(inMemoryPublisher('memory', 'order-events'))
      .addPublisherChannel(inMemoryPublisher('memory', 'orders'))
      .addConsumerChannel(inMemoryConsumer('memory', 'order-events', 'projector'))
      .addActionHandler(
        defineBatchEventHandler(
          OrderPlaced,
          async (events) => {
            await g
              .commandBusByChannel('orders')
              .sendAsync(new ReserveStock(events.map((e) => e.orderId).join('+')));
          },
          { maxSize: 2, maxWaitMs: 1000 },
        ),
      );
    await g.start();
    await g.eventDrivenConsumer('projector').withAmountOfProcessors(2).run();
    const bus = g.eventBusByChannel('order-events');
    await bus.publish(new OrderPlaced('o-1'), { correlationId: 'conv-1', partitionKey: 'a' });
    await bus.publish(new OrderPlaced('o-2'), { correlationId: 'conv-2', partitionKey: 'b' });
    await waitFor(() => broker.records('orders', 0).length === 1);
    const sent = broker.decode(broker.records('orders', 0)[0]!);
    expect((sent.payload as { orderId: string }).orderId).toBe('o-1+o-2');
    expect(sent.causationId).toBeUndefined();
    expect(sent.correlationId).not.toMatch(/^conv-/);
  });

  it('a handled message without correlationId starts the conversation at its messageId', async () => {
    const broker = new InMemoryBroker();
    const g = app()
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addPublisherChannel(inMemoryPublisher('memory', 'order-events'))
      .addConsumerChannel(inMemoryConsumer('memory', 'orders', 'order-service'))
      .addActionHandler(
        defineCommandHandler(PlaceOrder, async (cmd) => {
          await g.eventBusByChannel('order-events').publish(new OrderPlaced(cmd.orderId));
          return cmd.orderId;
        }),
      );
    await g.start();
    await g.eventDrivenConsumer('order-service').run();
    broker.publish(
      'orders',
      MessageBuilder.withPayload({ orderId: 'o-4' })
        .messageId('foreign-1')
        .route('causation.placeOrder')
        .build(),
    );
    await waitFor(() => broker.records('order-events', 0).length === 1);
    expect(ids(broker.decode(broker.records('order-events', 0)[0]!))).toEqual(['foreign-1', 'foreign-1']);
  });

  it('inheritCausation: false leaves handler calls out of any scope', async () => {
    const g = app({ inheritCausation: false });
    const events: Message[] = [];
    g.addActionHandler(
      defineCommandHandler(PlaceOrder, async (cmd) => {
        await g.eventBus().publish(new OrderPlaced(cmd.orderId));
        return cmd.orderId;
      }),
    ).addActionHandler(defineEventHandler(OrderPlaced, (_e, ctx) => void events.push(ctx.message)));
    await g.start();
    await g.commandBus().send(new PlaceOrder('o-5'), { correlationId: 'conv-5' });
    expect(events[0]!.correlationId).not.toBe('conv-5');
    expect(events[0]!.causationId).toBeUndefined();
  });
});

describe('origin and subject of sent messages', () => {
  it('origin: the instance option, overridden per send; subject: per send over the decorator', async () => {
    const g = app({ origin: '/orders-service' });
    const seen: Message[] = [];
    g.addActionHandler(defineEventHandler(OrderPlaced, (_e, ctx) => void seen.push(ctx.message)));
    g.addActionHandler(defineCommandHandler(PlaceOrder, (c, ctx) => (seen.push(ctx.message), c.orderId)));
    await g.start();
    await g.eventBus().publish(new OrderPlaced('o-1'));
    await g.eventBus().publish(new OrderPlaced('o-2'), { origin: 'urn:acme:backfill', subject: 'batch-7' });
    await g.commandBus().send(new PlaceOrder('o-3')); // no subject function on PlaceOrder
    await g.commandBus().send(new PlaceOrder('o-4'), { subject: 'order/o-4' });
    await g.eventBus().publishRaw('causation.orderPlaced', { orderId: 'raw' }); // raw: no class, no function

    expect(seen.map((m) => [m.origin, m.subject])).toEqual([
      ['/orders-service', 'o-1'],
      ['urn:acme:backfill', 'batch-7'],
      ['/orders-service', undefined],
      ['/orders-service', 'order/o-4'],
      ['/orders-service', undefined],
    ]);
  });

  it("defaults to origin 'gomes'; rejects empty values and a subject function that returns no string", async () => {
    const g = app();
    const seen: Message[] = [];
    g.addActionHandler(defineEventHandler(OrderPlaced, (_e, ctx) => void seen.push(ctx.message)));
    g.addActionHandler(defineEventHandler(BadSubject, () => undefined));
    await g.start();
    await g.eventBus().publish(new OrderPlaced(''));
    expect([seen[0]!.origin, seen[0]!.subject]).toEqual(['gomes', undefined]); // '' sets none
    await expect(g.eventBus().publish(new OrderPlaced('x'), { origin: '' })).rejects.toMatchObject({
      code: 'GOMES_INVALID_HEADER',
    });
    await expect(g.eventBus().publish(new OrderPlaced('x'), { subject: '' })).rejects.toMatchObject({
      code: 'GOMES_INVALID_HEADER',
    });
    await expect(g.eventBus().publish(new BadSubject(7))).rejects.toThrow(
      'The subject function of "causation.badSubject" returned number',
    );
    expect(seen).toHaveLength(1);
    expect(() => createGomes({ origin: '', inheritCausation: 'yes' as unknown as boolean })).toThrow(
      ConfigurationError,
    );
    try {
      createGomes({ origin: '', inheritCausation: 'yes' as unknown as boolean });
    } catch (error) {
      expect((error as ConfigurationError).problems).toEqual([
        'inheritCausation must be a boolean',
        'origin must be a non-empty string (got "")',
      ]);
    }
  });
});
