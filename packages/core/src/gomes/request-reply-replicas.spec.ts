// Request-reply with several identically configured replicas of one requesting service (same
// publisher, same reply consumer name, as the docs show) sharing one in-memory broker: every reply
// reaches the replica that asked, foreign replies are counted and dropped silently, and a replica
// restarted mid-run neither disturbs the others nor reads replies written before it started.
import 'reflect-metadata';
import { IsInt, IsString } from 'class-validator';
import { Action } from '../actions/action.js';
import { Command } from '../actions/action-decorators.js';
import { defineCommandHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { isGomesError } from '../errors/gomes-error.js';
import type { ConsumerChannelBuilder } from '../channel/channel-builders.js';
import type { Logger } from '../logging/logger.js';
import { Message } from '../message/message.js';
import { MessageBuilder } from '../message/message-builder.js';
import { MessagingMetricNames } from '../observability/messaging-metrics.js';
import { ReplyHeaders } from '../pipeline/middleware/send-reply.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { recordingLogger, type LogLine } from '../../test/support/recording-logger.js';
import { OtelTestKit } from '../../test/support/otel-test-kit.js';
import type { Gomes } from './gomes.js';
import { createGomes } from './create-gomes.js';

const REQUESTS = 'inventory.requests';
const REPLIES = 'inventory.replies';

interface Reserved {
  requester: string;
  n: number;
}

@Command('replicas.reserve')
class Reserve extends Action<Reserved> {
  @IsString() requester: string;
  @IsInt() n: number;
  constructor(requester: string, n: number) {
    super();
    this.requester = requester;
    this.n = n;
  }
}

const apps: Gomes[] = [];
afterEach(async () => {
  await Promise.allSettled(apps.splice(0).map(async (a) => a.shutdown()));
});

/** The responder: replies with what it was asked, after a short async pause (so requests overlap). */
async function responder(broker: InMemoryBroker, handled: { count: number }): Promise<Gomes> {
  const app = createGomes({ name: 'inventory' })
    .addChannelConnection(inMemoryConnection('mem', { broker }))
    .addPublisherChannel(inMemoryPublisher('mem', REPLIES))
    .addConsumerChannel(inMemoryConsumer('mem', REQUESTS, 'inventory').withSendReplyUsingReplyTo())
    .addActionHandler(
      defineCommandHandler(Reserve, async (command) => {
        await new Promise((resolve) => setTimeout(resolve, command.n % 3));
        handled.count++;
        return { requester: command.requester, n: command.n };
      }),
    );
  apps.push(app);
  await app.start();
  await app.eventDrivenConsumer('inventory').withAmountOfProcessors(8).run();
  return app;
}

/** One replica of the checkout service: every replica is configured exactly alike. */
async function checkout(
  broker: InMemoryBroker,
  logger: Logger,
  options: { instanceId?: string; meterProvider?: OtelTestKit['meterProvider'] } = {},
): Promise<Gomes> {
  const app = createGomes({ name: 'checkout', logger, requestTimeoutMs: 10_000, ...options })
    .addChannelConnection(inMemoryConnection('mem', { broker }))
    .addPublisherChannel(inMemoryPublisher('mem', REQUESTS).withReplyChannelName(REPLIES))
    .addConsumerChannel(inMemoryConsumer('mem', REPLIES, 'checkout.replies'));
  apps.push(app);
  await app.start();
  return app;
}

/** Sends `count` requests at once from `app`, tagged `tag`. */
function sendMany(app: Gomes, tag: string, count: number): Promise<PromiseSettledResult<Reserved>[]> {
  const bus = app.commandBusByChannel(REQUESTS);
  return Promise.allSettled(Array.from({ length: count }, async (_, n) => bus.send(new Reserve(tag, n))));
}

/** Every request resolved with its own reply. */
function expectAllAnswered(results: PromiseSettledResult<Reserved>[], tag: string): void {
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  expect(failures).toEqual([]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : undefined))).toEqual(
    results.map((_, n) => ({ requester: tag, n })),
  );
}

function replyCount(broker: InMemoryBroker): number {
  let total = 0;
  for (let p = 0; p < broker.partitionCount(REPLIES); p++) total += Number(broker.endOffset(REPLIES, p));
  return total;
}

const warnings = (lines: LogLine[]): LogLine[] =>
  lines.filter((l) => l.level === 'warn' || l.level === 'error');

