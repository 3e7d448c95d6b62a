import { MessageBuilder } from '../message/message-builder.js';
import { RecordingPublisherChannel, createTestDelivery, holdsFor, waitFor, withTimeout } from './index.js';

describe('testing kit', () => {
  it('waitFor returns the first truthy value and times out with the description', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : 0), 1000, { intervalMs: 1 })).resolves.toBe(3);
    await expect(waitFor(() => false, 20, { description: 'never' })).rejects.toThrow(
      'waitFor timed out after 20 ms: never',
    );
  });

  it('holdsFor fails as soon as the condition breaks', async () => {
    await holdsFor(() => true, 10);
    let ok = true;
    setTimeout(() => (ok = false), 5);
    await expect(holdsFor(() => ok, 1000)).rejects.toThrow('Condition stopped holding');
  });

  it('withTimeout rejects with GOMES_ABORTED', async () => {
    await expect(withTimeout(new Promise(() => undefined), 5, 'x')).rejects.toMatchObject({
      code: 'GOMES_ABORTED',
    });
    await expect(withTimeout(Promise.resolve(1), 50)).resolves.toBe(1);
  });

  it('RecordingPublisherChannel records, fails on demand and honours close', async () => {
    const channel = new RecordingPublisherChannel('dlq');
    const m = MessageBuilder.withPayload({ a: 1 }).build();
    await channel.send(m);
    channel.failNext(1);
    await expect(channel.send(m)).rejects.toMatchObject({ code: 'GOMES_PUBLISH_FAILED' });
    await channel.send(m);
    channel.failWith(new Error('down'));
    await expect(channel.send(m)).rejects.toThrow('down');
    channel.failWith(undefined);
    expect(await channel.waitForMessages(2)).toHaveLength(2);
    expect(channel.payloads).toEqual([{ a: 1 }, { a: 1 }]);
    expect(channel.sendCalls).toBe(4);
    await Promise.all([channel.close(), channel.close()]);
    expect(channel.closeCalls).toBe(2);
    await expect(channel.send(m)).rejects.toMatchObject({ code: 'GOMES_CLOSED' });
  });

  it('createTestDelivery records the first settlement', async () => {
    const d = createTestDelivery(MessageBuilder.withPayload(1).channelName('orders').build(), {
      deliveryAttempt: 2,
    });
    expect(d.position.channel).toBe('orders');
    expect(d.deliveryAttempt).toBe(2);
    await d.nack({ delayMs: 5 });
    await d.ack();
    expect(d.nacked).toBe(true);
    expect(d.acked).toBe(false);
    expect(await d.settled).toEqual({ kind: 'nack', options: { delayMs: 5 } });
    expect(d.calls).toHaveLength(2);
  });
});
