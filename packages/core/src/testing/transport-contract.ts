import assert from 'node:assert/strict';
import type { ConsumerChannelBuilder, PublisherChannelBuilder } from '../channel/channel-builders.js';
import type { ChannelConnection } from '../channel/channel-connection.js';
import { isGomesError } from '../errors/gomes-error.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { PARTITION_KEY_HEADER } from '../message/message-headers.js';
import { registerBatchScenarios } from './batch-contract.js';
import { registerConsumeScenarios } from './consume-contract.js';
import { registerPollingScenarios } from './polling-contract.js';
import { registerReaderScenarios } from './reader-contract.js';
import { untilWithin, type ScenarioSuite } from './scenario-setup.js';
import { ContractHarness } from './transport-contract-harness.js';
import { testGlobals, type TestFn } from './test-globals.js';
import { holdsFor, withTimeout } from './wait-for.js';

/** What a transport supports; the suite registers no test for a feature it lacks. @public */
export interface TransportContractFeatures {
  /** Topics can have several partitions, so members of one group each get a share. @default true */
  partitions: boolean;
  /** `deliveryAttempt` counts redeliveries within a subscription. @default true */
  countsDeliveryAttempts: boolean;
  /** A payload JSON cannot encode (a BigInt) makes `send` reject with a GomesError. @default true */
  rejectsUnserialisablePayloads: boolean;
  /**
   * A record the consumer cannot decode goes to `<topic>.DLQ` (with the `gomes.dlq.*` reason
   * headers), is never handed over, and does not block the partition. Needs the factory's
   * `publishUndecodable` and `deadLetters`. @default false
   */
  deadLettersUndecodableRecords: boolean;
  /**
   * Consumer channels offer a partitioned source (`openSource`, the `@gomes/core/transport` SPI), so
   * event-driven consumers run on gomes' consume core: the suite then checks poison isolation,
   * retries that hold no processor, rebalance drain and undecodable records through the consumer's
   * dead-letter channel. @default true
   */
  partitionedSource: boolean;
  /**
   * Publisher builders have `createReader`: a bounded reader that reads a channel up to the end
   * captured when the read began, then stops (see `ChannelReader`). @default true
   */
  boundedReads: boolean;
}

/** Defaults of {@link TransportContractFeatures}. @public */
export const DEFAULT_TRANSPORT_CONTRACT_FEATURES: Readonly<TransportContractFeatures> = Object.freeze({
  partitions: true,
  countsDeliveryAttempts: true,
  rejectsUnserialisablePayloads: true,
  deadLettersUndecodableRecords: false,
  partitionedSource: true,
  boundedReads: true,
});

/**
 * How {@link describeTransportContract} reaches a transport. Everything goes through the core
 * contracts (connection, builders, channels), so the same suite runs against every transport.
 *
 * @public
 */
export interface TransportContractFactory {
  /** Feature flags (missing = the default, i.e. supported). */
  readonly features?: Partial<TransportContractFeatures>;
  /** Longest wait for any condition, in ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Jest timeout of each test, in ms. @default 60000 */
  readonly testTimeoutMs?: number;
  /** How long negative assertions ("nothing more arrives") watch, in ms. @default 250 */
  readonly quietPeriodMs?: number;
  /** Runs once before the suite (e.g. start a broker). */
  setup?(): Promise<void>;
  /** Runs once after the suite. */
  teardown?(): Promise<void>;
  /** A new, not yet connected connection; the suite connects it and disconnects it after the test. */
  connection(): ChannelConnection | Promise<ChannelConnection>;
  /**
   * Stores a record on `topic` (partition key `key`) that the consumer cannot decode. Needed by the
   * `deadLettersUndecodableRecords` feature.
   */
  publishUndecodable?(topic: string, key: string): Promise<void>;
  /** The records of `topic`'s dead-letter topic (`<topic>.DLQ`), as messages with their headers. */
  deadLetters?(topic: string): Promise<Message[]>;
  /** Creates a topic no other test uses, with this many partitions, and returns its name. */
  uniqueTopic(partitions: number): Promise<string>;
  /** A publisher builder for `topic`; partition keys come from the `gomes.partitionKey` header. */
  publisher(connectionName: string, topic: string): PublisherChannelBuilder;
  /**
   * A consumer builder for `topic` in group `groupId` (default: the transport's default for
   * `consumerName`). A group with no committed offset must start at the EARLIEST offset.
   */
  consumer(
    connectionName: string,
    topic: string,
    consumerName: string,
    groupId?: string,
  ): ConsumerChannelBuilder;
}

/** A message with a partition key and a `contract-kind` header. @internal */
export function keyed(key: string, payload: Record<string, unknown>, kind = 'data'): Message {
  return MessageBuilder.withPayload(payload)
    .header(PARTITION_KEY_HEADER, key)
    .header('contract-kind', kind)
    .build();
}

