import assert from 'node:assert/strict';
import { DEFAULT_CONSUMER_ENDPOINT_OPTIONS } from '../channel/channel-builders.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { EventDrivenConsumer } from '../endpoint/event-driven-consumer.js';
import { noopLogger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import { Message } from '../message/message.js';
import { PARTITION_KEY_HEADER } from '../message/message-headers.js';
import type { RetryOptions } from '../pipeline/retry-options.js';
import type { ProcessingContext } from '../pipeline/processing-context.js';
import { topicWithDeadLetters, type ScenarioSuite } from './scenario-setup.js';
import type { ContractHarness } from './transport-contract-harness.js';
import { waitFor } from './wait-for.js';

/** What an event-driven consumer of a scenario is built with. */
export interface ScenarioConsumer {
  readonly topic: string;
  readonly name: string;
  readonly groupId?: string;
  readonly processors: number;
  readonly retry?: Partial<RetryOptions>;
  readonly deadLetter?: PublisherChannel;
  readonly handler: (message: Message, ctx: ProcessingContext) => Promise<void>;
}

export async function runConsumer(h: ContractHarness, spec: ScenarioConsumer): Promise<EventDrivenConsumer> {
  const channel = await h.consumer(spec.topic, spec.name, spec.groupId);
  const dlq = spec.deadLetter;
  const consumer = new EventDrivenConsumer({
    name: spec.name,
    channel,
    endpointOptions: {
      ...DEFAULT_CONSUMER_ENDPOINT_OPTIONS,
      retry: spec.retry,
      deadLetterChannelName: dlq?.name,
    },
    handler: async (message, ctx) => {
      await spec.handler(message, ctx);
      return undefined;
    },
    channels: { publisher: (name) => (dlq !== undefined && name === dlq.name ? dlq : undefined) },
    logger: noopLogger,
  }).withAmountOfProcessors(spec.processors);
  await consumer.run();
  h.onCleanup(async () => consumer.stop(1000));
  return consumer;
}

export function event(key: string, payload: Record<string, unknown>): Message {
  return MessageBuilder.withPayload(payload).header(PARTITION_KEY_HEADER, key).build();
}

/** The dead letters of `dlqTopic` (a bounded read of the whole channel). */
export async function deadLetters(h: ContractHarness, dlqTopic: string): Promise<Message[]> {
  const letters: Message[] = [];
  for await (const record of h.reader(dlqTopic).read()) {
    if (record.kind === 'message') letters.push(record.message);
    // The dead letter of an undecodable record keeps its original bytes, so it does not decode
    // either: its envelope is in the headers.
    else letters.push(new Message(undefined, { ...record.headers }));
  }
  return letters;
}

/**
 * The event-driven consumer scenarios of the contract suite: poison isolation (a retrying key
 * never stops the other keys of its partition), waiting retries hold no processor, rebalance
 * drain, and undecodable records through the consumer's dead-letter channel.
 *
 * @internal
 */
export function registerConsumeScenarios({ test, factory, features, timeoutMs, until }: ScenarioSuite): void {
  test('poison: every B is handled while the first A waits for its retries (1 partition, 4 processors)', async (h) => {
    const { topic, dlqTopic, publisher, dlq } = await topicWithDeadLetters(h, factory);
    for (let i = 0; i < 100; i++) await publisher.send(event(i % 2 === 0 ? 'A' : 'B', { i }));
    const handled: number[] = [];
    let poisonAttempts = 0;
    let bHandledAtLastAttempt = -1;
    await runConsumer(h, {
      topic,
      name: h.consumerName('poison'),
      processors: 4,
      retry: { delaysMs: [1500, 1500] },
      deadLetter: dlq,
      handler: async (message) => {
        const { i } = message.payload as { i: number };
        if (i === 0) {
          poisonAttempts++;
          if (poisonAttempts === 3) bHandledAtLastAttempt = handled.filter((n) => n % 2 === 1).length;
          throw new Error('poison');
        }
        handled.push(i);
        return Promise.resolve();
      },
    });
    await until(() => handled.length === 99, 'every event but the poison is handled');
    assert.equal(poisonAttempts, 3, 'the poison ran its three attempts');
    assert.equal(bHandledAtLastAttempt, 50, 'all 50 B were handled before the poison ran out of attempts');
    const aOrder = handled.filter((n) => n % 2 === 0);
    assert.deepEqual(
      aOrder,
      Array.from({ length: 49 }, (_, j) => 2 * (j + 1)),
      'the other A events ran in order',
    );
    assert.deepEqual(
      handled.filter((n) => n % 2 === 1),
      Array.from({ length: 50 }, (_, j) => 2 * j + 1),
      'the B events ran in order',
    );
    let letters: Message[] = [];
    await until(
      async () => (letters = await deadLetters(h, dlqTopic)).length >= 1,
      'the poison is dead-lettered',
    );
    assert.equal(letters.length, 1);
    assert.deepEqual(letters[0]!.payload, { i: 0 });
    assert.equal(readDeadLetterEnvelope(letters[0]!)?.attempts, 3);
  });

  test('four keys waiting for retries do not stop a fifth (waiting attempts hold no processor)', async (h) => {
    const { topic, dlqTopic, publisher, dlq } = await topicWithDeadLetters(h, factory);
    const poisonKeys = ['P1', 'P2', 'P3', 'P4'];
    for (const key of poisonKeys) await publisher.send(event(key, { key, poison: true }));
    for (let i = 0; i < 40; i++) await publisher.send(event('E', { key: 'E', i }));
    const handledE: number[] = [];
    const firstLastAttemptSeenAt: number[] = [];
    const attempts = new Map<string, number>();
    await runConsumer(h, {
      topic,
      name: h.consumerName('retrying'),
      processors: 4,
      retry: { delaysMs: [1500, 1500] },
      deadLetter: dlq,
      handler: async (message) => {
        const p = message.payload as { key: string; poison?: boolean; i?: number };
        if (p.poison === true) {
          const n = (attempts.get(p.key) ?? 0) + 1;
          attempts.set(p.key, n);
          if (n === 3) firstLastAttemptSeenAt.push(handledE.length);
          throw new Error(`poison ${p.key}`);
        }
        handledE.push(p.i ?? -1);
        return Promise.resolve();
      },
    });
    await until(() => handledE.length === 40, 'every E is handled');
    await until(() => firstLastAttemptSeenAt.length === 4, 'every poison ran out of attempts');
    assert.equal(firstLastAttemptSeenAt[0], 40, 'all 40 E were handled before any poison ran out');
    assert.deepEqual(
      handledE,
      Array.from({ length: 40 }, (_, i) => i),
    );
    await until(
      async () => (await deadLetters(h, dlqTopic)).length === 4,
      'the four poisons are dead-lettered',
    );
  });

  test(
    'rebalance drains: no handler of a revoked partition runs once another member handles it',
    async (h) => {
      const topic = await factory.uniqueTopic(2);
      const publisher = await h.publisher(topic);
      const group = `${topic}-drain`;
      const keys = Array.from({ length: 16 }, (_, i) => `key-${i}`);
      for (const key of keys) await publisher.send(event(key, { key }));
      // The first member holds every message until its signal is aborted (the revoke).
      const runningInA = new Set<string>();
      const abortedInA = new Set<string>();
      const startedInA = new Set<string>();
      let release = false;
      const overlaps: string[] = [];
      await runConsumer(h, {
        topic,
        name: h.consumerName('drain-a'),
        groupId: group,
        processors: 16,
        handler: async (message, ctx) => {
          const { key } = message.payload as { key: string };
          startedInA.add(key);
          runningInA.add(key);
          try {
            await waitFor(() => release || ctx.signal.aborted, 10 * timeoutMs, {
              description: 'released or revoked',
              intervalMs: 5,
            });
            if (ctx.signal.aborted) {
              abortedInA.add(key);
              throw new Error('revoked');
            }
          } finally {
            runningInA.delete(key);
          }
        },
      });
      await until(() => startedInA.size === keys.length, 'the first member runs every message');
      const handledByB = new Set<string>();
      await runConsumer(h, {
        topic,
        name: h.consumerName('drain-b'),
        groupId: group,
        processors: 16,
        handler: async (message) => {
          const { key } = message.payload as { key: string };
          if (runningInA.has(key)) overlaps.push(key);
          handledByB.add(key);
          return Promise.resolve();
        },
      });
      await until(() => handledByB.size > 0, 'the second member gets a partition');
      release = true;
      await until(() => handledByB.size + (startedInA.size - abortedInA.size) >= keys.length, 'all handled');
      assert.deepEqual(overlaps, [], 'no message ran on both members at once');
      for (const key of handledByB) {
        assert.ok(abortedInA.has(key), `${key} was aborted on the first member before the second got it`);
      }
    },
    features.partitions,
  );

  test(
    "an undecodable record is dead-lettered through the consumer's dead-letter channel with its reason",
    async (h) => {
      const { topic, dlqTopic, publisher, dlq } = await topicWithDeadLetters(h, factory);
      await publisher.send(event('k', { i: 0 }));
      await factory.publishUndecodable!(topic, 'k');
      await publisher.send(event('k', { i: 2 }));
      const handled: unknown[] = [];
      await runConsumer(h, {
        topic,
        name: h.consumerName('undecodable'),
        processors: 1,
        deadLetter: dlq,
        handler: async (message) => {
          handled.push(message.payload);
          return Promise.resolve();
        },
      });
      await until(() => handled.length >= 2, 'the records around the undecodable one are handled');
      assert.deepEqual(handled, [{ i: 0 }, { i: 2 }]);
      let letters: Message[] = [];
      await until(async () => (letters = await deadLetters(h, dlqTopic)).length >= 1, 'a dead letter');
      const envelope = readDeadLetterEnvelope(letters[0]!);
      assert.ok(envelope, 'the dead letter carries the envelope');
      assert.equal(envelope.errorCode, 'GOMES_TRANSLATION_FAILED');
      assert.equal(envelope.originChannel, topic);
      assert.equal(envelope.retriable, false);
    },
    factory.publishUndecodable !== undefined && features.boundedReads,
  );
}
