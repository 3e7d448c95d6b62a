import 'reflect-metadata';
import {
  defineCommandHandler,
  defineEventHandler,
  defineQueryHandler,
} from '../actions/handler-definition.js';
import { PublisherChannelAdapterBuilder } from '../channel/publisher-channel-adapter-builder.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { noopLogger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import type { Message } from '../message/message.js';
import { MessageBuilder } from '../message/message-builder.js';
import { RecordingPublisherChannel } from '../testing/recording-publisher-channel.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { createGomes } from './create-gomes.js';
import { ArchiveOrder, OrderCount, OrderPlaced, PlaceOrder, code } from '../../test/support/order-actions.js';

/** A publisher builder whose channel records what happens to it, for shutdown-order checks. */
class LoggingPublisherBuilder extends PublisherChannelAdapterBuilder {
  constructor(
    connectionName: string,
    channelName: string,
    readonly log: string[],
  ) {
    super(connectionName, channelName);
  }
  acceptsConnection(): boolean {
    return true;
  }
  protected validateTransportOptions(): string[] {
    return [];
  }
  async build(): Promise<PublisherChannel> {
    const channel = new RecordingPublisherChannel(this.channelName);
    const log = this.log;
    return {
      name: channel.name,
      send: async (m: Message) => channel.send(m),
      close: async () => {
        log.push(`close publisher ${channel.name}`);
        await channel.close();
      },
    };
  }
}

