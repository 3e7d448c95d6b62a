import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, isGomesError } from '../errors/gomes-error.js';
import {
  gate,
  msg,
  setup,
  turns,
  waitFor,
  runningConsumers,
} from '../../test/support/fake-subscription-channel.js';

// Lifecycle of a consumer on a subscribe-only channel (through the engine's subscription source):
// backpressure, stop, stopOnError, transport errors, validation.
describe('EventDrivenConsumer on a subscribe-only channel: lifecycle', () => {
  const { running, start } = runningConsumers();

  it('bounds accepted deliveries to the queue capacity (backpressure)', async () => {
    const g = gate();
    const { channel, consumer: base } = setup({ handler: async (m) => g.promise.then(() => m) });
    const consumer = await start(base.withAmountOfProcessors(1).withQueueCapacity(3));
    for (let i = 0; i < 10; i++) channel.push(msg({ i }), `k${i}`);
    await waitFor(() => channel.handedOver === 4);
    await turns();
    expect(channel.handedOver).toBe(4); // 3 accepted + 1 waiting for room
    expect(consumer.stats.inFlight).toBe(3); // the accepted ones
    expect(channel.acks).toEqual([]);
    g.open();
    await waitFor(() => channel.acks.length === 10);
  });

  it('stop lets in-flight messages finish, accepted-but-unstarted ones included (no gap), then closes', async () => {
    const g = gate();
    let started = 0;
    const { channel, consumer } = setup({
      handler: async (m) => {
        started++;
        await g.promise;
        return m;
      },
    });
    await start(consumer);
    const [first, second] = [msg({ n: 1 }), msg({ n: 2 })];
    channel.push(first, 'k');
    channel.push(second, 'k');
    await waitFor(() => started === 1 && channel.handedOver === 2);
    let stopped = false;
    const stopping = consumer.stop(5000).then(() => (stopped = true));
    await turns();
    expect(consumer.state).toBe('stopping');
    expect(stopped).toBe(false);
    expect(channel.stopped).toBe(true);
    g.open();
    await stopping;
    expect(channel.acks).toEqual([first.messageId, second.messageId]);
    expect(channel.nacks).toEqual([]);
    expect(started).toBe(2);
    expect(channel.closed).toBe(true);
    expect(consumer.state).toBe('stopped');
    await consumer.done;
  });

  it('aborts in-flight messages when the stop budget expires and nacks them with the accepted ones not started (never acked)', async () => {
    let signal: AbortSignal | undefined;
    let started = 0;
    const { channel, consumer: base } = setup({
      handler: async (_m, ctx) => {
        started++;
        signal = ctx.signal;
        return new Promise<never>(() => undefined); // ignores its signal
      },
    });
    const consumer = await start(base.withMessageProcessingTimeout(0));
    const [m, queued] = [msg({ n: 1 }), msg({ n: 2 })];
    channel.push(m);
    channel.push(queued);
    await waitFor(() => signal !== undefined && channel.handedOver === 2);
    await Promise.all([consumer.stop(20), consumer.stop(60_000)]); // the second call shares the first
    expect(signal?.aborted).toBe(true);
    expect(started).toBe(1);
    // Last first: each nack puts its message back at the head of a queue, so they come back in order.
    expect(channel.nacks).toEqual([
      { id: queued.messageId, delayMs: 0 },
      { id: m.messageId, delayMs: 0 },
    ]);
    expect(channel.acks).toEqual([]);
    expect(channel.closed).toBe(true);
    expect(consumer.state).toBe('stopped');
  });

  it('a consumer stopping on error (stopOnError) nacks accepted deliveries unprocessed', async () => {
    const g = gate();
    const handled: unknown[] = [];
    const { channel, consumer: base } = setup({
      handler: async (m) => {
        if ((m.payload as { n: number }).n === 1) {
          await g.promise;
          throw new Error('boom');
        }
        handled.push(m.payload);
        return m;
      },
    });
    const consumer = await start(base.withStopOnError(true).withAmountOfProcessors(1).withQueueCapacity(3));
    const [failing, next] = [msg({ n: 1 }), msg({ n: 2 })];
    channel.push(failing, 'a');
    channel.push(next, 'b');
    await waitFor(() => channel.handedOver === 2);
    g.open();
    await consumer.done;
    expect(consumer.state).toBe('crashed');
    expect(handled).toEqual([]);
    expect(channel.nacks.map((n) => n.id)).toEqual([next.messageId, failing.messageId]); // last first
  });

  it('stopOnError: a failed message stops the consumer as crashed; it is nacked, never acked', async () => {
    const errors: Error[] = [];
    const { channel, consumer: base } = setup({
      handler: async () => Promise.reject(new Error('boom')),
      onError: (e) => errors.push(e),
    });
    const consumer = await start(base.withStopOnError(true));
    channel.push(msg());
    await consumer.done;
    expect(consumer.state).toBe('crashed');
    expect(channel.nacks).toHaveLength(1);
    expect(channel.closed).toBe(true);
    expect(isGomesError(consumer.error) && consumer.error.code).toBe('GOMES_CONSUMER_CRASHED');
    expect(errors).toEqual([consumer.error]);
  });

  it('logs, counts and reports subscription errors; with stopOnError they crash the consumer', async () => {
    const errors: Error[] = [];
    const { channel, consumer: base } = setup({ onError: (e) => errors.push(e) });
    const consumer = await start(base.withStopOnError(true));
    const crash = new GomesError('CONSUMER_CRASHED', 'client died');
    channel.options?.onError?.(crash);
    await consumer.done;
    expect(errors).toEqual([crash]);
    expect(consumer.stats.subscriptionErrors).toBe(1);
    expect(consumer.state).toBe('crashed');
    expect(consumer.error).toBe(crash);
  });

  it('validates every option at run and refuses to run twice or to change options once running', async () => {
    const { consumer: base } = setup({
      endpoint: { deadLetterChannelName: 'missing', retry: { maxAttempts: 0 } },
    });
    const consumer = base
      .withAmountOfProcessors(0)
      .withMessageProcessingTimeout(-5)
      .withQueueCapacity(0)
      .withMaxBufferedBytesPerPartition(0);
    const error: unknown = await consumer.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toHaveLength(6);
    expect((error as ConfigurationError).problems).toContain(
      `maxBufferedBytesPerPartition must be an integer between 1 and ${Number.MAX_SAFE_INTEGER} (got 0)`,
    );
    expect(consumer.state).toBe('idle');

    const ok = setup().consumer;
    await start(ok);
    await expect(ok.run()).rejects.toThrow(/cannot run/);
    expect(() => ok.withAmountOfProcessors(2)).toThrow(GomesError);
  });

  it('with* returns a configured copy and leaves the original unchanged; running the original then fails', async () => {
    const { channel, consumer: original } = setup();
    const before = original.options;
    const copy = original.withAmountOfProcessors(3).withStopOnError(true);
    expect(copy).not.toBe(original);
    expect(copy.options).toMatchObject({ amountOfProcessors: 3, stopOnError: true, nackDelayMs: 0 });
    expect(original.options).toEqual(before);
    expect(original.options.amountOfProcessors).toBe(1);

    // `c.withX(1); await c.run()` must not silently run without withX.
    const error: unknown = await original.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).message).toMatch(/with\* returns a new/);
    expect(original.state).toBe('idle');

    await start(copy);
    channel.push(msg());
    await waitFor(() => channel.acks.length === 1);
    expect(copy.stats.succeeded).toBe(1);
    expect(original.stats.received).toBe(0);
  });

  it('stop before run ends idle consumers; aborting the run signal stops gracefully', async () => {
    const idle = setup().consumer;
    await idle.stop();
    expect(idle.state).toBe('stopped');
    await idle.done;

    const { channel, consumer } = setup();
    const ac = new AbortController();
    running.push(consumer);
    await consumer.run(ac.signal);
    ac.abort();
    await consumer.done;
    expect(consumer.state).toBe('stopped');
    expect(channel.closed).toBe(true);
  });
});

describe('EventDrivenConsumer start position and seek without a partitioned source', () => {
  it('run() fails with a ConfigurationError naming withStartPosition; seek fails with GOMES_ILLEGAL_STATE', async () => {
    const { consumer } = setup();
    await expect(consumer.seek({ kind: 'earliest' })).rejects.toMatchObject({ code: 'GOMES_ILLEGAL_STATE' });
    await expect(consumer.withStartPosition({ kind: 'earliest' }).run()).rejects.toThrow(
      /startPosition needs a transport with a partitioned source[\s\S]*withStartPosition/,
    );
    expect(consumer.state).toBe('idle');
  });

  it('seek on a running consumer fails with GOMES_ILLEGAL_STATE naming the missing partitioned source', async () => {
    const { consumer } = setup();
    await consumer.run();
    await expect(consumer.seek({ kind: 'earliest' })).rejects.toMatchObject({
      code: 'GOMES_ILLEGAL_STATE',
      message: expect.stringMatching(/without a partitioned source/),
    });
    await consumer.stop(100);
  });
});
