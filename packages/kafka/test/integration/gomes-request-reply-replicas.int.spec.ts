// Request-reply with several identically configured replicas of one requesting service over the
// real broker: the same publisher, the same reply consumer (name and group, as the docs show). Each
// replica reads the replies as an ephemeral reader of its own, so every reply reaches the replica
// that asked; foreign replies are counted, not logged; a replica restarted mid-run neither disturbs
// the others nor reads replies written before it started; the reply readers commit nothing.
import 'reflect-metadata';
import { IsInt, IsString } from 'class-validator';
import {
  Action,
  Command,
  defineCommandHandler,
  isGomesError,
  ReplyHeaders,
  type Gomes,
  type Logger,
} from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { recordingLogger, type LogLine } from '../../../core/test/support/recording-logger.js';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { admin, closeAll, createTopic, readRaw, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

interface Reserved {
  requester: string;
  n: number;
}

@Command('replicas.kafka.reserve')
class Reserve extends Action<Reserved> {
  @IsString() requester: string;
  @IsInt() n: number;
  constructor(requester: string, n: number) {
    super();
    this.requester = requester;
    this.n = n;
  }
}

interface Setup {
  requests: string;
  replies: string;
  /** The reply consumer name (and group) every replica is configured with. */
  replyConsumer: string;
  handled: { count: number };
}

async function setup(prefix: string): Promise<Setup> {
  const requests = await createTopic(uniqueTopic(`${prefix}-requests`), 3);
  const replies = await createTopic(uniqueTopic(`${prefix}-replies`), 3);
  const handled = { count: 0 };
  const app = kafkaGomes('inventory')
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', replies))
    .addConsumerChannel(consumerBuilder(requests, uniqueTopic('inventory')).withSendReplyUsingReplyTo())
    .addActionHandler(
      defineCommandHandler(Reserve, (command) => {
        handled.count++;
        return { requester: command.requester, n: command.n };
      }),
    );
  await app.start();
  const consumerName = app.showActiveEndpoints().find((e) => e.direction === 'inbound')!.name;
  await app.eventDrivenConsumer(consumerName).withAmountOfProcessors(8).run();
  return { requests, replies, replyConsumer: uniqueTopic('checkout.replies'), handled };
}

/** One replica of the checkout service: every replica is configured exactly alike. */
async function checkout(s: Setup, logger: Logger, instanceId?: string): Promise<Gomes> {
  const app = kafkaGomes('checkout', {
    logger,
    requestTimeoutMs: 30_000,
    ...(instanceId === undefined ? {} : { instanceId }),
  })
    .addPublisherChannel(
      new KafkaPublisherChannelBuilder('kafka', s.requests).withReplyChannelName(s.replies),
    )
    .addConsumerChannel(consumerBuilder(s.replies, s.replyConsumer));
  await app.start();
  return app;
}

function sendMany(
  s: Setup,
  app: Gomes,
  tag: string,
  count: number,
): Promise<PromiseSettledResult<Reserved>[]> {
  const bus = app.commandBusByChannel(s.requests);
  return Promise.allSettled(Array.from({ length: count }, async (_, n) => bus.send(new Reserve(tag, n))));
}

function expectAllAnswered(results: PromiseSettledResult<Reserved>[], tag: string): void {
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  expect(failures).toEqual([]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : undefined))).toEqual(
    results.map((_, n) => ({ requester: tag, n })),
  );
}

/** Records written to `topic` so far (sum of the partitions' end offsets). */
async function written(topic: string): Promise<number> {
  const offsets = await (await admin()).fetchEndOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.offset), 0);
}

const warnings = (lines: LogLine[]): LogLine[] =>
  lines.filter((l) => l.level === 'warn' || l.level === 'error');

