// gomes.replay on the in-memory transport: the time window, order per partition, retries and the
// failure policy, checkpoints and resuming after an abort or a crash, configuration errors.
import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import { Event } from '../actions/action-decorators.js';
import { defineEventHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, isGomesError, NonRetriableError } from '../errors/gomes-error.js';
import type { ChannelReader, ChannelRecord } from '../channel/channel-reader.js';
import type { ChannelBuildContext } from '../channel/channel-builders.js';
import { createGomes } from '../gomes/create-gomes.js';
import type { Logger, LogFields } from '../logging/logger.js';
import type { Gomes } from '../gomes/gomes.js';
import { MessageBuilder } from '../message/message-builder.js';
import { PARTITION_KEY_HEADER } from '../message/message-headers.js';
import { Message } from '../message/message.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import {
  InMemoryPublisherChannelBuilder,
  inMemoryPublisher,
} from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { InMemoryReplayCheckpointStore } from './in-memory-replay-checkpoint-store.js';
import type { ReplayCheckpoint, ReplayCheckpointStore } from './replay-checkpoint-store.js';
import type { ReplayOptions } from './replay-options.js';

@Event('replay.orderPlaced')
class OrderPlaced {
  @IsString() orderId: string;
  @IsString() customer: string;
  @IsInt() @Min(0) seq: number;
  constructor(orderId: string, customer: string, seq: number) {
    this.orderId = orderId;
    this.customer = customer;
    this.seq = seq;
  }
}

const TOPIC = 'replay.orders';
const CUSTOMERS = ['ann', 'bob', 'cid', 'dee', 'eve', 'fay'];
/** Fast retries for the tests (the defaults wait 100 ms, then 200 ms). */
const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5, jitter: 0 };

let instances: Gomes[] = [];
afterEach(async () => {
  await Promise.all(instances.map(async (g) => g.shutdown().catch(() => undefined)));
  instances = [];
});

/** What the registered handler saw, in order. */
type Seen = { orderId: string; customer: string; seq: number }[];

/** A logger that records every line with its level and the bindings of its chain. */
class RecordingLogger implements Logger {
  constructor(
    readonly lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [],
    readonly bindings: Record<string, unknown> = {},
  ) {}
  #log(level: string, msg: string, fields?: LogFields): void {
    this.lines.push({ level, msg, fields: { ...this.bindings, ...fields } });
  }
  debug = (msg: string, fields?: LogFields): void => this.#log('debug', msg, fields);
  info = (msg: string, fields?: LogFields): void => this.#log('info', msg, fields);
  warn = (msg: string, fields?: LogFields): void => this.#log('warn', msg, fields);
  error = (msg: string, fields?: LogFields): void => this.#log('error', msg, fields);
  child(bindings: LogFields): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }
}

async function app(
  handle: (order: OrderPlaced) => void | Promise<void> = () => undefined,
  broker = new InMemoryBroker(),
  logger: Logger = new RecordingLogger(),
  publisher: InMemoryPublisherChannelBuilder = inMemoryPublisher('memory', TOPIC).withPartitions(3),
): Promise<{ gomes: Gomes; broker: InMemoryBroker }> {
  const gomes = createGomes({ logger })
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(publisher)
    .addActionHandler(defineEventHandler(OrderPlaced, handle));
  instances.push(gomes);
  await gomes.start();
  return { gomes, broker };
}

/** Publishes `count` orders (customers round-robin, the customer is the partition key). */
async function publish(gomes: Gomes, phase: string, count: number): Promise<OrderPlaced[]> {
  const bus = gomes.eventBusByChannel(TOPIC);
  const sent: OrderPlaced[] = [];
  for (let i = 0; i < count; i++) {
    const order = new OrderPlaced(`${phase}-${i}`, CUSTOMERS[i % CUSTOMERS.length]!, i);
    await bus.publish(order, { partitionKey: order.customer });
    sent.push(order);
  }
  return sent;
}

/** A time strictly after every timestamp taken so far (waits for the clock to tick). */
async function nextInstant(): Promise<Date> {
  const now = Date.now();
  await waitFor(() => Date.now() > now, 1000, { intervalMs: 1 });
  return new Date();
}

/** Phase `before` (not in the window), `inside`, `after` (not in the window), with the window. */
async function threePhases(
  gomes: Gomes,
  inside: number,
): Promise<{ from: Date; to: Date; expected: OrderPlaced[] }> {
  await publish(gomes, 'before', 12);
  const from = await nextInstant();
  const expected = await publish(gomes, 'inside', inside);
  const to = await nextInstant();
  await publish(gomes, 'after', 12);
  return { from, to, expected };
}

function ids(orders: readonly { orderId: string }[]): string[] {
  return orders.map((o) => o.orderId);
}