describe('over the in-memory transport', () => {
  function responder(
    broker: InMemoryBroker,
    handlers: Parameters<ReturnType<typeof createGomes>['addActionHandler']>[0][],
  ) {
    const app = createGomes({ name: 'responder' })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'requests.replies'))
      .addConsumerChannel(inMemoryConsumer('mem', 'requests', 'requests-consumer'));
    for (const h of handlers) app.addActionHandler(h);
    return app;
  }

  function requester(broker: InMemoryBroker, requestTimeoutMs = 5000) {
    return createGomes({ name: 'requester', requestTimeoutMs })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'requests').withReplyChannelName('requests.replies'))
      .addConsumerChannel(inMemoryConsumer('mem', 'requests.replies', 'replies-consumer'));
  }

  it('request-reply between two instances returns the remote typed result, errors and void results', async () => {
    const broker = new InMemoryBroker();
    const server = responder(broker, [
      defineCommandHandler(PlaceOrder, (c, ctx) => `placed:${c.sku}:${ctx.headers['tenant']}`),
      defineCommandHandler(ArchiveOrder, (c) => {
        if (c.id === 'bad') throw new Error('cannot archive bad');
      }),
      defineQueryHandler(OrderCount, () => 3),
    ]);
    const client = requester(broker);
    await Promise.all([server.start(), client.start()]);
    await server.eventDrivenConsumer('requests-consumer').withAmountOfProcessors(2).run();

    const id: string = await client
      .commandBusByChannel('requests')
      .send(new PlaceOrder('sku-1'), { headers: { tenant: 'acme' } });
    expect(id).toBe('placed:sku-1:acme');
    const count: number = await client.queryBusByChannel('requests').send(new OrderCount());
    expect(count).toBe(3);
    await expect(
      client.commandBusByChannel('requests').send(new ArchiveOrder('ok')),
    ).resolves.toBeUndefined();
    const remote = await client
      .commandBusByChannel('requests')
      .send(new ArchiveOrder('bad'))
      .catch((e: unknown) => e);
    expect(code(remote)).toBe('GOMES_REMOTE_HANDLER_FAILED');
    expect((remote as Error).message).toContain('cannot archive bad');
    expect(client.showActiveEndpoints().find((e) => e.name === 'replies-consumer')).toMatchObject({
      type: 'Reply-Consumer',
      state: 'running',
    });
    expect(() => client.eventDrivenConsumer('replies-consumer')).toThrow(
      /receives replies; gomes runs it itself/,
    );
    await Promise.all([server.shutdown(), client.shutdown()]);
  });

  it('async sends resolve to the messageId; handlers see attempt numbers; publisherChannel sends hand-built messages', async () => {
    const broker = new InMemoryBroker();
    const seen: Array<{ id: string; attempt: number; deliveryAttempt: number }> = [];
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'jobs'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'jobs', 'worker').withRetry({ maxAttempts: 3, initialDelayMs: 1 }),
      )
      .addActionHandler(
        defineEventHandler(OrderPlaced, (_event, ctx) => {
          seen.push({ id: ctx.messageId, attempt: ctx.attempt, deliveryAttempt: ctx.deliveryAttempt });
          if (ctx.attempt < 2) throw new Error('first try fails');
        }),
      );
    await app.start();
    const consumer = app.eventDrivenConsumer('worker');
    await consumer.run();
    const messageId = await app.eventBusByChannel('jobs').publish(new OrderPlaced('1'));
    await waitFor(() => consumer.stats.succeeded === 1);
    expect(seen).toEqual([
      { id: messageId, attempt: 1, deliveryAttempt: 1 },
      { id: messageId, attempt: 2, deliveryAttempt: 1 },
    ]);
    await app
      .publisherChannel('jobs')
      .send(
        MessageBuilder.withPayload({ id: '2' })
          .route('orderPlaced')
          .messageType('Event')
          .messageId('hand-built')
          .build(),
      );
    await waitFor(() => consumer.stats.succeeded === 2);
    expect(seen.at(-1)?.id).toBe('hand-built');
    expect(() => app.publisherChannel('nope')).toThrow(/No publisher channel "nope"/);
    await app.shutdown();
  });

  it('a message nacked after a failure is handled again with deliveryAttempt 2 (attempt restarts at 1)', async () => {
    const broker = new InMemoryBroker();
    const seen: Array<{ attempt: number; deliveryAttempt: number }> = [];
    const app = createGomes({ logger: noopLogger })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'jobs'))
      .addConsumerChannel(inMemoryConsumer('mem', 'jobs', 'worker'))
      .addActionHandler(
        defineEventHandler(OrderPlaced, (_event, ctx) => {
          seen.push({ attempt: ctx.attempt, deliveryAttempt: ctx.deliveryAttempt });
          if (ctx.deliveryAttempt < 2) throw new Error('first delivery fails');
        }),
      );
    await app.start();
    const consumer = app.eventDrivenConsumer('worker').withNackDelay(1);
    await consumer.run();
    await app.eventBusByChannel('jobs').publish(new OrderPlaced('1'));
    await waitFor(() => consumer.stats.succeeded === 1);
    expect(seen).toEqual([
      { attempt: 1, deliveryAttempt: 1 },
      { attempt: 1, deliveryAttempt: 2 },
    ]);
    await app.shutdown();
  });

  it('request-reply times out when nobody answers, and send() needs a reply channel', async () => {
    const broker = new InMemoryBroker();
    const client = requester(broker, 100).addPublisherChannel(inMemoryPublisher('mem', 'fire-and-forget'));
    await client.start();
    const timeout = await client
      .commandBusByChannel('requests')
      .send(new PlaceOrder('x'))
      .catch((e: unknown) => e);
    expect(code(timeout)).toBe('GOMES_REPLY_TIMEOUT');
    const noReply = await client
      .commandBusByChannel('fire-and-forget')
      .send(new PlaceOrder('x'))
      .catch((e: unknown) => e);
    expect(code(noReply)).toBe('GOMES_ILLEGAL_STATE');
    const sentId = await client.commandBusByChannel('fire-and-forget').sendAsync(new PlaceOrder('x'));
    expect(broker.endOffset('fire-and-forget', 0)).toBe(1n);
    expect(broker.decode(broker.records('fire-and-forget', 0)[0]!).messageId).toBe(sentId);
    expect(() => client.commandBusByChannel('missing')).toThrow(/No publisher channel "missing"/);
    await client.shutdown();
  });

  it('rejects a per-call timeoutMs a timer cannot honour with GOMES_CONFIGURATION and sends nothing', async () => {
    const broker = new InMemoryBroker();
    const client = requester(broker);
    await client.start();
    for (const timeoutMs of [Number.NaN, 2 ** 31, -5]) {
      const error = await client
        .commandBusByChannel('requests')
        .send(new PlaceOrder('x'), { timeoutMs })
        .catch((e: unknown) => e);
      expect(code(error)).toBe('GOMES_CONFIGURATION');
    }
    expect(broker.endOffset('requests', 0)).toBe(0n);
    await client.shutdown();
  });

  it('retries a failing handler, then dead-letters it with an envelope; the message is acked only after that', async () => {
    const broker = new InMemoryBroker();
    let calls = 0;
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'events'))
      .addPublisherChannel(inMemoryPublisher('mem', 'events.DLQ'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'events', 'projector')
          .withRetry({ maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 })
          .withDeadLetterChannelName('events.DLQ'),
      )
      .addConsumerChannel(inMemoryConsumer('mem', 'events.DLQ', 'dlq-reader'))
      .addActionHandler(
        defineEventHandler(OrderPlaced, (e) => {
          calls++;
          if (e.id === 'poison') throw new Error(`projection failed for ${e.id}`);
        }),
      );
    await app.start();
    const consumer = app.eventDrivenConsumer('projector');
    await consumer.run();
    await app.eventBusByChannel('events').publish(new OrderPlaced('poison'));
    await app.eventBusByChannel('events').publish(new OrderPlaced('fine'));
    await waitFor(() => consumer.stats.deadLettered === 1 && consumer.stats.succeeded === 1);
    expect(calls).toBe(4);
    // The engine counts a message when it settles and commits on the next turn: wait for the commit.
    await waitFor(() => broker.committedOffset('projector', 'events', 0) === 2n);

    const dlqChannel = await inMemoryConsumer('mem', 'events.DLQ', 'reader').build({
      connection: inMemoryConnection('mem', { broker }),
      logger: noopLogger,
    });
    const dead: Message[] = [];
    const sub = await dlqChannel.subscribe(async (d) => {
      dead.push(d.message);
      await d.ack();
    });
    await waitFor(() => dead.length === 1);
    const envelope = readDeadLetterEnvelope(dead[0]!);
    expect(envelope).toMatchObject({
      errorMessage: 'projection failed for poison',
      attempts: 3,
      originChannel: 'events',
      originPartition: 0,
      originOffset: '0',
      retriable: true,
    });
    expect(dead[0]!.payload).toEqual({ id: 'poison' });
    await sub.close();
    await app.shutdown();
  });

  it('an invalid payload on receive is dead-lettered at once with the validation reason', async () => {
    const broker = new InMemoryBroker();
    let handled = 0;
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'cmds'))
      .addPublisherChannel(inMemoryPublisher('mem', 'cmds.DLQ'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'cmds', 'worker')
          .withRetry({ maxAttempts: 5, initialDelayMs: 1 })
          .withDeadLetterChannelName('cmds.DLQ'),
      )
      .addActionHandler(defineCommandHandler(PlaceOrder, () => String(++handled)));
    await app.start();
    const consumer = app.eventDrivenConsumer('worker');
    await consumer.run();
    await app.commandBusByChannel('cmds').sendRawAsync('placeOrder', { sku: 42 });
    await waitFor(() => consumer.stats.deadLettered === 1);
    expect(handled).toBe(0);
    expect(consumer.stats.retried).toBe(0);
    const record = broker.decode(broker.records('cmds.DLQ', 0)[0]!);
    expect(readDeadLetterEnvelope(record)?.errorCode).toBe('GOMES_VALIDATION');
    expect(readDeadLetterEnvelope(record)?.errorMessage).toContain('sku must be a string');
    await app.shutdown();
  });

  it('shutdown lets in-flight messages finish, then closes publishers, then disconnects; concurrent calls share one promise', async () => {
    const broker = new InMemoryBroker();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const connection = inMemoryConnection('mem', { broker });
    const originalDisconnect = connection.disconnect.bind(connection);
    connection.disconnect = async () => {
      log.push('disconnect');
      await originalDisconnect();
    };
    const app = createGomes({ shutdownTimeoutMs: 5000 })
      .addChannelConnection(connection)
      .addPublisherChannel(inMemoryPublisher('mem', 'in'))
      .addPublisherChannel(new LoggingPublisherBuilder('mem', 'audit', log))
      .addConsumerChannel(inMemoryConsumer('mem', 'in', 'slow'))
      .addActionHandler(
        defineCommandHandler(PlaceOrder, async (c) => {
          log.push('handler started');
          await gate;
          log.push('handler finished');
          return c.sku;
        }),
      );
    await app.start();
    const consumer = app.eventDrivenConsumer('slow');
    await consumer.run();
    await app.commandBusByChannel('in').sendAsync(new PlaceOrder('a'));
    await waitFor(() => log.includes('handler started'));
    const first = app.shutdown();
    const second = app.shutdown();
    expect(second).toBe(first);
    expect(app.state).toBe('stopping');
    release();
    await first;
    expect(log).toEqual(['handler started', 'handler finished', 'close publisher audit', 'disconnect']);
    expect(broker.committedOffset('slow', 'in', 0)).toBe(1n);
    expect(app.state).toBe('stopped');
  });
});
