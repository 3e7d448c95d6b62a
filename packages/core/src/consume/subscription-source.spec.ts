import type { Delivery } from '../channel/consumer-channel.js';
import { PointToPointChannel } from '../channel/point-to-point-channel.js';
import { noopLogger } from '../logging/logger.js';
import type { SourceListener, SourceRecord } from '../transport/spi/partitioned-source.js';
import { FakeChannel, msg, turns, waitFor } from '../../test/support/fake-subscription-channel.js';
import { zeroCounters } from './consumer-counters.js';
import { SubscriptionSource } from './subscription-source.js';

/** A listener that records what the source hands over. */
function recordingListener(): SourceListener & {
  records: SourceRecord[];
  assignedTo: number[][];
  errors: Error[];
} {
  const records: SourceRecord[] = [];
  const assignedTo: number[][] = [];
  const errors: Error[] = [];
  return {
    records,
    assignedTo,
    errors,
    assigned: (partitions) => void assignedTo.push([...partitions]),
    revoked: async () => Promise.resolve(),
    batch: async (_partition, batch) => void records.push(...batch),
    error: (error) => void errors.push(error),
  };
}

async function started(): Promise<{
  channel: FakeChannel;
  source: SubscriptionSource;
  listener: ReturnType<typeof recordingListener>;
  counters: ReturnType<typeof zeroCounters>;
}> {
  const channel = new FakeChannel();
  const counters = zeroCounters();
  const source = new SubscriptionSource(channel, counters, noopLogger);
  const listener = recordingListener();
  await source.start(listener);
  return { channel, source, listener, counters };
}

describe('SubscriptionSource', () => {
  it('assigns one pseudo-partition and hands each delivery over as a record with its key, position and message', async () => {
    const { channel, source, listener } = await started();
    expect(source.settlement).toBe('per-record');
    expect(listener.assignedTo).toEqual([[0]]);
    const [a, b] = [msg({ n: 1 }), msg({ n: 2 })];
    channel.push(a, 'ka');
    channel.push(b, 'kb');
    await waitFor(() => listener.records.length === 2);
    expect(listener.records.map((r) => [r.offset, r.key, r.position?.offset])).toEqual([
      [0n, 'ka', '0'],
      [1n, 'kb', '1'],
    ]);
    expect(listener.records[0]?.decode()).toEqual({ ok: true, message: a });
    await source.close();
  });

  it('settle ack acks the delivery, requeue nacks it; each once', async () => {
    const { channel, source, listener } = await started();
    const [a, b] = [msg({ n: 1 }), msg({ n: 2 })];
    channel.push(a);
    channel.push(b);
    await waitFor(() => listener.records.length === 2);
    await source.settle(0, listener.records[0] as SourceRecord, 'ack');
    await source.settle(0, listener.records[1] as SourceRecord, 'requeue');
    await source.settle(0, listener.records[0] as SourceRecord, 'requeue');
    expect(channel.acks).toEqual([a.messageId]);
    expect(channel.nacks).toEqual([{ id: b.messageId, delayMs: 0 }]);
    await source.close();
    expect(channel.nacks).toHaveLength(1);
  });

  it('while paused, the next delivery waits for room before it is accepted (backpressure)', async () => {
    const { channel, source, listener } = await started();
    source.pause();
    channel.push(msg({ n: 1 }));
    channel.push(msg({ n: 2 }));
    await waitFor(() => channel.handedOver === 1);
    await turns();
    expect(listener.records).toHaveLength(0);
    expect(channel.handedOver).toBe(1);
    source.resume();
    await waitFor(() => listener.records.length === 2);
    await source.close();
  });

  it('close nacks every delivery not acked, last first, stops and closes the subscription', async () => {
    const { channel, source, listener } = await started();
    const [a, b, c] = [msg({ n: 1 }), msg({ n: 2 }), msg({ n: 3 })];
    [a, b, c].forEach((m) => channel.push(m));
    await waitFor(() => listener.records.length === 3);
    await source.settle(0, listener.records[1] as SourceRecord, 'ack');
    await source.close();
    expect(channel.acks).toEqual([b.messageId]);
    expect(channel.nacks.map((n) => n.id)).toEqual([c.messageId, a.messageId]);
    expect(channel.stopped).toBe(true);
    expect(channel.closed).toBe(true);
  });

  it('close gives the unsettled deliveries back in their order: a point-to-point channel redelivers them in send order', async () => {
    const channel = new PointToPointChannel('commands');
    const source = new SubscriptionSource(channel, zeroCounters(), noopLogger);
    const listener = recordingListener();
    await source.start(listener);
    const sent = [msg({ n: 1 }), msg({ n: 2 }), msg({ n: 3 })];
    const sends = sent.map(async (m) => channel.send(m));
    await waitFor(() => listener.records.length === 3);
    await Promise.all(sends);
    await source.close();
    // The next subscriber comes later (a restart): the given-back messages are queued by then.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next: Delivery[] = [];
    await channel.subscribe(async (d) => void next.push(d));
    await waitFor(() => next.length === 3);
    expect(next.map((d) => d.message.messageId)).toEqual(sent.map((m) => m.messageId));
    expect(next.map((d) => d.deliveryAttempt)).toEqual([2, 2, 2]);
    await channel.close();
  });

  it('after stopIntake, a delivery waiting for room is nacked unprocessed, never handed to the engine', async () => {
    const { channel, source, listener, counters } = await started();
    source.pause();
    const waiting = msg({ n: 1 });
    channel.push(waiting);
    await waitFor(() => channel.handedOver === 1);
    await source.stopIntake();
    expect(listener.records).toHaveLength(0);
    expect(channel.nacks).toEqual([{ id: waiting.messageId, delayMs: 0 }]);
    expect(counters.received).toBe(1);
    expect(source.pending()).toEqual({ subscriptionStopPending: false, unsettled: [] });
    await source.close();
  });

  it("reports the subscription's errors as source errors, and refuses to seek", async () => {
    const { channel, source, listener } = await started();
    const crash = new Error('client died');
    channel.options?.onError?.(crash);
    expect(listener.errors).toEqual([crash]);
    expect(() => source.seek()).toThrow(expect.objectContaining({ code: 'GOMES_NOT_SUPPORTED' }));
    await source.close();
  });
});
