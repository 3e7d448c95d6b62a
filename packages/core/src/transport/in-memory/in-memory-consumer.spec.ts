import type { ChannelConnection } from '../../channel/channel-connection.js';
import type { Delivery, Subscription } from '../../channel/consumer-channel.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import { holdsFor, waitFor } from '../../testing/wait-for.js';
import { InMemoryBroker } from './in-memory-broker.js';
import { InMemoryConnection } from './in-memory-connection.js';
import {
  inMemoryConsumer,
  type InMemoryConsumerChannelBuilder,
} from './in-memory-consumer-channel-builder.js';
import type { InMemoryConsumerChannel } from './in-memory-consumer-channel.js';
import { inMemoryPublisher } from './in-memory-publisher-channel-builder.js';
import { PARTITION_KEY_HEADER } from '../../message/message-headers.js';
import { Message } from '../../message/message.js';
import { DeadLetterHeaders, readDeadLetterEnvelope } from '../../message/dead-letter-envelope.js';
import { recordingLogger } from '../../../test/support/recording-logger.js';

const keyed = (key: string, payload: unknown) =>
  MessageBuilder.withPayload(payload).header(PARTITION_KEY_HEADER, key).build();

describe('in-memory consumer and publisher', () => {
  let broker: InMemoryBroker;
  let connection: InMemoryConnection;
  const open: Subscription[] = [];

  beforeEach(async () => {
    broker = new InMemoryBroker();
    connection = new InMemoryConnection('memory', { broker });
    await connection.connect();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map(async (s) => s.close()));
    await connection.disconnect();
  });

  const build = async (builder: InMemoryConsumerChannelBuilder) =>
    (await builder.build({ connection, logger: noopLogger })) as InMemoryConsumerChannel;
  const collect = async (
    channel: InMemoryConsumerChannel,
    settle: (d: Delivery) => Promise<void> = async (d) => d.ack(),
  ) => {
    const got: Delivery[] = [];
    const subscription = await channel.subscribe(async (d) => {
      got.push(d);
      await settle(d);
    });
    open.push(subscription);
    return { got, subscription, payloads: () => got.map((d) => d.message.payload) };
  };
  const publish = async (topic: string, messages: ReturnType<typeof keyed>[], partitions = 1) => {
    const publisher = await inMemoryPublisher('memory', topic)
      .withPartitions(partitions)
      .build({ connection, logger: noopLogger });
    for (const m of messages) await publisher.send(m);
    return publisher;
  };

  describe('builders', () => {
    it('are immutable and validate every transport option at once', () => {
      const base = inMemoryConsumer('memory', 'orders', 'billing');
      const tuned = base.withGroupId('g').withQueueCapacity(5).withStartOffset('latest').withRetryTimes(10);
      expect(base.options).toEqual({ groupId: 'billing', queueCapacity: 100, startOffset: 'earliest' });
      expect(tuned.options).toEqual({ groupId: 'g', queueCapacity: 5, startOffset: 'latest' });
      expect(tuned.endpointOptions.retry).toEqual({ delaysMs: [10] });
      expect(Object.isFrozen(tuned)).toBe(true);
      const bad = base
        .withGroupId('')
        .withQueueCapacity(0)
        .withStartOffset('middle' as never);
      expect(bad.validate()).toHaveLength(3);
      expect(inMemoryPublisher('memory', 't').withPartitions(0).validate()).toEqual([
        'publisher "t": partitions must be an integer between 1 and 10000 (got 0)',
      ]);
    });

    it('withMaxUnsettledDeliveries names the bound; the deprecated withQueueCapacity still sets it', () => {
      const base = inMemoryConsumer('memory', 'orders', 'billing');
      expect(base.withMaxUnsettledDeliveries(7).options.queueCapacity).toBe(7);
      expect(base.withQueueCapacity(9).options.queueCapacity).toBe(9);
      expect(base.withMaxUnsettledDeliveries(0).validate()).toEqual([
        expect.stringMatching(/queueCapacity must be an integer >= 1/),
      ]);
    });

    it('accept only in-memory connections', async () => {
      const other: ChannelConnection = {
        name: 'kafka',
        validate: () => [],
        connect: async () => undefined,
        disconnect: async () => undefined,
      };
      expect(inMemoryConsumer('memory', 't', 'c').acceptsConnection(connection)).toBe(true);
      expect(inMemoryConsumer('kafka', 't', 'c').acceptsConnection(other)).toBe(false);
      expect(inMemoryPublisher('kafka', 't').acceptsConnection(other)).toBe(false);
      await expect(
        inMemoryPublisher('kafka', 't').build({ connection: other, logger: noopLogger }),
      ).rejects.toMatchObject({
        code: 'GOMES_ILLEGAL_STATE',
      });
      await expect(build(inMemoryConsumer('memory', 't', 'c').withQueueCapacity(-1))).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    });

    it('publisher creates the topic with its partitions and stamps channelName and replyTo, keeping messageId', async () => {
      const publisher = await inMemoryPublisher('memory', 'orders')
        .withPartitions(4)
        .withReplyChannelName('orders.replies')
        .build({ connection, logger: noopLogger });
      expect(broker.partitionCount('orders')).toBe(4);
      const sent = keyed('k', { a: 1 });
      await publisher.send(sent);
      const [record] = broker.records('orders', recordPartition('orders'));
      const stored = broker.decode(record!);
      expect(stored.messageId).toBe(sent.messageId);
      expect(stored.channelName).toBe('orders');
      expect(stored.replyTo).toBe('orders.replies');
    });
  });

  function recordPartition(topic: string): number {
    for (let p = 0; p < broker.partitionCount(topic); p++) if (broker.endOffset(topic, p) > 0n) return p;
    return 0;
  }

  it('redelivers uncommitted messages after a restart, counting delivery attempts', async () => {
    await publish('t', [keyed('k', 0), keyed('k', 1)]);
    const channel = await build(inMemoryConsumer('memory', 't', 'c'));
    const first = await collect(channel, async () => undefined); // never settles
    await waitFor(() => first.got.length === 2);
    await first.subscription.close();
    expect(broker.committedOffset('c', 't', 0)).toBe(0n);
    const second = await collect(channel);
    await waitFor(() => second.got.length === 2);
    expect(second.payloads()).toEqual([0, 1]);
    expect(second.got.map((d) => d.deliveryAttempt)).toEqual([2, 2]);
    expect(broker.committedOffset('c', 't', 0)).toBe(2n);
  });

  it('refuses a second subscription while one is open', async () => {
    const channel = await build(inMemoryConsumer('memory', 't', 'c'));
    const s = await collect(channel);
    await expect(channel.subscribe(async () => undefined)).rejects.toMatchObject({
      code: 'GOMES_ILLEGAL_STATE',
    });
    await s.subscription.close();
    await collect(channel);
  });

  it('moves unacked messages of a revoked partition to the member that joins', async () => {
    await publish('t', [keyed('a', 'a0'), keyed('b', 'b0'), keyed('c', 'c0'), keyed('d', 'd0')], 2);
    const one = await collect(
      await build(inMemoryConsumer('memory', 't', 'one').withGroupId('g')),
      async () => undefined,
    );
    await waitFor(() => one.got.length === 4);
    const two = await collect(await build(inMemoryConsumer('memory', 't', 'two').withGroupId('g')));
    // "two" got a partition and, since nothing was committed, every message in it.
    await waitFor(() => two.got.length > 0);
    const moved = new Set(two.got.map((d) => d.position.partition));
    expect(moved.size).toBe(1);
    expect(two.got.map((d) => d.message.messageId).sort()).toEqual(
      one.got
        .filter((d) => moved.has(d.position.partition))
        .map((d) => d.message.messageId)
        .sort(),
    );
    // Late acks from the old owner are ignored.
    for (const d of one.got) await d.ack();
    const [p] = [...moved];
    expect(broker.committedOffset('g', 't', p!)).toBe(broker.endOffset('t', p!));
  });

  it('limits unsettled deliveries to the queue capacity', async () => {
    await publish(
      't',
      [0, 1, 2, 3, 4].map((i) => keyed(`k${i}`, i)),
      3,
    );
    const c = await collect(
      await build(inMemoryConsumer('memory', 't', 'c').withQueueCapacity(2)),
      async () => undefined,
    );
    await waitFor(() => c.got.length === 2);
    await holdsFor(() => c.got.length === 2, 50);
    await c.got[0]!.ack();
    await waitFor(() => c.got.length === 3);
  });

  it("'latest' starts after the messages sent before joining, and pins that position", async () => {
    await publish('t', [keyed('k', 'old')]);
    const channel = await build(inMemoryConsumer('memory', 't', 'c').withStartOffset('latest'));
    const c = await collect(channel);
    expect(broker.committedOffset('c', 't', 0)).toBe(1n);
    await publish('t', [keyed('k', 'new')]);
    await waitFor(() => c.got.length === 1);
    expect(c.payloads()).toEqual(['new']);
  });

  it('nack rewinds the partition after the delay; the rest of the partition comes again in order', async () => {
    await publish('t', [keyed('k', 0), keyed('k', 1), keyed('k', 2)]);
    const c = await collect(await build(inMemoryConsumer('memory', 't', 'c')), async () => undefined);
    await waitFor(() => c.got.length === 3);
    await c.got[1]!.nack({ delayMs: 20 });
    await c.got[2]!.ack(); // stale: invalidated by the rewind
    await c.got[0]!.ack();
    expect(broker.committedOffset('c', 't', 0)).toBe(1n);
    await waitFor(() => c.got.length === 5);
    expect(c.payloads()).toEqual([0, 1, 2, 1, 2]);
    expect(c.got.map((d) => d.deliveryAttempt)).toEqual([1, 1, 1, 2, 2]);
    expect(c.got[3]!.position).toEqual({ channel: 't', partition: 0, offset: '1', group: 'c' });
  });

  it('after stop() hands nothing over but still commits acks; close() leaves the group', async () => {
    await publish('t', [keyed('k', 0)]);
    const c = await collect(await build(inMemoryConsumer('memory', 't', 'c')), async () => undefined);
    await waitFor(() => c.got.length === 1);
    await c.subscription.stop();
    await publish('t', [keyed('k', 1)]);
    await c.got[0]!.ack();
    expect(broker.committedOffset('c', 't', 0)).toBe(1n);
    await holdsFor(() => c.got.length === 1, 30);
    await c.subscription.close();
    expect(broker.groupAssignments('c', 't').size).toBe(0);
  });

  it('reports a rejecting handler through onError and redelivers the message', async () => {
    await publish('t', [keyed('k', 0)]);
    const channel = await build(inMemoryConsumer('memory', 't', 'c'));
    const errors: Error[] = [];
    let calls = 0;
    const s = await channel.subscribe(
      async (d) => {
        if (++calls === 1) throw new Error('no room');
        await d.ack();
      },
      { onError: (e) => errors.push(e) },
    );
    open.push(s);
    await waitFor(() => calls === 2);
    expect(errors.map((e) => e.message)).toEqual(['no room']);
  });

  it('dead-letters an undecodable record to <topic>.DLQ, keeps the partition going and commits past it', async () => {
    const good = keyed('k', { n: 1 });
    const bad = new Message({ n: 2 }, { ...keyed('k', { n: 2 }).headers, timestamp: 'not-a-time' });
    await publish('t', [good]);
    broker.publish('t', bad);
    await publish('t', [keyed('k', { n: 3 })]);
    const logger = recordingLogger();
    const channel = (await inMemoryConsumer('memory', 't', 'c').build({
      connection,
      logger,
    })) as InMemoryConsumerChannel;
    const errors: Error[] = [];
    const got: Delivery[] = [];
    const s = await channel.subscribe(
      async (d) => {
        got.push(d);
        await d.ack();
      },
      { onError: (e) => errors.push(e) },
    );
    open.push(s);
    await waitFor(() => broker.committedOffset('c', 't', 0) === 3n, 2000, {
      description: 'the committed offset advances past the undecodable record',
    });
    expect(got.map((d) => d.position.offset)).toEqual(['0', '2']);
    expect(s.unsettled).toBe(0);

    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'GOMES_TRANSLATION_FAILED' });
    const warning = logger.lines.find((l) => l.message === 'Undecodable record dead-lettered');
    expect(warning).toMatchObject({
      level: 'warn',
      fields: {
        consumer: 'c',
        channel: 't',
        partition: 0,
        offset: '1',
        group: 'c',
        deadLetterChannel: 't.DLQ',
      },
    });

    const [dead] = broker.records('t.DLQ', 0);
    const stored = broker.records('t', 0)[1]!;
    const letter = broker.decode(dead!);
    expect(letter.messageType).toBe('Document');
    expect(letter.channelName).toBe('t.DLQ');
    expect(letter.payload).toBe(stored.value);
    expect(dead!.key).toBe('k');
    expect(letter.header(DeadLetterHeaders.ERROR_CODE)).toBe('GOMES_TRANSLATION_FAILED');
    expect(letter.header('gomes.dlq.reason')).toBe(errors[0]!.message);
    expect(letter.header('gomes.dlq.sourceTopic')).toBe('t');
    expect(letter.header('gomes.dlq.sourceOffset')).toBe('1');
    expect(letter.header('gomes.dlq.groupId')).toBe('c');
    expect(readDeadLetterEnvelope(letter)).toMatchObject({
      errorMessage: errors[0]!.message,
      retriable: false,
      originChannel: 't',
      originPartition: 0,
      originOffset: '1',
      consumer: 'c',
    });
  });
});