/** Per customer (= partition key), the sequence numbers in handling order. */
function perCustomer(orders: readonly { customer: string; seq: number }[]): Map<string, number[]> {
  const result = new Map<string, number[]>();
  for (const o of orders) result.set(o.customer, [...(result.get(o.customer) ?? []), o.seq]);
  return result;
}

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
    const logger = new RecordingLogger();
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
    expect(logger.lines.find((l) => l.msg === 'replay finished')?.fields).toMatchObject({
      handled: 4,
      failed: 2,
    });
  });

  it('does not handle a record inside the window offsets whose timestamp lies outside it; counts and logs it', async () => {
    const skewed = new Set<string>();
    /** A reader that reports some records with a producer timestamp from long ago. */
    class SkewedPublisher extends InMemoryPublisherChannelBuilder {
      override createReader(context: ChannelBuildContext): ChannelReader {
        const inner = super.createReader(context);
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
      }
    }
    const logger = new RecordingLogger();
    const seen: Seen = [];
    const { gomes } = await app(
      (o) => {
        seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
      },
      new InMemoryBroker(),
      logger,
      new SkewedPublisher('memory', TOPIC).withPartitions(3),
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
    expect(logger.lines.filter((l) => l.level === 'warn' && /timestamp outside it/.test(l.msg))).toHaveLength(
      2,
    );
    // The checkpoint moved past them: a resumed run neither handles nor counts them again.
    const again = await gomes.replay({ channel: TOPIC, from, to, checkpoint: { store, id: 'skew' } });
    expect(again).toMatchObject({ handled: 0, outsideWindow: 0, skippedCheckpointed: 12 });
  });
});

describe('gomes.replay: checkpoints', () => {
  it('resumes after an abort: nothing handled twice, nothing missed', async () => {
    const controller = new AbortController();
    const seen: Seen = [];
    const { gomes } = await app((o) => {
      seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
      if (seen.length === 23) controller.abort();
    });
    const { from, to, expected } = await threePhases(gomes, 60);
    const store = new InMemoryReplayCheckpointStore();
    const checkpoint = { store, id: 'rebuild', every: 5 };

    const first = await gomes.replay({ channel: TOPIC, from, to, checkpoint, signal: controller.signal });

    expect(first.status).toBe('aborted');
    expect(first.handled).toBe(23);
    expect(first.checkpointsSaved).toBe(5); // every 5 records (4), and when the run ended
    const firstRun = ids(seen);
    seen.length = 0;

    const second = await gomes.replay({ channel: TOPIC, from, to, checkpoint });

    expect(second.status).toBe('completed');
    expect(second.handled).toBe(60 - 23);
    expect(second.skippedCheckpointed).toBe(23);
    const all = [...firstRun, ...ids(seen)];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(ids(expected).sort());

    // Completed: a third run with the same id handles nothing.
    seen.length = 0;
    const third = await gomes.replay({ channel: TOPIC, from, to, checkpoint });
    expect(third).toMatchObject({ status: 'completed', handled: 0, skippedCheckpointed: 60 });
    expect(seen).toEqual([]);
  });

  it('after a crash, handles again only what came after the last saved checkpoint', async () => {
    const inner = new InMemoryReplayCheckpointStore();
    let saves = 0;
    // Stands for a process that dies after its third checkpoint: later saves are lost.
    const crashing: ReplayCheckpointStore = {
      description: 'crashing',
      load: async (id) => inner.load(id),
      save: async (id, checkpoint: ReplayCheckpoint) => {
        if (++saves > 3) throw new Error('process gone');
        await inner.save(id, checkpoint);
      },
      delete: async (id) => inner.delete(id),
    };
    const seen: Seen = [];
    const { gomes } = await app((o) => {
      seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
    });
    const { from, to, expected } = await threePhases(gomes, 40);

    const first = await gomes.replay({
      channel: TOPIC,
      from,
      to,
      checkpoint: { store: crashing, id: 'c', every: 4 },
    });

    expect(first.status).toBe('failed');
    expect(isGomesError(first.error) && first.error.code).toBe('GOMES_REPLAY_CHECKPOINT_FAILED');
    expect(first.handled).toBe(16); // stopped by the 4th save, after 16 records
    const checkpointed = (await inner.load('c'))!;
    const firstRun = [...seen];
    seen.length = 0;

    const second = await gomes.replay({
      channel: TOPIC,
      from,
      to,
      checkpoint: { store: inner, id: 'c', every: 4 },
    });

    expect(second.status).toBe('completed');
    expect(second.skippedCheckpointed).toBe(12);
    // None handled twice that the last saved checkpoint covered; none missed.
    const again = ids(seen).filter((id) => ids(firstRun).includes(id));
    expect(again).toHaveLength(4);
    expect(new Set([...ids(firstRun), ...ids(seen)])).toEqual(new Set(ids(expected)));
    expect(Object.keys(checkpointed.offsets).length).toBeGreaterThan(0);
  });

  it('refuses a checkpoint of another window with a ConfigurationError', async () => {
    const { gomes } = await app();
    const { from, to } = await threePhases(gomes, 3);
    const store = new InMemoryReplayCheckpointStore();
    await gomes.replay({ channel: TOPIC, from, to, checkpoint: { store, id: 'w' } });
    const later = new Date(to.getTime() + 1);
    await expect(
      gomes.replay({ channel: TOPIC, from, to: later, checkpoint: { store, id: 'w' } }),
    ).rejects.toThrow(/checkpoint "w" belongs to a replay of "replay.orders" over/);
    await store.delete('w');
    // Deleted: the window is replayed again from its start.
    await expect(
      gomes.replay({ channel: TOPIC, from, to, checkpoint: { store, id: 'w' } }),
    ).resolves.toMatchObject({
      status: 'completed',
      handled: 3,
      skippedCheckpointed: 0,
    });
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
