// Unit tests of an ephemeral reader (asEphemeralReader, used for reply consumers) with a fake driver:
// where it is positioned on every join, and that it never commits to the group.
import { noopLogger, type Delivery } from '@gomes/core';
import { waitFor } from '@gomes/core/testing';
import { fakeAdmin, fakeDriver, tick } from '../test/support/fake-kafka-driver.js';
import { KafkaConsumerChannel } from './kafka-consumer-channel.js';
import { KafkaConsumerChannelBuilder } from './kafka-consumer-channel-builder.js';
import { KafkaConnection } from './kafka-connection.js';
import { DEFAULT_KAFKA_CONSUMER_OPTIONS } from './kafka-consumer-options.js';

function ephemeralChannel(endOffsets: Record<number, string>) {
  const fake = fakeDriver();
  const counter = { created: 0, disconnected: 0 };
  fake.driver.createAdmin = () => ({
    ...fakeAdmin(counter),
    fetchEndOffsets: async () =>
      Object.entries(endOffsets).map(([partition, offset]) => ({ partition: Number(partition), offset })),
  });
  const channel = new KafkaConsumerChannel({
    driver: fake.driver,
    consumerName: 'replies',
    topic: 't',
    groupId: 'replies.me.abc',
    deadLetterTopic: 't.DLQ',
    options: { ...DEFAULT_KAFKA_CONSUMER_OPTIONS, startOffset: 'earliest', commitIntervalMs: 0 },
    logger: noopLogger,
    ephemeral: true,
  });
  return { channel, counter, ...fake };
}

describe('ephemeral reader (fake driver)', () => {
  it('is positioned at the end read before joining, resumes from its acked positions on every join, and never commits', async () => {
    const { channel, consumers, counter } = ephemeralChannel({ 0: '40', 1: '7' });
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    expect(counter).toEqual({ created: 1, disconnected: 1 }); // end offsets read, admin closed
    const c = consumers[0]!;
    // Seeks registered during the join, before any fetch.
    expect(c.seeks).toEqual([
      [0, '40'],
      [1, '7'],
    ]);

    await c.deliver(0, [40, 41]);
    await c.deliver(1, [7]);
    await waitFor(() => got.length === 3);
    for (const d of got) if (d.position.partition === 0) await d.ack(); // 1:7 stays unacked

    // A rebalance; same member, partitions kept: reading continues after what was fetched.
    c.listener.onRebalancing?.();
    await tick();
    c.seeks.length = 0;
    c.join([0, 1]);
    expect(c.seeks).toEqual([
      [0, '42'],
      [1, '8'],
    ]);
    // Evicted, joined as a new member: nothing kept; from the acked positions (1:7 is read again).
    c.listener.onRebalancing?.();
    await tick();
    c.seeks.length = 0;
    c.join([0, 1], 'member-2');
    expect(c.seeks).toEqual([
      [0, '42'],
      [1, '7'],
    ]);
    await channel.close();
    expect(c.commits).toEqual([]);
  });

  it('the builder makes a group of its own per build, starting at the end and committing nothing', async () => {
    const fake = fakeDriver();
    const connection = new KafkaConnection('kafka', ['localhost:1'], { driverFactory: () => fake.driver });
    await connection.connect();
    const builder = new KafkaConsumerChannelBuilder('kafka', 't', 'checkout.replies')
      .withGroupId('checkout')
      .withStartOffset('latest')
      .withCommitInterval(5000);
    const reader = builder.asEphemeralReader('pod-1');
    expect(builder.ephemeralReaderId).toBeUndefined(); // immutable
    expect(reader.validate()).toEqual([]);
    const context = { connection, logger: noopLogger };
    const [one, two, shared] = await Promise.all([
      reader.build(context),
      reader.build(context),
      builder.build(context),
    ]);
    expect(one.groupId).toMatch(/^checkout\.pod-1\.[0-9a-f]{12}$/);
    expect(two.groupId).not.toBe(one.groupId);
    expect(shared.groupId).toBe('checkout');
    // The fake topic had partition 0 only (end offset 0) when the reader started; partition 1,
    // assigned at the join, is newer: it is not sought, so the driver reads it from its beginning.
    await one.subscribe(async (d) => d.ack());
    expect(fake.consumers[0]!.seeks).toEqual([[0, '0']]);
    await one.close();
    await connection.disconnect();
  });
});
