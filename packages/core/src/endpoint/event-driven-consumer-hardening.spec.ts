import { recordingLogger } from '../../test/support/recording-logger.js';
import { getEventListeners } from 'node:events';
import { holdsFor, withTimeout } from '../testing/wait-for.js';
import {
  FakeChannel,
  gate,
  msg,
  publisher,
  setup,
  waitFor,
  runningConsumers,
} from '../../test/support/fake-subscription-channel.js';

// Hardening of a consumer on a subscribe-only channel (through the engine's subscription source):
// handlers that ignore their signal, a hung transport, failed acks and nacks.
describe('EventDrivenConsumer on a subscribe-only channel: hardening', () => {
  const { running, start } = runningConsumers();

  it('keeps same-key order when a timed-out handler ignores its signal: the next message waits for it', async () => {
    const logger = recordingLogger();
    const dlq = publisher('orders.dlq');
    const events: string[] = [];
    const first = gate();
    const { channel, consumer: base } = setup({
      logger,
      endpoint: { deadLetterChannelName: 'orders.dlq' },
      publishers: [dlq],
      handler: async (m) => {
        const n = (m.payload as { n: number }).n;
        events.push(`start ${n}`);
        if (n === 1) await first.promise; // ignores ctx.signal
        events.push(`end ${n}`);
        return m;
      },
    });
    const consumer = await start(base.withAmountOfProcessors(2).withMessageProcessingTimeout(20));
    channel.push(msg({ n: 1 }), 'K');
    channel.push(msg({ n: 2 }), 'K');
    await waitFor(() => dlq.sent.length === 1); // message 1 timed out and was dead-lettered (acked)
    await holdsFor(() => !events.includes('start 2'), 50, {
      description: 'message 2 of the same key does not start while the stale attempt runs',
    });
    expect(consumer.stats.inFlight).toBe(2);
    first.open();
    await waitFor(() => channel.acks.length === 2);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(consumer.stats).toMatchObject({ staleAttempts: 1, deadLettered: 1, succeeded: 1 });
    expect(logger.lines.map((l) => l.message)).toContain(
      'A timed-out or aborted attempt settled after it was given up (handlers should honour ctx.signal)',
    );
  });

  it('retries a timed-out message only after its stale attempt settled', async () => {
    const events: string[] = [];
    let calls = 0;
    const { channel, consumer: base } = setup({
      endpoint: { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1, jitter: 0 } },
      handler: async (m, ctx) => {
        const n = ++calls;
        events.push(`start ${n}`);
        if (n === 1) {
          // Keeps running 5 ms after its signal aborted: longer than the 1 ms retry delay.
          await new Promise<void>((resolve) =>
            ctx.signal.addEventListener('abort', () => setTimeout(resolve, 5), { once: true }),
          );
        }
        events.push(`end ${n}`);
        return m;
      },
    });
    const consumer = await start(base.withMessageProcessingTimeout(50));
    channel.push(msg());
    await waitFor(() => channel.acks.length === 1);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(consumer.stats).toMatchObject({ retried: 1, succeeded: 1, staleAttempts: 1 });
  });

  it('stop is bounded when the transport nack and subscription stop never resolve', async () => {
    const logger = recordingLogger();
    const channel = new FakeChannel();
    const subscribe = channel.subscribe.bind(channel);
    channel.subscribe = async (handler, options) => {
      const inner = await subscribe(
        async (d) => handler({ ...d, nack: async () => new Promise<never>(() => undefined) }),
        options,
      );
      return { stop: async () => new Promise<never>(() => undefined), close: inner.close };
    };
    let started = false;
    const { consumer: base } = setup({
      logger,
      channel,
      handler: async () => {
        started = true;
        return new Promise<never>(() => undefined); // ignores its signal
      },
    });
    const consumer = await start(base.withMessageProcessingTimeout(0).withStopGrace(30));
    channel.push(msg());
    await waitFor(() => started);
    await withTimeout(consumer.stop(10), 2000, 'stop() with a hung transport');
    expect(consumer.state).toBe('stopped');
    const abandoned = logger.lines.find(
      (l) => l.message === 'Stop grace expired; abandoning the transport calls still pending',
    );
    expect(abandoned?.level).toBe('error');
    expect(abandoned?.fields).toMatchObject({ stopGraceMs: 30, subscriptionStopPending: true });
    expect(abandoned?.fields['abandonedDeliveries']).toHaveLength(1);
  });

  it('validates the stop budget; Infinity waits for in-flight messages without a timer', async () => {
    const g = gate();
    const { channel, consumer } = setup({ handler: async (m) => g.promise.then(() => m) });
    await start(consumer);
    for (const bad of [Number.NaN, -1, 1.5, 2 ** 31]) {
      await expect(consumer.stop(bad)).rejects.toMatchObject({ code: 'GOMES_CONFIGURATION' });
    }
    expect(consumer.state).toBe('running');
    channel.push(msg());
    await waitFor(() => channel.handedOver === 1);
    let stopped = false;
    const stopping = consumer.stop(Infinity).then(() => (stopped = true));
    await holdsFor(() => !stopped, 20, { description: 'stop(Infinity) waits for the in-flight message' });
    g.open();
    await stopping;
    expect(channel.acks).toHaveLength(1);
    expect(consumer.state).toBe('stopped');
  });

  it('logs and counts a failed ack; the later messages of the key go on (the transport redelivers the first)', async () => {
    const logger = recordingLogger();
    const handled: number[] = [];
    const { channel, consumer: base } = setup({
      logger,
      handler: async (m) => {
        handled.push((m.payload as { n: number }).n);
        return m;
      },
    });
    const consumer = await start(base.withAmountOfProcessors(2));
    const first = msg({ n: 1 });
    const second = msg({ n: 2 });
    channel.failAck.add(first.messageId);
    channel.push(first, 'K');
    channel.push(second, 'K');
    await waitFor(() => channel.acks.length === 1 && consumer.stats.ackFailures === 1);
    expect(handled).toEqual([1, 2]);
    expect(channel.acks).toEqual([second.messageId]);
    expect(channel.nacks).toEqual([]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'Ack failed; the transport will redeliver the message',
        fields: expect.objectContaining({
          messageId: first.messageId,
          errorMessage: 'broker refused the ack',
        }),
      }),
    );
  });

  it('logs and counts a failed nack at stop', async () => {
    const logger = recordingLogger();
    const { channel, consumer } = setup({
      logger,
      handler: async () => Promise.reject(new Error('handler failed')),
    });
    await start(consumer);
    const m = msg();
    channel.failNack.add(m.messageId);
    channel.push(m);
    await waitFor(() => consumer.stats.failed >= 1);
    await consumer.stop(100);
    expect(consumer.stats).toMatchObject({ nackFailures: 1, acked: 0 });
    expect(channel.nacks).toEqual([]);
    expect(logger.lines.map((l) => l.message)).toContain(
      'Nack failed; the transport redelivers unacknowledged messages on its own',
    );
  });

  it('removes the abort listener of the run signal when it stops', async () => {
    const { consumer } = setup();
    const ac = new AbortController();
    running.push(consumer);
    await consumer.run(ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    await consumer.stop();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
