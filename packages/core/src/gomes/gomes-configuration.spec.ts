// Configuration checks of a gomes instance: start() validation (one ConfigurationError listing every
// problem), createGomes option checks, start-time warnings, consumer lookup and the endpoint table.
import 'reflect-metadata';
import { defineCommandHandler, defineEventHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { createGomes } from './create-gomes.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { OrderPlaced, PlaceOrder, code, foreignConnection } from '../../test/support/order-actions.js';

describe('start() validation', () => {
  it('throws one ConfigurationError listing every problem and connects nothing', async () => {
    const connection = inMemoryConnection('mem');
    const app = createGomes()
      .addChannelConnection(connection)
      .addChannelConnection(inMemoryConnection('mem'))
      .addChannelConnection(foreignConnection('other'))
      .addPublisherChannel(inMemoryPublisher('nope', 'orders'))
      .addPublisherChannel(inMemoryPublisher('mem', 'requests').withReplyChannelName('requests.replies'))
      .addPublisherChannel(inMemoryPublisher('other', 'wrong-transport'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'orders', 'orders-consumer')
          .withDeadLetterChannelName('orders.DLQ')
          .withRetry({ maxAttempts: 0 }),
      )
      .addConsumerChannel(inMemoryConsumer('mem', 'orders', 'orders-consumer'))
      .addActionHandler(defineCommandHandler(PlaceOrder, () => 'a'))
      .addActionHandler(defineCommandHandler(PlaceOrder, () => 'b'));
    const error = await app.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems;
    const expected = [
      'connection "mem" is registered more than once',
      'consumer "orders-consumer" is registered more than once',
      'publisher "orders" refers to unknown connection "nope"',
      'publisher "requests" expects replies on "requests.replies" but no consumer channel consumes "requests.replies"',
      'publisher "wrong-transport" cannot use connection "other" (another transport)',
      'retry.maxAttempts must be an integer >= 1',
      'consumer "orders-consumer" dead-letters to "orders.DLQ", which is not a registered publisher channel',
      'command "placeOrder" has more than one handler',
    ];
    for (const fragment of expected) expect(problems.some((p) => p.includes(fragment))).toBe(true);
    expect(problems.length).toBeGreaterThanOrEqual(expected.length);
    expect(connection.connected).toBe(false);
    expect(app.state).toBe('failed');
  });

  it('reports a consumer that has nothing to route to', async () => {
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('mem'))
      .addConsumerChannel(inMemoryConsumer('mem', 'orders', 'orders-consumer'));
    await expect(app.start()).rejects.toThrow(/consumer "orders-consumer" has no route handler/);
  });

  it('refuses configuration changes after start and a second start', async () => {
    const app = createGomes();
    await app.start();
    expect(() => app.addChannelConnection(inMemoryConnection('late'))).toThrow(
      /Cannot change the configuration/,
    );
    await expect(app.start()).resolves.toBeUndefined(); // same promise while/after starting
    await app.shutdown();
    await expect(app.start()).rejects.toThrow(/Cannot start a gomes instance that is stopped|stopped/);
  });
});

it('warns at start about each consumer without a dead-letter channel (not an error), except dead-letter readers', async () => {
  const logger = recordingLogger();
  const broker = new InMemoryBroker();
  const app = createGomes({ logger })
    .addChannelConnection(inMemoryConnection('mem', { broker }))
    .addPublisherChannel(inMemoryPublisher('mem', 'orders.dlq'))
    .addConsumerChannel(inMemoryConsumer('mem', 'orders', 'no-dlq'))
    .addConsumerChannel(
      inMemoryConsumer('mem', 'payments', 'with-dlq').withDeadLetterChannelName('orders.dlq'),
    )
    .addConsumerChannel(inMemoryConsumer('mem', 'orders.dlq', 'dlq-reader'))
    .addActionHandler(defineEventHandler(OrderPlaced, () => undefined));
  await app.start();
  const warnings = logger.lines.filter(
    (l) => l.level === 'warn' && l.message.includes('redelivered until they succeed'),
  );
  expect(warnings.map((w) => w.fields['consumer'])).toEqual(['no-dlq']);
  expect(warnings[0]?.message).toBe(
    'failed messages of consumer no-dlq are redelivered until they succeed; configure withDeadLetterChannelName() to park them after the retries instead',
  );
  await app.shutdown();
});

it('rejects shutdown and request timeouts a timer cannot honour at createGomes', () => {
  for (const bad of [Infinity, Number.NaN, 2 ** 31, -1, 1.5]) {
    for (const key of ['shutdownTimeoutMs', 'requestTimeoutMs'] as const) {
      let error: unknown;
      try {
        createGomes({ [key]: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).problems).toEqual([
        `${key} must be an integer between 0 and 2147483647 (got ${String(bad)})`,
      ]);
    }
  }
  expect(() => createGomes({ shutdownTimeoutMs: 2 ** 31 - 1, requestTimeoutMs: 0 })).not.toThrow();
});

it('eventDrivenConsumer needs a started instance and a known name, and is one per name', async () => {
  const app = createGomes()
    .addChannelConnection(inMemoryConnection('mem'))
    .addConsumerChannel(inMemoryConsumer('mem', 'in', 'c1'))
    .addActionHandler(defineEventHandler(OrderPlaced, () => undefined));
  let early: unknown;
  try {
    app.eventDrivenConsumer('c1');
  } catch (e) {
    early = e;
  }
  expect(code(early)).toBe('GOMES_ILLEGAL_STATE');
  await app.start();
  expect(app.eventDrivenConsumer('c1')).toBe(app.eventDrivenConsumer('c1'));
  expect(() => app.eventDrivenConsumer('nope')).toThrow(/No consumer channel "nope"/);
  await app.shutdown();
});

it('showActiveEndpoints lists connections, channels, consumers and buses, and prints a table', async () => {
  const app = createGomes()
    .addChannelConnection(inMemoryConnection('mem'))
    .addPublisherChannel(inMemoryPublisher('mem', 'orders'))
    .addConsumerChannel(inMemoryConsumer('mem', 'orders', 'orders-consumer'))
    .addActionHandler(defineEventHandler(OrderPlaced, () => undefined));
  await app.start();
  await app.eventDrivenConsumer('orders-consumer').run();
  app.eventBusByChannel('orders');
  app.commandBus();
  let printed = '';
  const rows = app.showActiveEndpoints((t) => (printed = t));
  expect(rows.map((r) => [r.name, r.direction, r.type, r.state])).toEqual([
    ['mem', 'connection', 'Connection', 'connected'],
    ['orders', 'outbound', 'Publisher-Channel', 'ready'],
    ['orders-consumer', 'inbound', 'Event-Driven', 'running'],
    ['orders', 'outbound', 'Event-Bus', 'ready'],
    ['default.Command-Bus', 'outbound', 'Command-Bus', 'in-process'],
  ]);
  expect(printed.split('\n')[0]).toMatch(/^NAME\s+DIRECTION\s+TYPE\s+CHANNEL\s+CONNECTION\s+STATE$/);
  expect(printed).toMatch(/orders-consumer\s+inbound\s+Event-Driven\s+orders\s+mem\s+running/);
  await app.shutdown();
});
