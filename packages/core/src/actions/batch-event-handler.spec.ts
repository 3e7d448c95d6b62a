import 'reflect-metadata';
import { Event } from './action-decorators.js';
import {
  BatchEventHandler,
  defineBatchEventHandler,
  type BatchRecordOutcome,
} from './batch-event-handler.js';
import type { BatchContext } from './batch-collector.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { createGomes } from '../gomes/create-gomes.js';
import type { Gomes } from '../gomes/gomes.js';
import { noopLogger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { PARTITION_KEY_HEADER } from '../transport/in-memory/partition-key.js';
import type { HandlerRegistration } from './handler-definition.js';

@Event('itemAdded')
class ItemAdded {
  constructor(
    readonly id: number,
    readonly key: string,
  ) {}
}

describe('batch event handlers (in-memory transport)', () => {
  let app: Gomes | undefined;
  let dead: Message[];

  afterEach(async () => {
    await app?.shutdown();
    app = undefined;
  });

  async function start(
    handler: HandlerRegistration,
    processors: number,
    retry?: { maxAttempts: number; initialDelayMs: number },
  ): Promise<Gomes> {
    const broker = new InMemoryBroker();
    dead = [];
    broker.onAppend('items.dlq', (record) => dead.push(broker.decode(record)));
    let consumer = inMemoryConsumer('mem', 'items', 'batcher').withDeadLetterChannelName('items.dlq');
    if (retry) consumer = consumer.withRetry(retry);
    app = createGomes({ logger: noopLogger })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'items').withPartitions(2))
      .addPublisherChannel(inMemoryPublisher('mem', 'items.dlq'))
      .addConsumerChannel(consumer)
      .addActionHandler(handler);
    await app.start();
    await app.eventDrivenConsumer('batcher').withAmountOfProcessors(processors).withNackDelay(1).run();
    return app;
  }

  /** Runs the consumer again with a processing timeout of `ms`. */
  async function withTimeout(gomes: Gomes, ms: number): Promise<ReturnType<Gomes['eventDrivenConsumer']>> {
    await gomes.eventDrivenConsumer('batcher').stop();
    const consumer = gomes.eventDrivenConsumer('batcher').withMessageProcessingTimeout(ms);
    await consumer.run();
    return consumer;
  }

  async function send(gomes: Gomes, items: readonly ItemAdded[]): Promise<void> {
    const channel = gomes.publisherChannel('items');
    for (const item of items) {
      await channel.send(
        MessageBuilder.withPayload({ id: item.id, key: item.key })
          .route('itemAdded')
          .messageType('Event')
          .header(PARTITION_KEY_HEADER, item.key)
          .build(),
      );
    }
  }

  const items = (n: number, keyOf: (i: number) => string = (i) => `k${i}`): ItemAdded[] =>
    Array.from({ length: n }, (_, i) => new ItemAdded(i, keyOf(i)));

  it('collects more events than processors into one call: waiting for a batch holds no processor', async () => {
    const sizes: number[] = [];
    const gomes = await start(
      defineBatchEventHandler(ItemAdded, (events) => void sizes.push(events.length), {
        maxSize: 20,
        maxWaitMs: 200,
      }),
      1,
    );
    await send(gomes, items(40));
    const consumer = gomes.eventDrivenConsumer('batcher');
    await waitFor(() => consumer.stats.succeeded === 40, 5000);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(sizes.every((s) => s <= 20)).toBe(true);
  });

  it('settles each event from its own outcome: done, retry (again, in a later batch), dead-letter', async () => {
    const seen = new Map<number, number>();
    const gomes = await start(
      defineBatchEventHandler(
        ItemAdded,
        (events): BatchRecordOutcome[] =>
          events.map((e) => {
            const n = (seen.get(e.id) ?? 0) + 1;
            seen.set(e.id, n);
            if (e.id === 3) return 'dead-letter';
            if (e.id === 5 && n === 1) return 'retry';
            return 'done';
          }),
        { maxSize: 10, maxWaitMs: 20 },
      ),
      4,
      { maxAttempts: 3, initialDelayMs: 1 },
    );
    await send(gomes, items(10));
    const consumer = gomes.eventDrivenConsumer('batcher');
    await waitFor(() => consumer.stats.acked === 10, 5000);
    expect(consumer.stats).toMatchObject({ succeeded: 9, deadLettered: 1, retried: 1, nacked: 0 });
    // The good events ran once: one bad event neither failed nor redelivered them.
    for (let id = 0; id < 10; id++) expect([id, seen.get(id)]).toEqual([id, id === 5 ? 2 : 1]);
    expect(dead.map((m) => (m.payload as { id: number }).id)).toEqual([3]);
    expect(readDeadLetterEnvelope(dead[0] as Message)).toMatchObject({
      attempts: 1,
      errorMessage: expect.stringContaining('dead-lettered the event') as unknown,
    });
  });

  it('a throwing batch fails every event of the call; each is retried and none is lost', async () => {
    const calls: number[][] = [];
    const gomes = await start(
      defineBatchEventHandler(
        ItemAdded,
        (events) => {
          calls.push(events.map((e) => e.id));
          if (calls.length === 1) throw new Error('database down');
        },
        { maxSize: 8, maxWaitMs: 50 },
      ),
      2,
      { maxAttempts: 3, initialDelayMs: 1 },
    );
    await send(gomes, items(8));
    const consumer = gomes.eventDrivenConsumer('batcher');
    await waitFor(() => consumer.stats.succeeded === 8, 5000);
    const first = calls[0] as number[];
    expect(first.length).toBeGreaterThan(1);
    const handledAfter = calls.slice(1).flat();
    // Every event of the failed call ran again; every event ran successfully once.
    for (const id of first) expect(handledAfter).toContain(id);
    expect([...new Set(handledAfter)].sort((a, b) => a - b)).toEqual([...Array(8).keys()]);
    expect(consumer.stats).toMatchObject({ retried: first.length, deadLettered: 0, failed: 0 });
    expect(dead).toEqual([]);
  });

  it('a batch holds at most one event per key; per-key order is kept across retries', async () => {
    const calls: ItemAdded[][] = [];
    const done: Record<string, number[]> = {};
    const failedOnce = new Set<number>();
    const gomes = await start(
      defineBatchEventHandler(
        ItemAdded,
        (events): BatchRecordOutcome[] => {
          calls.push([...events]);
          return events.map((e) => {
            if (e.id % 7 === 0 && !failedOnce.has(e.id)) {
              failedOnce.add(e.id);
              return 'retry';
            }
            (done[e.key] ??= []).push(e.id);
            return 'done';
          });
        },
        { maxSize: 10, maxWaitMs: 10 },
      ),
      4,
      { maxAttempts: 3, initialDelayMs: 5 },
    );
    await send(
      gomes,
      items(60, (i) => ['A', 'B', 'C'][i % 3] as string),
    );
    const consumer = gomes.eventDrivenConsumer('batcher');
    await waitFor(() => consumer.stats.succeeded === 60, 10_000);
    for (const call of calls) expect(new Set(call.map((e) => e.key)).size).toBe(call.length);
    for (const key of ['A', 'B', 'C']) {
      const ids = done[key] as number[];
      expect(ids).toHaveLength(20);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    expect(calls.some((call) => call.length === 3)).toBe(true);
  });

  it('@BatchEventHandler records metadata read by addActionHandler', async () => {
    const received: number[] = [];
    let context: BatchContext | undefined;
    @BatchEventHandler(ItemAdded, { maxSize: 5, maxWaitMs: 20 })
    class ItemBatchHandler {
      handle(events: readonly ItemAdded[], ctx: BatchContext): void {
        context = ctx;
        received.push(...events.map((e) => e.id));
      }
    }
    const gomes = await start(new ItemBatchHandler(), 1);
    await send(gomes, items(5));
    await waitFor(() => received.length === 5, 5000);
    expect(received.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(context?.contexts.every((c) => c.deliveryAttempt === 1)).toBe(true);
  });

  it('a result with the wrong number of outcomes fails the whole call as retriable', async () => {
    let calls = 0;
    const gomes = await start(
      defineBatchEventHandler(
        ItemAdded,
        (events): BatchRecordOutcome[] => (++calls === 1 ? ['done'] : events.map(() => 'done')),
        { maxSize: 4, maxWaitMs: 50 },
      ),
      1,
      { maxAttempts: 2, initialDelayMs: 1 },
    );
    await send(gomes, items(4));
    const consumer = gomes.eventDrivenConsumer('batcher');
    await waitFor(() => consumer.stats.succeeded === 4, 5000);
    expect(consumer.stats).toMatchObject({ retried: 4, deadLettered: 0 });
  });

  it('an event whose attempt is aborted (timeout) while it waits leaves the batch', async () => {
    const calls: number[][] = [];
    const gomes = await start(
      defineBatchEventHandler(ItemAdded, (events) => void calls.push(events.map((e) => e.id)), {
        maxSize: 2,
        maxWaitMs: 60_000,
      }),
      1,
      { maxAttempts: 2, initialDelayMs: 1 },
    );
    const consumer = await withTimeout(gomes, 100);
    await send(gomes, items(1));
    // Both attempts of event 0 time out waiting for a second event; it is dead-lettered.
    await waitFor(() => consumer.stats.deadLettered === 1, 5000);
    expect(calls).toEqual([]);
    await send(gomes, [new ItemAdded(1, 'k1'), new ItemAdded(2, 'k2')]);
    await waitFor(() => consumer.stats.succeeded === 2, 5000);
    // Had event 0 stayed in the batch, it would have filled it with event 1.
    expect(calls).toEqual([[1, 2]]);
    expect(dead.map((m) => (m.payload as { id: number }).id)).toEqual([0]);
  });

  it.each([
    ['read before the abort aborts', false],
    ['first read after the abort is already aborted', true],
  ])(
    "the batch's signal %s with the reason of the first of its events to abort (a timeout)",
    async (_title, readLate) => {
      const seen: { before: boolean | undefined; aborted: boolean; reason: unknown }[] = [];
      const gomes = await start(
        defineBatchEventHandler(
          ItemAdded,
          async (_events, context: BatchContext) => {
            // Read late: wait on an event's own signal, not the batch's (made on its first read).
            const signal = readLate ? undefined : context.signal;
            const wakeUp = signal ?? context.contexts[0]!.signal;
            const before = signal?.aborted;
            await new Promise<void>((resolve) =>
              wakeUp.addEventListener('abort', () => resolve(), { once: true }),
            );
            seen.push({ before, aborted: context.signal.aborted, reason: context.signal.reason });
            return ['done', 'done'];
          },
          { maxSize: 2, maxWaitMs: 60_000 },
        ),
        2,
      );
      await withTimeout(gomes, 200);
      await send(gomes, items(2));
      await waitFor(() => seen.length === 1, 5000);
      expect(seen[0]).toMatchObject({
        before: readLate ? undefined : false,
        aborted: true,
        reason: { code: 'GOMES_PROCESSING_TIMEOUT' },
      });
    },
  );

  it('rejects invalid options with one ConfigurationError listing every problem', () => {
    let error: unknown;
    try {
      defineBatchEventHandler(ItemAdded, () => undefined, { maxSize: 0, maxWaitMs: -1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).message).toMatch(/maxSize must be an integer >= 1/);
    expect((error as ConfigurationError).message).toMatch(/maxWaitMs must be an integer/);
  });
});
