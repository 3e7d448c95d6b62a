// gomes.replay on the in-memory transport: the time window, order per partition, the handler
// (registered or explicit), retries and the failure policy, configuration errors.
import type { ChannelBuildContext, PublisherChannelBuilder } from '../channel/channel-builders.js';
import type { ChannelReader, ChannelRecord } from '../channel/channel-reader.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, isGomesError, NonRetriableError } from '../errors/gomes-error.js';
import { createGomes } from '../gomes/create-gomes.js';
import { MessageBuilder } from '../message/message-builder.js';
import { PARTITION_KEY_HEADER } from '../message/message-headers.js';
import { Message } from '../message/message.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import {
  app,
  FAST_RETRY,
  ids,
  instances,
  nextInstant,
  OrderPlaced,
  perCustomer,
  publish,
  threePhases,
  TOPIC,
  type Seen,
} from '../../test/support/replay-fixtures.js';
import { InMemoryReplayCheckpointStore } from './in-memory-replay-checkpoint-store.js';
import type { ReplayOptions } from './replay-options.js';

describe('gomes.replay: the time window', () => {
  it('handles exactly the records in [from, to), in order per partition, with the registered handler', async () => {
    const seen: Seen = [];
    const { gomes, broker } = await app((o) => {
      seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
    });
    const { from, to, expected } = await threePhases(gomes, 30);

    const report = await gomes.replay({ channel: TOPIC, from, to });

    expect(report.status).toBe('completed');
    expect(ids(seen).sort()).toEqual(ids(expected).sort());
    for (const [customer, seqs] of perCustomer(seen)) {
      expect({ customer, seqs }).toEqual({ customer, seqs: [...seqs].sort((a, b) => a - b) });
    }
    expect(report.handled).toBe(30);
    expect(report.failed).toBe(0);
    expect(report.outsideWindow).toBe(0);
    expect(report.skippedCheckpointed).toBe(0);
    expect(report.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(report.partitions.reduce((n, p) => n + p.handled, 0)).toBe(30);
    for (const p of report.partitions) {
      // The next offset is that of the partition's first record at or after `to`.
      const first = broker.records(TOPIC, p.partition).find((r) => r.timestampMs >= to.getTime())!;
      expect(p.nextOffset).toBe(first.offset.toString());
      expect(BigInt(p.lastOffset!) + 1n).toBe(first.offset);
    }
    expect(report.from).toBe(from);
    expect(report.to).toBe(to);
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('turns the payload into the action class and validates it: an invalid record is a failure, not retried', async () => {
    const seen: unknown[] = [];
    const { gomes } = await app((o) => {
      seen.push(o);
    });
    const from = await nextInstant();
    await publish(gomes, 'ok', 2);
    const invalid = MessageBuilder.withPayload({ orderId: 'bad', customer: 'ann', seq: -1 })
      .route('replay.orderPlaced')
      .header(PARTITION_KEY_HEADER, 'ann')
      .build();
    await gomes.publisherChannel(TOPIC).send(invalid);
    const to = await nextInstant();

    const report = await gomes.replay({ channel: TOPIC, from, to, onFailure: 'continue', retry: FAST_RETRY });

    expect(seen).toHaveLength(2);
    expect(seen.every((o) => o instanceof OrderPlaced)).toBe(true);
    expect(report.status).toBe('completed');
    expect(report.failed).toBe(1);
    expect(report.failures[0]).toMatchObject({
      reason: 'handler',
      messageId: invalid.messageId,
      attempts: 1,
    });
    expect(isGomesError(report.failures[0]!.error) && report.failures[0]!.error.code).toBe(
      'GOMES_VALIDATION',
    );
  });

  it('passes each message with its position and timestamp to an explicit handler', async () => {
    const { gomes } = await app(() => {
      throw new Error('the registered handler must not run');
    });
    const { from, to, expected } = await threePhases(gomes, 9);
    const seen: { id: string; partition: number; offset: bigint; at: number }[] = [];

    const report = await gomes.replay({
      channel: TOPIC,
      from,
      to,
      handler: (message, context) => {
        seen.push({
          id: (message.payload as { orderId: string }).orderId,
          partition: context.position.partition,
          offset: BigInt(context.position.offset),
          at: context.timestamp.getTime(),
        });
      },
    });

    expect(report).toMatchObject({ status: 'completed', handled: 9, failed: 0 });
    expect(seen.map((s) => s.id).sort()).toEqual(ids(expected).sort());
    expect(seen.every((s) => s.at >= from.getTime() && s.at < to.getTime())).toBe(true);
    for (const partition of [0, 1, 2]) {
      const offsets = seen.filter((s) => s.partition === partition).map((s) => s.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
    }
  });

  it('handles nothing in a window without records', async () => {
    const { gomes } = await app(() => {
      throw new Error('nothing to handle');
    });
    await publish(gomes, 'before', 5);
    const from = await nextInstant();
    const to = await nextInstant();
    await publish(gomes, 'after', 5);
    const report = await gomes.replay({ channel: TOPIC, from, to });
    expect(report).toMatchObject({ status: 'completed', handled: 0, failed: 0, partitions: [] });
  });
});

describe('gomes.replay: failures', () => {
  it('retries a failing handling per the retry options, then succeeds', async () => {
    const attempts = new Map<string, number>();
    const { gomes } = await app((o) => {
      const n = (attempts.get(o.orderId) ?? 0) + 1;
      attempts.set(o.orderId, n);
      if (o.seq === 3 && n < 3) throw new GomesError('HANDLER_FAILED', 'transient');
    });
    const { from, to } = await threePhases(gomes, 6);
    const report = await gomes.replay({ channel: TOPIC, from, to, retry: FAST_RETRY });
    expect(report).toMatchObject({ status: 'completed', handled: 6, failed: 0 });
    expect(attempts.get('inside-3')).toBe(3);
  });

  it("onFailure 'stop' stops at the failed record and keeps the checkpoint before it; the next run starts there", async () => {
    let broken = true;
    const seen: Seen = [];
    const { gomes } = await app((o) => {
      if (broken && o.orderId === 'inside-7') throw new Error('poison');
      seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
    });
    const { from, to, expected } = await threePhases(gomes, 18);
    const store = new InMemoryReplayCheckpointStore();
    const options: ReplayOptions = {
      channel: TOPIC,
      from,
      to,
      retry: FAST_RETRY,
      checkpoint: { store, id: 'stop', every: 2 },
    };

    const first = await gomes.replay(options);

    expect(first.status).toBe('failed');
    expect(first.error?.message).toBe('poison');
    expect(first.failures).toHaveLength(1);
    expect(first.failures[0]).toMatchObject({ reason: 'handler', attempts: 3 });
    const poison = first.failures[0]!.position;
    const saved = (await store.load('stop'))!;
    expect(saved.offsets[poison.partition]).toBe(poison.offset);
    const firstRun = ids(seen);
    expect(firstRun).not.toContain('inside-7');

    broken = false;
    seen.length = 0;
    const second = await gomes.replay(options);

    expect(second.status).toBe('completed');
    expect(second.resumedFrom).toEqual(saved.offsets);
    expect(ids(seen)).toContain('inside-7');
    expect([...firstRun, ...ids(seen)].sort()).toEqual(ids(expected).sort());
    expect(second.skippedCheckpointed).toBe(firstRun.length);
  });

  it("onFailure 'continue' reports the failed record (and an undecodable one), logs it and goes on", async () => {
    const logger = recordingLogger();
    const { gomes, broker } = await app(
      (o) => {
        if (o.orderId === 'inside-2') throw new NonRetriableError('rejected');
      },
      new InMemoryBroker(),
      logger,
    );
    const from = await nextInstant();
    await publish(gomes, 'inside', 5);
    const valid = MessageBuilder.withPayload({ x: 1 }).header(PARTITION_KEY_HEADER, 'ann').build();
    broker.publish(TOPIC, new Message(valid.payload, { ...valid.headers, timestamp: 'not-a-time' }));
    const to = await nextInstant();

    const report = await gomes.replay({ channel: TOPIC, from, to, onFailure: 'continue', retry: FAST_RETRY });

    expect(report).toMatchObject({ status: 'completed', handled: 4, failed: 2, undecodable: 1 });
    expect(report.failures.map((f) => f.reason).sort()).toEqual(['handler', 'undecodable']);
    expect(report.failures.find((f) => f.reason === 'handler')).toMatchObject({ attempts: 1 });
    expect(report.partitions.reduce((n, p) => n + p.failed, 0)).toBe(2);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(2);
    for (const [line, failure] of errors.map((l, i) => [l, report.failures[i]!] as const)) {
      expect(line.fields).toMatchObject({
        replay: TOPIC,
        partition: failure.position.partition,
        offset: failure.position.offset,
        reason: failure.reason,
      });
    }
    expect(logger.lines.find((l) => l.message === 'replay finished')?.fields).toMatchObject({
      handled: 4,
      failed: 2,
    });
  });

  it('does not handle a record inside the window offsets whose timestamp lies outside it; counts and logs it', async () => {
    const skewed = new Set<string>();
    // A reader that reports some records with a producer timestamp from long ago.
    const base = inMemoryPublisher('memory', TOPIC).withPartitions(3);
    const baseReader = base.createReader.bind(base);
    const createReader = (context: ChannelBuildContext): ChannelReader => {
      const inner = baseReader(context);
      return {
        channelName: inner.channelName,
        read: (options) =>
          (async function* (): AsyncGenerator<ChannelRecord> {
            for await (const record of inner.read(options)) {
              yield record.kind === 'message' && skewed.has(record.message.messageId)
                ? { ...record, timestamp: new Date(0) }
                : record;
            }
          })(),
      };
    };
    // The builder is frozen: a proxy swaps its reader.
    const skewedPublisher = new Proxy(base, {
      get: (target, property) => {
        if (property === 'createReader') return createReader;
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as PublisherChannelBuilder;
    const logger = recordingLogger();
    const seen: Seen = [];
    const { gomes } = await app(
      (o) => {
        seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
      },
      new InMemoryBroker(),
      logger,
      skewedPublisher,
    );
    const { from, to, expected } = await threePhases(gomes, 12);
    const store = new InMemoryReplayCheckpointStore();
    // Which records to skew: the messageIds of inside-4 and inside-9, read back from the channel.
    const firstPass = await gomes.replay({
      channel: TOPIC,
      from,
      to,
      handler: (message) => {
        const id = (message.payload as { orderId: string }).orderId;
        if (id === 'inside-4' || id === 'inside-9') skewed.add(message.messageId);
      },
    });
    expect(firstPass.handled).toBe(12);

    const report = await gomes.replay({ channel: TOPIC, from, to, checkpoint: { store, id: 'skew' } });

    expect(report).toMatchObject({ status: 'completed', handled: 10, outsideWindow: 2, failed: 0 });
    expect(ids(seen).sort()).toEqual(
      ids(expected)
        .filter((id) => id !== 'inside-4' && id !== 'inside-9')
        .sort(),
    );
    expect(
      logger.lines.filter((l) => l.level === 'warn' && /timestamp outside it/.test(l.message)),
    ).toHaveLength(2);
    // The checkpoint moved past them: a resumed run neither handles nor counts them again.
    const again = await gomes.replay({ channel: TOPIC, from, to, checkpoint: { store, id: 'skew' } });
    expect(again).toMatchObject({ handled: 0, outsideWindow: 0, skippedCheckpointed: 12 });
  });
});

describe('gomes.replay: with a consumer', () => {
  it("runs the consumer's retry, middleware and filter around the handler, not its dead letter", async () => {
    const attempts = new Map<string, number>();
    const trail: string[] = [];
    const consumer = inMemoryConsumer('memory', TOPIC, 'orders-view')
      .withRetry({ maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 2, jitter: 0 })
      .withMiddleware((next) => async (message, context) => {
        trail.push((message.payload as { orderId: string }).orderId);
        return next(message, context);
      })
      .withFilter((message) => (message.payload as { customer: string }).customer !== 'bob')
      .withDeadLetterChannelName();
    const { gomes, broker } = await app(
      (o) => {
        const n = (attempts.get(o.orderId) ?? 0) + 1;
        attempts.set(o.orderId, n);
        if (o.orderId === 'inside-2' && n < 4) throw new Error('transient');
        if (o.orderId === 'inside-5') throw new NonRetriableError('rejected');
      },
      new InMemoryBroker(),
      recordingLogger(),
      inMemoryPublisher('memory', TOPIC).withPartitions(3),
      [consumer],
      [inMemoryPublisher('memory', `${TOPIC}.DLQ`)],
    );
    const { from, to, expected } = await threePhases(gomes, 12);

    const report = await gomes.replay({
      channel: TOPIC,
      from,
      to,
      consumer: 'orders-view',
      onFailure: 'continue',
    });

    expect(report).toMatchObject({ status: 'completed', handled: 9, filtered: 2, failed: 1 });
    expect(attempts.get('inside-2')).toBe(4); // the consumer's 4 attempts, not the replay's 3
    expect(report.failures[0]).toMatchObject({ route: 'replay.orderPlaced', attempts: 1 });
    // The middleware runs inside the retries, as in the consumer's pipeline: once per attempt.
    expect([...trail].sort()).toEqual([...ids(expected), 'inside-2', 'inside-2', 'inside-2'].sort());
    expect(attempts.has('inside-1') || attempts.has('inside-7')).toBe(false); // bob's: filtered
    // Failures are reported, not dead-lettered.
    expect(broker.hasTopic(`${TOPIC}.DLQ`) ? broker.records(`${TOPIC}.DLQ`, 0) : []).toEqual([]);
  });

  it('refuses an unknown consumer, or one of another channel', async () => {
    const other = inMemoryConsumer('memory', 'replay.other', 'other-view');
    const { gomes } = await app(
      () => undefined,
      new InMemoryBroker(),
      recordingLogger(),
      inMemoryPublisher('memory', TOPIC).withPartitions(3),
      [other],
    );
    const now = new Date();
    await expect(
      gomes.replay({ channel: TOPIC, from: new Date(0), to: now, consumer: 'ghost' }),
    ).rejects.toThrow(/no consumer channel "ghost" is registered/);
    await expect(
      gomes.replay({ channel: TOPIC, from: new Date(0), to: now, consumer: 'other-view' }),
    ).rejects.toThrow(/consumer "other-view" reads channel "replay.other", not "replay.orders"/);
  });
});

describe('gomes.replay: configuration', () => {
  it('fails with one ConfigurationError listing every problem', async () => {
    const { gomes } = await app();
    const now = new Date();
    const error = (await gomes
      .replay({
        channel: 'nowhere',
        from: now,
        to: now,
        retry: { maxAttempts: 0 },
        onFailure: 'skip' as never,
        checkpoint: { store: new InMemoryReplayCheckpointStore(), id: '', every: 0 },
      })
      .catch((e: unknown) => e)) as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.problems).toEqual([
      expect.stringMatching(/^to .* must be after from/),
      expect.stringMatching(/^retry.maxAttempts/),
      expect.stringMatching(/^onFailure must be/),
      'checkpoint.id must be a non-empty string',
      'checkpoint.every must be an integer >= 1, got 0',
      expect.stringMatching(/^no publisher channel "nowhere" is registered/),
    ]);
  });

  it('names a channel whose transport cannot read it back, and an invalid date', async () => {
    const { gomes } = await app();
    const noReader = createGomes()
      .addChannelConnection(inMemoryConnection('memory', { broker: new InMemoryBroker() }))
      .addPublisherChannel(Object.assign(inMemoryPublisher('memory', 'plain'), { createReader: undefined }));
    instances.push(noReader);
    await noReader.start();
    await expect(noReader.replay({ channel: 'plain', from: new Date(0), to: new Date() })).rejects.toThrow(
      /cannot read it back/,
    );
    await expect(
      gomes.replay({ channel: TOPIC, from: new Date(Number.NaN), to: new Date() }),
    ).rejects.toThrow(/from must be a valid Date/);
  });

  it('needs a started instance', async () => {
    const gomes = createGomes();
    await expect(gomes.replay({ channel: TOPIC, from: new Date(0), to: new Date() })).rejects.toThrow(
      /call start\(\) first/,
    );
  });
});
