import type { ConsumerEndpointOptions } from '../channel/channel-builders.js';
import { DEFAULT_CONSUMER_ENDPOINT_OPTIONS } from '../channel/channel-builders.js';
import type {
  ConsumerChannel,
  Delivery,
  DeliveryHandler,
  NackOptions,
  SubscribeOptions,
  Subscription,
} from '../channel/consumer-channel.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, NonRetriableError, isGomesError } from '../errors/gomes-error.js';
import { noopLogger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import { recipientListRouter } from '../pipeline/middleware/recipient-list-router.js';
import { ReplyHeaders } from '../pipeline/middleware/send-reply.js';
import { EventDrivenConsumer } from './event-driven-consumer.js';
import { getEventListeners } from 'node:events';
import { holdsFor, withTimeout } from '../testing/wait-for.js';
import type { Logger } from '../logging/logger.js';
import { recordingLogger } from '../../test/support/recording-logger.js';

/** An array-backed consumer channel: hands deliveries over one at a time, awaiting the handler (backpressure). */
class FakeChannel implements ConsumerChannel {
  readonly name = 'orders-consumer';
  readonly channelName = 'orders';
  readonly acks: string[] = [];
  readonly nacks: { id: string; delayMs: number | undefined }[] = [];
  handedOver = 0;
  stopped = false;
  closed = false;
  options: SubscribeOptions | undefined;
  readonly #queue: Delivery[] = [];
  #wake: (() => void) | undefined;
  #offset = 0;
  /** Makes the transport's ack / nack of these message ids reject. */
  readonly failAck = new Set<string>();
  readonly failNack = new Set<string>();

  push(message: Message, key = 'default'): void {
    const offset = String(this.#offset++);
    let settled = false;
    this.#queue.push({
      message,
      key,
      position: { channel: this.channelName, partition: 0, offset },
      deliveryAttempt: 1,
      ack: async () => {
        if (this.failAck.has(message.messageId)) throw new Error('broker refused the ack');
        if (settled) return;
        settled = true;
        this.acks.push(message.messageId);
      },
      nack: async (o: NackOptions = {}) => {
        if (this.failNack.has(message.messageId)) throw new Error('broker refused the nack');
        if (settled) return;
        settled = true;
        this.nacks.push({ id: message.messageId, delayMs: o.delayMs });
      },
    });
    this.#wake?.();
  }

  async subscribe(handler: DeliveryHandler, options?: SubscribeOptions): Promise<Subscription> {
    this.options = options;
    const loop = (async () => {
      while (!this.stopped) {
        const next = this.#queue.shift();
        if (!next) {
          await new Promise<void>((r) => (this.#wake = r));
          continue;
        }
        this.handedOver++;
        await handler(next);
      }
    })();
    const stop = async (): Promise<void> => {
      this.stopped = true;
      this.#wake?.();
      await loop;
    };
    return {
      stop,
      close: async () => {
        await stop();
        this.closed = true;
      },
    };
  }
}

function publisher(name: string, fail?: Error): PublisherChannel & { sent: Message[] } {
  const sent: Message[] = [];
  return {
    name,
    sent,
    send: async (m) => (fail ? Promise.reject(fail) : void sent.push(m)),
    close: async () => undefined,
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}
const turns = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
const msg = (payload: unknown = {}, route = 'createOrder'): Message =>
  MessageBuilder.withPayload(payload).route(route).correlationId('corr').header('tenant', 'acme').build();

interface Setup {
  endpoint?: Partial<ConsumerEndpointOptions>;
  handler?: MessageHandlerFn;
  publishers?: PublisherChannel[];
  onError?: (e: Error) => void;
  logger?: Logger;
  channel?: FakeChannel;
}

function setup(s: Setup = {}): { channel: FakeChannel; consumer: EventDrivenConsumer } {
  const channel = s.channel ?? new FakeChannel();
  const consumer = new EventDrivenConsumer({
    name: 'orders-consumer',
    channel,
    endpointOptions: { ...DEFAULT_CONSUMER_ENDPOINT_OPTIONS, ...s.endpoint },
    handler: s.handler ?? (async (m) => m),
    channels: { publisher: (n) => s.publishers?.find((p) => p.name === n) },
    logger: s.logger ?? noopLogger,
    ...(s.onError ? { onError: s.onError } : {}),
    retryHooks: { random: () => 0.5 },
  });
  return { channel, consumer: consumer.withNackDelay(0) };
}
const fastRetry = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, jitter: 0 };

describe('EventDrivenConsumer', () => {
  let running: EventDrivenConsumer[] = [];
  afterEach(async () => {
    await Promise.all(running.map(async (c) => c.stop(100)));
    running = [];
  });
  const start = async (c: EventDrivenConsumer): Promise<EventDrivenConsumer> => {
    running.push(c);
    await c.run();
    return c;
  };

  it('acks messages whose handler succeeded', async () => {
    const { channel, consumer } = setup();
    await start(consumer);
    expect(consumer.state).toBe('running');
    [1, 2, 3].forEach((i) => channel.push(msg({ i })));
    await waitFor(() => channel.acks.length === 3);
    expect(channel.nacks).toEqual([]);
    expect(consumer.stats).toMatchObject({ received: 3, succeeded: 3, acked: 3, failed: 0, inFlight: 0 });
  });

  it('nacks (never acks) a failed message without dead-letter channel, and keeps running', async () => {
    const { channel, consumer: base } = setup({ handler: async () => Promise.reject(new Error('boom')) });
    const consumer = await start(base.withNackDelay(7));
    const m = msg();
    channel.push(m);
    await waitFor(() => channel.nacks.length === 1);
    expect(channel.nacks).toEqual([{ id: m.messageId, delayMs: 7 }]);
    expect(channel.acks).toEqual([]);
    expect(consumer.stats).toMatchObject({ failed: 1, nacked: 1, acked: 0 });
    expect(consumer.state).toBe('running');
  });

  it('retries, then dead-letters and acks with an envelope holding attempts, error and the original message', async () => {
    const dlq = publisher('orders.dlq');
    let calls = 0;
    const { channel, consumer } = setup({
      endpoint: { retry: fastRetry, deadLetterChannelName: 'orders.dlq' },
      handler: async () => {
        calls++;
        throw new GomesError('HANDLER_FAILED', `failure ${calls}`);
      },
      publishers: [dlq],
    });
    await start(consumer);
    const m = msg({ orderId: 42 });
    channel.push(m, 'order-42');
    await waitFor(() => channel.acks.length === 1);
    expect(calls).toBe(3);
    expect(channel.nacks).toEqual([]);
    const dead = dlq.sent[0] as Message;
    expect(dead.payload).toEqual({ orderId: 42 });
    const env = readDeadLetterEnvelope(dead);
    expect(env).toMatchObject({
      attempts: 3,
      errorMessage: 'failure 3',
      errorCode: 'GOMES_HANDLER_FAILED',
      originChannel: 'orders',
      originPartition: 0,
      originOffset: '0',
      consumer: 'orders-consumer',
    });
    expect(env?.originalHeaders).toEqual(m.headers);
    expect(env?.firstFailureAt?.getTime()).toBeLessThanOrEqual(env?.lastFailureAt?.getTime() ?? 0);
    expect(consumer.stats).toMatchObject({ retried: 2, deadLettered: 1, acked: 1, succeeded: 0, failed: 0 });
  });

  it('nacks when the dead-letter publish fails (never loses the message)', async () => {
    const { channel, consumer } = setup({
      endpoint: { deadLetterChannelName: 'orders.dlq' },
      handler: async () => Promise.reject(new Error('boom')),
      publishers: [publisher('orders.dlq', new Error('dlq down'))],
    });
    await start(consumer);
    channel.push(msg());
    await waitFor(() => channel.nacks.length === 1);
    expect(channel.acks).toEqual([]);
    expect(consumer.stats).toMatchObject({ failed: 1, deadLettered: 0 });
  });

  it('skips retry for non-retriable errors and dead-letters at once', async () => {
    const dlq = publisher('dlq');
    let calls = 0;
    const { channel, consumer } = setup({
      endpoint: { retry: fastRetry, deadLetterChannelName: 'dlq' },
      handler: async () => {
        calls++;
        throw new NonRetriableError('invalid order');
      },
      publishers: [dlq],
    });
    await start(consumer);
    channel.push(msg());
    await waitFor(() => channel.acks.length === 1);
    expect(calls).toBe(1);
    expect(readDeadLetterEnvelope(dlq.sent[0] as Message)).toMatchObject({
      attempts: 1,
      retriable: false,
      errorName: 'NonRetriableError',
    });
  });

  it('times out an attempt: aborts its signal, then retries', async () => {
    const signals: AbortSignal[] = [];
    const { channel, consumer: base } = setup({
      endpoint: { retry: fastRetry },
      handler: async (m, ctx) => {
        signals.push(ctx.signal);
        if (signals.length === 1) await new Promise<never>(() => undefined); // ignores its signal
        return m;
      },
    });
    const consumer = await start(base.withMessageProcessingTimeout(20));
    channel.push(msg());
    await waitFor(() => channel.acks.length === 1);
    expect(signals).toHaveLength(2);
    expect(signals[0]?.aborted).toBe(true);
    const reason: unknown = signals[0]?.reason;
    expect(isGomesError(reason) && reason.code).toBe('GOMES_PROCESSING_TIMEOUT');
    expect(signals[1]?.aborted).toBe(false);
    expect(consumer.stats).toMatchObject({ retried: 1, succeeded: 1 });
  });

  it('acks filtered messages without calling the handler, and counts them', async () => {
    const handler = jest.fn(async (m: Message) => m);
    const { channel, consumer } = setup({ endpoint: { filter: (m) => m.route !== 'skip' }, handler });
    await start(consumer);
    channel.push(msg({}, 'skip'));
    channel.push(msg({}, 'keep'));
    await waitFor(() => channel.acks.length === 2);
    expect(handler).toHaveBeenCalledTimes(1);
    expect(consumer.stats).toMatchObject({ filtered: 1, succeeded: 1 });
  });

  it('processes messages of one key in order with 4 processors, keys in parallel', async () => {
    const seen: Record<string, number[]> = {};
    let active = 0;
    let maxActive = 0;
    const { channel, consumer: base } = setup({
      handler: async (m) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3)));
        const { key, i } = m.payload as { key: string; i: number };
        (seen[key] ??= []).push(i);
        active--;
        return m;
      },
    });
    await start(base.withAmountOfProcessors(4).withQueueCapacity(16));
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let i = 0; i < 90; i++) {
      const key = keys[i % keys.length] as string;
      channel.push(msg({ key, i }), key);
    }
    await waitFor(() => channel.acks.length === 90);
    for (const key of keys) {
      const expected = [...Array(90).keys()].filter((i) => keys[i % keys.length] === key);
      expect(seen[key]).toEqual(expected);
    }
    expect(maxActive).toBeGreaterThan(1);
    expect(maxActive).toBeLessThanOrEqual(4);
  });

  it('bounds accepted deliveries to the queue capacity (backpressure)', async () => {
    const g = gate();
    const { channel, consumer: base } = setup({ handler: async (m) => g.promise.then(() => m) });
    const consumer = await start(base.withAmountOfProcessors(1).withQueueCapacity(3));
    for (let i = 0; i < 10; i++) channel.push(msg({ i }), `k${i}`);
    await waitFor(() => channel.handedOver === 4);
    await turns();
    expect(channel.handedOver).toBe(4); // 3 accepted + 1 waiting for room
    expect(consumer.stats.inFlight).toBe(4);
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

  it('aborts and nacks in-flight messages when the stop budget expires; accepted ones not started are nacked unprocessed', async () => {
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
    expect(channel.nacks).toEqual([
      { id: m.messageId, delayMs: 0 },
      { id: queued.messageId, delayMs: 0 },
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
    expect(channel.nacks.map((n) => n.id)).toEqual([failing.messageId, next.messageId]);
  });

  it('stopOnError: a failed message is nacked, then the consumer stops as crashed', async () => {
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

  it('does not stop on a dead-lettered message even with stopOnError', async () => {
    const { channel, consumer: base } = setup({
      endpoint: { deadLetterChannelName: 'dlq' },
      handler: async () => Promise.reject(new Error('boom')),
      publishers: [publisher('dlq')],
    });
    const consumer = await start(base.withStopOnError(true));
    channel.push(msg());
    await waitFor(() => channel.acks.length === 1);
    expect(consumer.state).toBe('running');
  });

  it('nacks later deliveries of a key unprocessed after an earlier one of that key was nacked', async () => {
    const handled: number[] = [];
    const ref: { channel?: FakeChannel } = {};
    const { channel, consumer: base } = setup({
      handler: async (m) => {
        const { n } = m.payload as { n: number };
        handled.push(n);
        // Fail only once every delivery has been handed over, so 2 and 3 are already accepted.
        if (n === 1) {
          await waitFor(() => ref.channel!.handedOver === 4);
          throw new Error('boom');
        }
        return m;
      },
    });
    ref.channel = channel;
    await start(base.withQueueCapacity(4));
    [1, 2, 3].forEach((n) => channel.push(msg({ n }), 'same'));
    channel.push(msg({ n: 4 }), 'other');
    await waitFor(() => channel.nacks.length === 3 && channel.acks.length === 1);
    expect(handled).toEqual(expect.arrayContaining([1, 4]));
    expect(handled).not.toContain(2);
    expect(handled).not.toContain(3);
  });

  it('runs middleware, interceptors and the handler in the documented order', async () => {
    const log: string[] = [];
    const tag = (t: string) => (m: Message) => (log.push(t), m);
    const { channel, consumer } = setup({
      endpoint: {
        middleware: [
          (next) => async (m, ctx) => (log.push('mw1>'), next(m, ctx).finally(() => log.push('<mw1'))),
          (next) => async (m, ctx) => (log.push('mw2'), next(m, ctx)),
        ],
        beforeInterceptors: [tag('before1'), tag('before2')],
        afterInterceptors: [tag('after1'), tag('after2')],
        filter: (m) => (log.push('filter'), m !== undefined),
      },
      handler: async (m) => (log.push('handler'), m),
    });
    await start(consumer);
    channel.push(msg());
    await waitFor(() => channel.acks.length === 1);
    expect(log).toEqual([
      'mw1>',
      'mw2',
      'before1',
      'before2',
      'filter',
      'handler',
      'after1',
      'after2',
      '<mw1',
    ]);
  });

  it('routes with a recipient list router used as middleware', async () => {
    const [audit, billing] = [publisher('audit'), publisher('billing')];
    const handler = jest.fn(async (m: Message) => m);
    const { channel, consumer } = setup({
      endpoint: { middleware: [recipientListRouter(['audit', 'billing'])] },
      handler,
      publishers: [audit, billing],
    });
    await start(consumer);
    const m = msg();
    channel.push(m);
    await waitFor(() => channel.acks.length === 1);
    expect(audit.sent[0]?.messageId).toBe(m.messageId);
    expect(billing.sent).toHaveLength(1);
    expect(handler).not.toHaveBeenCalled();
  });

  it('sends replies to replyTo when enabled', async () => {
    const replies = publisher('replies');
    const { channel, consumer } = setup({
      endpoint: { sendReplyUsingReplyTo: true },
      handler: async (m) =>
        MessageBuilder.withPayload({ ok: true, for: (m.payload as { q: number }).q }).build(),
      publishers: [replies],
    });
    await start(consumer);
    channel.push(MessageBuilder.withPayload({ q: 7 }).replyTo('replies').build());
    await waitFor(() => channel.acks.length === 1);
    expect(replies.sent[0]?.payload).toEqual({ ok: true, for: 7 });
    expect(replies.sent[0]?.header(ReplyHeaders.ERROR)).toBeUndefined();
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
    const consumer = base.withAmountOfProcessors(0).withMessageProcessingTimeout(-5).withQueueCapacity(0);
    const error: unknown = await consumer.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toHaveLength(5);
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

  describe('hardening', () => {
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
      expect(logger.lines.map((l) => l.message)).toEqual(
        expect.arrayContaining([
          'Holding the key until a timed-out attempt settles (handlers should honour ctx.signal)',
          'A timed-out or aborted attempt settled after it was given up (handlers should honour ctx.signal)',
        ]),
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

    it('logs and counts a failed ack, and treats it like a nack for the same-key order', async () => {
      const logger = recordingLogger();
      const handled: number[] = [];
      const g = gate();
      const { channel, consumer: base } = setup({
        logger,
        handler: async (m) => {
          const n = (m.payload as { n: number }).n;
          if (n === 1) await g.promise;
          handled.push(n);
          return m;
        },
      });
      const consumer = await start(base.withAmountOfProcessors(2));
      const first = msg({ n: 1 });
      const second = msg({ n: 2 });
      channel.failAck.add(first.messageId);
      channel.push(first, 'K');
      channel.push(second, 'K');
      await waitFor(() => channel.handedOver === 2);
      g.open();
      await waitFor(() => channel.nacks.length === 1);
      expect(handled).toEqual([1]);
      expect(channel.nacks).toEqual([{ id: second.messageId, delayMs: 0 }]);
      expect(consumer.stats).toMatchObject({ ackFailures: 1, failed: 1, acked: 0 });
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

    it('logs and counts a failed nack', async () => {
      const logger = recordingLogger();
      const { channel, consumer } = setup({
        logger,
        handler: async () => Promise.reject(new Error('handler failed')),
      });
      await start(consumer);
      const m = msg();
      channel.failNack.add(m.messageId);
      channel.push(m);
      await waitFor(() => consumer.stats.nackFailures === 1);
      expect(consumer.stats).toMatchObject({ nackFailures: 1, failed: 1, nacked: 0 });
      expect(logger.lines.map((l) => l.message)).toContain(
        'Nack failed; the transport redelivers unacknowledged messages on its own',
      );
    });

    it('a handler that nacks through ctx.delivery and returns normally counts as failed and guards its key', async () => {
      const handled: number[] = [];
      const g = gate();
      const { channel, consumer: base } = setup({
        handler: async (m, ctx) => {
          const n = (m.payload as { n: number }).n;
          handled.push(n);
          if (n === 1) {
            await g.promise;
            await ctx.delivery?.nack({ delayMs: 0 });
          }
          return m;
        },
      });
      const consumer = await start(base.withAmountOfProcessors(2));
      const [first, second] = [msg({ n: 1 }), msg({ n: 2 })];
      channel.push(first, 'K');
      channel.push(second, 'K');
      await waitFor(() => channel.handedOver === 2);
      g.open();
      await waitFor(() => channel.nacks.length === 2);
      expect(handled).toEqual([1]);
      expect(channel.nacks.map((n) => n.id)).toEqual([first.messageId, second.messageId]);
      expect(consumer.stats).toMatchObject({ failed: 1, succeeded: 0, acked: 0 });
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
});