/**
 * Defines jest `describe`/`it` blocks that check a transport against the channel contracts:
 * round trip, per-key ordering, ack/nack and redelivery, consumer groups, backpressure and close.
 * Call it at the top level of a spec file.
 *
 * @example
 * ```ts
 * describeTransportContract('in-memory', {
 *   connection: () => new InMemoryConnection('memory'),
 *   uniqueTopic: async () => `topic-${randomUUID()}`,
 *   publisher: (conn, topic) => inMemoryPublisher(conn, topic),
 *   consumer: (conn, topic, name, group) => inMemoryConsumer(conn, topic, name).withGroupId(group ?? name),
 * });
 * ```
 * @public
 */
export function describeTransportContract(name: string, factory: TransportContractFactory): void {
  const { describe, it, beforeAll, afterAll, afterEach } = testGlobals('describeTransportContract', [
    'describe',
    'it',
    'beforeAll',
    'afterAll',
    'afterEach',
  ]);
  const features = { ...DEFAULT_TRANSPORT_CONTRACT_FEATURES, ...factory.features };
  const timeoutMs = factory.timeoutMs ?? 10_000;
  const quietMs = factory.quietPeriodMs ?? 250;
  const testTimeoutMs = factory.testTimeoutMs ?? 60_000;
  let current: ContractHarness | undefined;

  const test = (title: string, fn: (h: ContractHarness) => Promise<void>, enabled = true): void => {
    const body: TestFn = async () => {
      current = await ContractHarness.create(factory, timeoutMs);
      try {
        await fn(current);
      } finally {
        await current.cleanup();
      }
    };
    // A feature the transport lacks registers no test at all (nothing left skipped).
    if (enabled) it(title, body, testTimeoutMs);
  };
  const until = untilWithin(timeoutMs);

  describe(`transport contract: ${name}`, () => {
    if (factory.setup) beforeAll(async () => factory.setup?.(), testTimeoutMs);
    if (factory.teardown) afterAll(async () => factory.teardown?.(), testTimeoutMs);
    afterEach(async () => current?.cleanup(), testTimeoutMs);

    if (features.partitionedSource) {
      const suite: ScenarioSuite = { test, factory, features, timeoutMs, until };
      registerConsumeScenarios(suite);
      registerBatchScenarios(suite);
      registerPollingScenarios(suite);
    }
    registerReaderScenarios({ test, factory, features, timeoutMs, until });

    test('round trip keeps the payload and every header, messageId included', async (h) => {
      const topic = await factory.uniqueTopic(3);
      const publisher = await h.publisher(topic);
      const sent = MessageBuilder.withPayload({
        orderId: 'o-1',
        amount: 12.5,
        lines: [{ sku: 'a', qty: 2 }],
        note: null,
      })
        .messageType('Event')
        .route('orderCreated')
        .correlationId('corr-1')
        .causationId('cause-1')
        .version('2.0')
        .header('tenant', 'acme')
        .header('x-custom', 'value with spaces & ünïcode')
        .build();
      await publisher.send(sent);
      const c = await h.collect(await h.consumer(topic, h.consumerName()));
      await until(() => c.deliveries.length >= 1, 'the message arrives');
      const d = c.deliveries[0]!;
      assert.deepEqual(d.message.payload, sent.payload);
      for (const [header, value] of Object.entries(sent.headers)) {
        if (header !== 'channelName') assert.equal(d.message.header(header), value, `header ${header}`);
      }
      assert.equal(d.message.messageId, sent.messageId);
      assert.equal(d.message.channelName, topic);
      assert.equal(d.message.messageType, 'Event');
      assert.equal(d.position.channel, topic);
      assert.equal(d.deliveryAttempt, 1);
      assert.equal(typeof d.key, 'string');
    });

    test('keeps the order of messages with the same partition key', async (h) => {
      const topic = await factory.uniqueTopic(3);
      const publisher = await h.publisher(topic);
      const keys = ['alpha', 'beta', 'gamma'];
      const perKey = 40;
      for (let i = 0; i < perKey; i++) {
        for (const key of keys) await publisher.send(keyed(key, { key, seq: i }));
      }
      const c = await h.collect(await h.consumer(topic, h.consumerName()));
      await until(() => c.deliveries.length >= keys.length * perKey, 'every message arrives');
      for (const key of keys) {
        const ofKey = c.deliveries.filter((d) => (d.message.payload as { key: string }).key === key);
        assert.deepEqual(
          ofKey.map((d) => (d.message.payload as { seq: number }).seq),
          Array.from({ length: perKey }, (_, i) => i),
          `order of key ${key}`,
        );
        for (const d of ofKey) assert.equal(d.key, key, 'Delivery.key is the partition key');
      }
    });

    test('does not redeliver acked messages after resubscribing', async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      const consumerName = h.consumerName();
      const first = Array.from({ length: 5 }, (_, i) => keyed('k', { i }));
      for (const m of first) await publisher.send(m);
      const c1 = await h.collect(await h.consumer(topic, consumerName));
      await until(() => c1.deliveries.length >= first.length, 'the first batch arrives');
      await c1.subscription.close();
      const marker = keyed('k', { marker: true });
      await publisher.send(marker);
      const c2 = await h.collect(await h.consumer(topic, consumerName));
      await until(() => c2.ids().includes(marker.messageId), 'the marker arrives');
      assert.deepEqual(c2.ids(), [marker.messageId], 'only the marker is delivered after resubscribing');
    });

    test('redelivers unacked messages after close and resubscribe, never committing past a gap', async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      const consumerName = h.consumerName();
      const sent = Array.from({ length: 3 }, (_, i) => keyed('k', { i }));
      for (const m of sent) await publisher.send(m);
      // The first message stays unacked; the two after it are acked.
      const c1 = await h.collect(await h.consumer(topic, consumerName), (d) =>
        d.message.messageId === sent[0]!.messageId ? 'none' : 'ack',
      );
      await until(() => c1.deliveries.length >= 3, 'the first subscription gets all three');
      await c1.subscription.close();
      const c2 = await h.collect(await h.consumer(topic, consumerName));
      await until(() => c2.deliveries.length >= 3, 'all three are delivered again');
      assert.deepEqual(
        c2.ids().slice(0, 3),
        sent.map((m) => m.messageId),
      );
    });

    test('redelivers nacked messages after close and resubscribe', async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      const consumerName = h.consumerName();
      const message = keyed('k', { nacked: true });
      await publisher.send(message);
      const c1 = await h.collect(await h.consumer(topic, consumerName), () => ({ nackDelayMs: 60_000 }));
      await until(() => c1.deliveries.length >= 1, 'the message arrives');
      await c1.subscription.close();
      const c2 = await h.collect(await h.consumer(topic, consumerName));
      await until(() => c2.deliveries.length >= 1, 'the message is redelivered');
      assert.equal(c2.deliveries[0]!.message.messageId, message.messageId);
      assert.deepEqual(c2.deliveries[0]!.message.payload, { nacked: true });
    });

    test('nack redelivers within the same subscription, then the rest of the partition in order', async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      const sent = Array.from({ length: 3 }, (_, i) => keyed('k', { i }));
      for (const m of sent) await publisher.send(m);
      const acked: string[] = [];
      const c = await h.collect(await h.consumer(topic, h.consumerName()), (d, seen) => {
        const firstTime = !seen.some((s) => s.message.messageId === d.message.messageId);
        if (d.message.messageId === sent[0]!.messageId && firstTime) return { nackDelayMs: 20 };
        if (!acked.includes(d.message.messageId)) acked.push(d.message.messageId);
        return 'ack';
      });
      await until(() => acked.length >= 3, 'all three are acked');
      assert.deepEqual(
        acked,
        sent.map((m) => m.messageId),
        'first acks follow the partition order',
      );
      const ofFirst = c.deliveries.filter((d) => d.message.messageId === sent[0]!.messageId);
      assert.ok(ofFirst.length >= 2, 'the nacked message was delivered again');
      if (features.countsDeliveryAttempts) assert.equal(ofFirst[1]!.deliveryAttempt, 2);
    });

    test('every consumer group receives every message', async (h) => {
      const topic = await factory.uniqueTopic(3);
      const publisher = await h.publisher(topic);
      const sent = Array.from({ length: 20 }, (_, i) => keyed(`key-${i}`, { i }));
      for (const m of sent) await publisher.send(m);
      const a = await h.collect(await h.consumer(topic, h.consumerName('a'), `${topic}-group-a`));
      const b = await h.collect(await h.consumer(topic, h.consumerName('b'), `${topic}-group-b`));
      const expected = sent.map((m) => m.messageId).sort();
      await until(
        () => new Set(a.ids()).size >= sent.length && new Set(b.ids()).size >= sent.length,
        'both groups get all',
      );
      assert.deepEqual([...new Set(a.ids())].sort(), expected);
      assert.deepEqual([...new Set(b.ids())].sort(), expected);
    });

    test('members of one group split the messages without loss or duplicates', async (h) => {
      const topic = await factory.uniqueTopic(features.partitions ? 3 : 1);
      const publisher = await h.publisher(topic);
      const group = `${topic}-group`;
      const a = await h.collect(await h.consumer(topic, h.consumerName('a'), group));
      const b = await h.collect(await h.consumer(topic, h.consumerName('b'), group));
      const kinds = (c: typeof a, kind: string): string[] =>
        c.deliveries
          .filter((d) => d.message.header('contract-kind') === kind)
          .map((d) => d.message.messageId);
      // Probe until both members own partitions (the group has settled), so no rebalance follows.
      for (let i = 0; ; i++) {
        const received = kinds(a, 'probe').length + kinds(b, 'probe').length;
        await publisher.send(keyed(`probe-${i}`, { probe: i }, 'probe'));
        await until(() => kinds(a, 'probe').length + kinds(b, 'probe').length > received, 'a probe arrives');
        const settled = features.partitions
          ? kinds(a, 'probe').length > 0 && kinds(b, 'probe').length > 0
          : true;
        if (settled) break;
        assert.ok(i < 200, 'both members of the group receive messages');
      }
      const sent = Array.from({ length: 30 }, (_, i) => keyed(`real-${i}`, { i }));
      for (const m of sent) await publisher.send(m);
      const all = (): string[] => [...kinds(a, 'data'), ...kinds(b, 'data')];
      await until(() => new Set(all()).size >= sent.length, 'every message arrives once');
      await holdsFor(() => all().length === sent.length, quietMs, { description: 'no duplicates' });
      assert.deepEqual(all().sort(), sent.map((m) => m.messageId).sort());
    });

    test('backpressure: no further delivery while the handler has not accepted the last one', async (h) => {
      const topic = await factory.uniqueTopic(3);
      const publisher = await h.publisher(topic);
      for (let i = 0; i < 5; i++) await publisher.send(keyed(`key-${i}`, { i }));
      const handed: string[] = [];
      const subscription = await h.subscribe(await h.consumer(topic, h.consumerName()), async (d) => {
        handed.push(d.message.messageId);
        return new Promise<void>(() => undefined); // never accepts
      });
      await until(() => handed.length >= 1, 'the first delivery arrives');
      await holdsFor(() => handed.length === 1, quietMs, { description: 'only one delivery is pending' });
      await withTimeout(subscription.close(), timeoutMs, 'close() with a handler that never accepts');
    });

    test('send after close rejects with GOMES_CLOSED; publisher close is idempotent', async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      await Promise.all([publisher.close(), publisher.close()]);
      await publisher.close();
      await assert.rejects(
        publisher.send(keyed('k', { late: true })),
        (e: unknown) => isGomesError(e) && e.code === 'GOMES_CLOSED',
      );
    });

    test('subscription stop and close are idempotent', async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      await publisher.send(keyed('k', { i: 0 }));
      const c = await h.collect(await h.consumer(topic, h.consumerName()));
      await until(() => c.deliveries.length >= 1, 'the message arrives');
      await Promise.all([c.subscription.stop(), c.subscription.stop()]);
      await Promise.all([c.subscription.close(), c.subscription.close()]);
      await withTimeout(c.subscription.close(), timeoutMs, 'a third close()');
    });

    test(
      'an undecodable record goes to <topic>.DLQ with its reason and does not block the partition',
      async (h) => {
        const topic = await factory.uniqueTopic(1);
        const publisher = await h.publisher(topic);
        await publisher.send(keyed('k', { i: 0 }));
        await factory.publishUndecodable!(topic, 'k');
        await publisher.send(keyed('k', { i: 2 }));
        const c = await h.collect(await h.consumer(topic, h.consumerName()));
        await until(() => c.deliveries.length >= 2, 'the records around the undecodable one arrive');
        assert.deepEqual(
          c.deliveries.map((d) => d.message.payload),
          [{ i: 0 }, { i: 2 }],
        );
        let letters: Message[] = [];
        await until(async () => (letters = await factory.deadLetters!(topic)).length >= 1, 'a dead letter');
        const letter = letters[0]!;
        assert.equal(letter.header('gomes.dlq.sourceTopic'), topic);
        assert.equal(letter.header('gomes.dlq.errorCode'), 'GOMES_TRANSLATION_FAILED');
        assert.ok(letter.header('gomes.dlq.reason'), 'the reason header is set');
      },
      features.deadLettersUndecodableRecords &&
        factory.publishUndecodable !== undefined &&
        factory.deadLetters !== undefined,
    );

    test(
      'a payload that cannot be serialised makes send reject with a GomesError',
      async (h) => {
        const publisher = await h.publisher(await factory.uniqueTopic(1));
        await assert.rejects(publisher.send(MessageBuilder.withPayload({ big: 10n }).build()), (e: unknown) =>
          isGomesError(e),
        );
      },
      features.rejectsUnserialisablePayloads,
    );
  });
}