describe('request-reply with replicas of the requester (in memory)', () => {
  it('3 replicas x 50 concurrent requests: 150 replies, 0 timeouts, foreign replies counted, no warning per reply', async () => {
    const broker = new InMemoryBroker({ defaultPartitions: 3 });
    const handled = { count: 0 };
    await responder(broker, handled);
    const kit = new OtelTestKit();
    const logs = [recordingLogger(), recordingLogger(), recordingLogger()];
    const replicas = await Promise.all(
      logs.map(async (logger) => checkout(broker, logger, { meterProvider: kit.meterProvider })),
    );
    expect(new Set(replicas.map((r) => r.instanceId)).size).toBe(3);

    const results = await Promise.all(replicas.map(async (r, i) => sendMany(r, `replica-${i}`, 50)));

    results.forEach((r, i) => expectAllAnswered(r, `replica-${i}`));
    expect(handled.count).toBe(150);
    // Every replica reads every reply: its own 50 settle its requests, the other 100 are foreign.
    await waitFor(() => replicas.every((r) => r.requestReplyStats().received === 150), 5000, {
      description: 'every replica read all 150 replies',
    });
    for (const r of replicas) {
      expect(r.requestReplyStats()).toMatchObject({ pending: 0, matched: 50, foreign: 100, unmatched: 0 });
    }
    for (const { lines } of logs) expect(warnings(lines)).toEqual([]);
    expect(await kit.sum(MessagingMetricNames.REPLIES_DROPPED, { 'gomes.reply.outcome': 'foreign' })).toBe(
      300,
    );
    // The replies named their requester.
    const addressees = new Set(
      broker.records(REPLIES, 0).map((rec) => broker.decode(rec).header(ReplyHeaders.INSTANCE)),
    );
    for (const a of addressees) expect(replicas.map((r) => r.instanceId)).toContain(a);
    await kit.shutdown();
  });

  it('a replica restarted mid-run: the others lose nothing, it reads no reply written before it started', async () => {
    const broker = new InMemoryBroker({ defaultPartitions: 3 });
    const handled = { count: 0 };
    await responder(broker, handled);
    const logs = [recordingLogger(), recordingLogger(), recordingLogger(), recordingLogger()];
    const [a, b, c] = await Promise.all([
      checkout(broker, logs[0]!),
      // A stable id (e.g. the pod name) that the restarted replica reuses: the hard case.
      checkout(broker, logs[1]!, { instanceId: 'checkout-b' }),
      checkout(broker, logs[2]!),
    ]);
    // A first round fills the reply channel with 150 old replies.
    for (const r of await Promise.all([a, b, c].map(async (app, i) => sendMany(app, `old-${i}`, 50))))
      expect(r.every((x) => x.status === 'fulfilled')).toBe(true);

    // Second round; B shuts down while its requests are in flight, and starts again with its id.
    const roundA = sendMany(a, 'a', 50);
    const roundC = sendMany(c, 'c', 50);
    const roundB = sendMany(b, 'b', 50);
    await waitFor(() => handled.count >= 150 + 20, 5000, { description: 'the round is under way' });
    await b.shutdown();
    const before = replyCount(broker);
    const b2 = await checkout(broker, logs[3]!, { instanceId: 'checkout-b' });
    const afterStart = replyCount(broker);
    const roundB2 = sendMany(b2, 'b2', 50);

    expectAllAnswered(await roundA, 'a');
    expectAllAnswered(await roundC, 'c');
    expectAllAnswered(await roundB2, 'b2');
    // B's requests still waiting at shutdown were rejected with a clear error, none left hanging.
    for (const r of await roundB) {
      if (r.status === 'rejected') expect(isGomesError(r.reason) && r.reason.code).toBe('GOMES_CLOSED');
    }
    // Every request is answered (B's too: its replies reach nobody), 350 replies in all.
    await waitFor(() => replyCount(broker) === 350, 5000, { description: 'all 350 replies written' });
    await waitFor(() => b2.requestReplyStats().received >= 350 - afterStart, 5000, {
      description: 'the restarted replica read every reply written after it started',
    });
    const stats = b2.requestReplyStats();
    // None of the replies written before it started (150 of the first round, at least 20 of B's).
    expect(stats.received).toBeLessThanOrEqual(350 - before);
    expect(stats.matched).toBe(50);
    expect(a.requestReplyStats().unmatched + c.requestReplyStats().unmatched).toBe(0);
    for (const { lines } of logs) expect(warnings(lines)).toEqual([]);
  });

  it('a request whose responder is gone times out with an error naming the route and both channels', async () => {
    const broker = new InMemoryBroker();
    const app = await checkout(broker, recordingLogger());
    const error = await app
      .commandBusByChannel(REQUESTS)
      .send(new Reserve('x', 1), { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect(isGomesError(error) && error.code).toBe('GOMES_REPLY_TIMEOUT');
    expect((error as Error).message).toContain(`replicas.reserve to "${REQUESTS}"`);
    expect((error as Error).message).toContain(`reply expected on "${REPLIES}"`);
    expect((error as Error).message).toContain('the responder is down, slow or failed to reply');
    expect(isGomesError(error) && error.details).toMatchObject({
      instanceId: app.instanceId,
      route: 'replicas.reserve',
      channel: REQUESTS,
      replyTo: REPLIES,
      timeoutMs: 50,
    });
  });

  it('the reply to a sendAsync() is unmatched for its sender and foreign for the other replicas', async () => {
    const broker = new InMemoryBroker();
    await responder(broker, { count: 0 });
    const [sender, other] = await Promise.all([1, 2].map(async () => checkout(broker, recordingLogger())));
    await sender!.commandBusByChannel(REQUESTS).sendAsync(new Reserve('async', 1));
    await waitFor(
      () => sender!.requestReplyStats().unmatched === 1 && other!.requestReplyStats().foreign === 1,
    );
    expect(sender!.requestReplyStats()).toMatchObject({ received: 1, matched: 0, foreign: 0 });
  });

  it('an undecodable reply record is dead-lettered by every replica that reads it', async () => {
    const broker = new InMemoryBroker();
    const replicas = await Promise.all([1, 2].map(async () => checkout(broker, recordingLogger())));
    const valid = MessageBuilder.withPayload({ n: 1 }).build();
    broker.publish(REPLIES, new Message(valid.payload, { ...valid.headers, timestamp: 'not-a-time' }));
    await waitFor(() => broker.hasTopic(`${REPLIES}.DLQ`) && broker.endOffset(`${REPLIES}.DLQ`, 0) === 2n);
    expect(replicas.map((r) => r.requestReplyStats().received)).toEqual([0, 0]);
  });

  it('leaves no consumer group of a reply consumer behind after shutdown', async () => {
    const broker = new InMemoryBroker();
    const app = await checkout(broker, recordingLogger(), { instanceId: 'checkout-1' });
    expect(broker.groups(REPLIES)).toEqual([expect.stringMatching(/^checkout\.replies\.checkout-1\./)]);
    await app.shutdown();
    expect(broker.groups(REPLIES)).toEqual([]);
  });

  it('reads replies in the shared group, with one warning at start, when the transport cannot read per instance', async () => {
    const broker = new InMemoryBroker();
    await responder(broker, { count: 0 });
    const inner = inMemoryConsumer('mem', REPLIES, 'checkout.replies');
    // A third-party builder without the optional asEphemeralReader capability.
    const legacy: ConsumerChannelBuilder = {
      consumerName: inner.consumerName,
      channelName: inner.channelName,
      connectionName: inner.connectionName,
      endpointOptions: inner.endpointOptions,
      acceptsConnection: (c) => inner.acceptsConnection(c),
      validate: () => inner.validate(),
      build: async (context) => inner.build(context),
    };
    const logger = recordingLogger();
    const app = createGomes({ logger })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', REQUESTS).withReplyChannelName(REPLIES))
      .addConsumerChannel(legacy);
    apps.push(app);
    await app.start();
    expectAllAnswered(await sendMany(app, 'single', 5), 'single');
    expect(warnings(logger.lines).map((l) => l.message)).toEqual([
      expect.stringContaining('reply consumer checkout.replies: its transport cannot read per instance'),
    ]);
    expect(broker.groups(REPLIES)).toEqual(['checkout.replies']);
  });

  it('takes the instanceId option, or makes a random one; rejects ids unfit for headers and group ids', () => {
    expect(createGomes({ instanceId: 'checkout-7f9c.pod_1:a' }).instanceId).toBe('checkout-7f9c.pod_1:a');
    expect(createGomes().instanceId).not.toBe(createGomes().instanceId);
    for (const bad of ['', 'has space', 'x'.repeat(129), 42]) {
      const error = (() => {
        try {
          createGomes({ instanceId: bad as string });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).problems).toEqual([
        expect.stringContaining('instanceId must be 1-128 characters out of A-Z a-z 0-9 . _ : -'),
      ]);
    }
  });
});
