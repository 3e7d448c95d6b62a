import assert from 'node:assert/strict';
import { defineBatchEventHandler, type BatchRecordOutcome } from '../actions/batch-event-handler.js';
import { DispatchHandlerContext } from '../actions/dispatch-source.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import type { Message } from '../message/message.js';
import type { BatchEventHandlerFn } from '../actions/batch-collector.js';
import { deadLetters, event, runConsumer, type ScenarioConsumer } from './consume-contract.js';
import { topicWithDeadLetters, type ScenarioSuite } from './scenario-setup.js';

/** The payload of a scenario event. */
interface Item {
  readonly i: number;
  readonly key: string;
}

class ItemEvent {}

/** A consumer handler running `handle` as a batch handler (as gomes' dispatcher would). */
function batchHandler(
  handle: BatchEventHandlerFn<Item>,
  maxSize: number,
  maxWaitMs: number,
): ScenarioConsumer['handler'] {
  const definition = defineBatchEventHandler(
    ItemEvent as never as new () => Item,
    handle,
    { maxSize, maxWaitMs },
    'contract-batch',
  );
  return async (message: Message, ctx) => {
    await definition.handle(message.payload as Item, new DispatchHandlerContext(message, ctx, undefined));
  };
}

/**
 * The batch handler scenarios of the contract suite: per-record outcomes (one record dead-lettered,
 * one retried, the good ones handled once), a throwing batch retried whole, and order per key.
 *
 * @internal
 */
export function registerBatchScenarios({ test, factory, until }: ScenarioSuite): void {
  test('batch handler: per-record outcomes — one dead-lettered, one retried, the good ones handled once', async (h) => {
    const { topic, dlqTopic, publisher, dlq } = await topicWithDeadLetters(h, factory);
    for (let i = 0; i < 20; i++) await publisher.send(event(`k${i}`, { i, key: `k${i}` }));
    const runs = new Map<number, number>();
    const consumer = await runConsumer(h, {
      topic,
      name: h.consumerName('batch-outcomes'),
      processors: 2,
      retry: { delaysMs: [10, 10] },
      deadLetter: dlq,
      handler: batchHandler(
        (items): BatchRecordOutcome[] =>
          items.map(({ i }) => {
            const n = (runs.get(i) ?? 0) + 1;
            runs.set(i, n);
            if (i === 7) return 'dead-letter';
            return i === 11 && n === 1 ? 'retry' : 'done';
          }),
        10,
        50,
      ),
    });
    await until(() => consumer.stats.acked === 20, 'every record is settled');
    for (let i = 0; i < 20; i++)
      assert.equal(runs.get(i), i === 11 ? 2 : 1, `record ${i} ran once (11: twice)`);
    assert.equal(consumer.stats.deadLettered, 1);
    assert.equal(consumer.stats.retried, 1);
    assert.equal(consumer.stats.nacked, 0);
    let letters: Message[] = [];
    await until(
      async () => (letters = await deadLetters(h, dlqTopic)).length >= 1,
      'record 7 is dead-lettered',
    );
    assert.deepEqual(
      letters.map((m) => (m.payload as Item).i),
      [7],
    );
    assert.match(readDeadLetterEnvelope(letters[0]!)?.errorMessage ?? '', /dead-lettered the event/);
  });

  test('batch handler: a throwing batch is retried whole, nothing is lost or dead-lettered', async (h) => {
    const topic = await factory.uniqueTopic(1);
    const publisher = await h.publisher(topic);
    for (let i = 0; i < 12; i++) await publisher.send(event(`k${i}`, { i, key: `k${i}` }));
    const calls: number[][] = [];
    const consumer = await runConsumer(h, {
      topic,
      name: h.consumerName('batch-throws'),
      processors: 1,
      retry: { delaysMs: [10, 10] },
      handler: batchHandler(
        (items) => {
          calls.push(items.map((item) => item.i));
          if (calls.length === 1) throw new Error('store down');
        },
        12,
        200,
      ),
    });
    await until(() => consumer.stats.succeeded === 12, 'every record succeeds');
    const failed = calls[0]!;
    assert.ok(failed.length > 1, `the failed call held several records (${failed.length})`);
    const after = calls.slice(1).flat();
    for (const i of failed) assert.ok(after.includes(i), `record ${i} of the failed batch ran again`);
    assert.deepEqual(
      [...new Set(after)].sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i),
    );
    assert.equal(consumer.stats.retried, failed.length);
    assert.equal(consumer.stats.deadLettered, 0);
  });

  test('batch handler: a batch holds one record per key and each key keeps its order', async (h) => {
    const topic = await factory.uniqueTopic(2);
    const publisher = await h.publisher(topic);
    const keys = ['A', 'B', 'C', 'D'];
    for (let i = 0; i < 80; i++) {
      const key = keys[i % keys.length]!;
      await publisher.send(event(key, { i, key }));
    }
    const calls: Item[][] = [];
    const done = new Map<string, number[]>();
    const retried = new Set<number>();
    const consumer = await runConsumer(h, {
      topic,
      name: h.consumerName('batch-order'),
      processors: 2,
      retry: { delaysMs: [5] },
      handler: batchHandler(
        (items): BatchRecordOutcome[] => {
          calls.push([...items]);
          return items.map(({ i, key }) => {
            if (i % 9 === 0 && !retried.has(i)) {
              retried.add(i);
              return 'retry';
            }
            done.set(key, [...(done.get(key) ?? []), i]);
            return 'done';
          });
        },
        16,
        10,
      ),
    });
    await until(() => consumer.stats.succeeded === 80, 'every record succeeds');
    for (const call of calls) {
      assert.equal(new Set(call.map((item) => item.key)).size, call.length, 'one record per key in a batch');
    }
    for (const key of keys) {
      const order = done.get(key)!;
      assert.equal(order.length, 20);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `key ${key} in order`,
      );
    }
    assert.ok(
      calls.some((call) => call.length > 2),
      'batches held more records than processors (waiting holds no processor)',
    );
  });
}