describe('request-reply with replicas of the requester (Kafka)', () => {
  it('3 replicas x 50 concurrent requests: 150 replies, 0 timeouts, no warning per reply, no offsets committed', async () => {
    const s = await setup('replicas');
    const logs = [recordingLogger(), recordingLogger(), recordingLogger()];
    const replicas = await Promise.all(logs.map(async (logger) => checkout(s, logger)));

    const results = await Promise.all(replicas.map(async (r, i) => sendMany(s, r, `replica-${i}`, 50)));

    results.forEach((r, i) => expectAllAnswered(r, `replica-${i}`));
    expect(s.handled.count).toBe(150);
    await waitFor(() => replicas.every((r) => r.requestReplyStats().received === 150), 30_000, {
      description: 'every replica read all 150 replies',
    });
    for (const r of replicas)
      expect(r.requestReplyStats()).toMatchObject({ pending: 0, matched: 50, foreign: 100, unmatched: 0 });
    for (const { lines } of logs) expect(warnings(lines)).toEqual([]);
    // Each reply names the replica that asked.
    const records = await readRaw(s.replies, 150);
    const ids = new Set(replicas.map((r) => r.instanceId));
    expect(records.every((rec) => ids.has(rec.headers[ReplyHeaders.INSTANCE] ?? ''))).toBe(true);

    // The reply readers are groups of their own; though they acked 150 replies each, none committed.
    const readerGroups = async (): Promise<string[]> =>
      (await (await admin()).listGroups()).filter((g) => g.startsWith(`${s.replyConsumer}.`));
    const groups = await readerGroups();
    expect(groups.length).toBe(3);
    expect(groups.map((g) => g.split('.').at(-2)).sort()).toEqual(replicas.map((r) => r.instanceId).sort());
    for (const g of groups) expect(await committedOffsets(g, s.replies)).toEqual([-1, -1, -1]);
    await Promise.all(replicas.map(async (r) => r.shutdown()));
    for (const g of await readerGroups()) expect(await committedOffsets(g, s.replies)).toEqual([-1, -1, -1]);
  }, 120_000);

  it('a replica restarted mid-run: the others lose nothing, it reads no reply written before it started', async () => {
    const s = await setup('replicas-restart');
    const logs = [recordingLogger(), recordingLogger(), recordingLogger(), recordingLogger()];
    const [a, b, c] = await Promise.all([
      checkout(s, logs[0]!),
      // A stable id (e.g. the pod name) that the restarted replica reuses: the hard case.
      checkout(s, logs[1]!, 'checkout-b'),
      checkout(s, logs[2]!),
    ]);
    // A first round fills the reply topic with 150 old replies.
    for (const r of await Promise.all([a, b, c].map(async (app, i) => sendMany(s, app, `old-${i}`, 50))))
      expect(r.every((x) => x.status === 'fulfilled')).toBe(true);

    // Second round; B shuts down while its requests are in flight, then starts again with its id.
    const roundA = sendMany(s, a, 'a', 50);
    const roundC = sendMany(s, c, 'c', 50);
    const roundB = sendMany(s, b, 'b', 50);
    await waitFor(() => s.handled.count >= 150 + 20, 30_000, { description: 'the round is under way' });
    await b.shutdown();
    const before = await written(s.replies);
    const b2 = await checkout(s, logs[3]!, 'checkout-b');
    const afterStart = await written(s.replies);
    const roundB2 = sendMany(s, b2, 'b2', 50);

    expectAllAnswered(await roundA, 'a');
    expectAllAnswered(await roundC, 'c');
    expectAllAnswered(await roundB2, 'b2');
    for (const r of await roundB) {
      if (r.status === 'rejected') expect(isGomesError(r.reason) && r.reason.code).toBe('GOMES_CLOSED');
    }
    // Every request is answered (B's too: its late replies reach nobody), 350 replies in all.
    await waitFor(async () => (await written(s.replies)) === 350, 30_000, {
      description: 'all 350 replies written',
    });
    await waitFor(() => b2.requestReplyStats().received >= 350 - afterStart, 30_000, {
      description: 'the restarted replica read every reply written after it started',
    });
    const stats = b2.requestReplyStats();
    // None of the replies written before it started (150 of the first round, at least 20 of B's).
    expect(stats.received).toBeLessThanOrEqual(350 - before);
    expect(stats.matched).toBe(50);
    expect(a.requestReplyStats().unmatched + c.requestReplyStats().unmatched).toBe(0);
    for (const { lines } of logs) expect(warnings(lines)).toEqual([]);
  }, 120_000);
});
