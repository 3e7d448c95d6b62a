import { GomesError, NonRetriableError, isGomesError } from '../errors/gomes-error.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { recipientListRouter } from '../pipeline/middleware/recipient-list-router.js';
import { ReplyHeaders } from '../pipeline/middleware/send-reply.js';
import { holdsFor } from '../testing/wait-for.js';
import {
  fastRetry,
  msg,
  publisher,
  setup,
  waitFor,
  runningConsumers,
} from '../../test/support/fake-subscription-channel.js';

// A subscribe-only channel: the consumer runs on the consume engine through its subscription source.
// Lifecycle (backpressure, stop, stopOnError) and hardening are in the sibling spec files.
describe('EventDrivenConsumer on a subscribe-only channel: message outcomes', () => {
  const { start } = runningConsumers();

  it('acks messages whose handler succeeded', async () => {
    const { channel, consumer } = setup();
    await start(consumer);
    expect(consumer.state).toBe('running');
    [1, 2, 3].forEach((i) => channel.push(msg({ i })));
    await waitFor(() => channel.acks.length === 3);
    expect(channel.nacks).toEqual([]);
    expect(consumer.stats).toMatchObject({ received: 3, succeeded: 3, acked: 3, failed: 0, inFlight: 0 });
  });

  it("counts delivery attempts from the transport's: a redelivered message runs with its deliveryAttempt, + 1 per nack", async () => {
    const attempts: number[] = [];
    const { channel, consumer } = setup({
      handler: async (m, ctx) => {
        attempts.push(ctx.delivery?.deliveryAttempt ?? 0);
        if (attempts.length === 1) throw new NonRetriableError('try again later');
        return m;
      },
    });
    await start(consumer);
    channel.push(msg({ i: 1 }), 'k', 3); // the transport redelivers it for the third time
    await waitFor(() => channel.acks.length === 1);
    expect(attempts).toEqual([3, 4]);
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

  it('never acks a failed message without dead-letter channel: it runs again after the nack delay, and is nacked to the transport at stop', async () => {
    const attempts: number[] = [];
    const { channel, consumer: base } = setup({
      handler: async (_m, ctx) => {
        attempts.push(ctx.delivery?.deliveryAttempt ?? 0);
        throw new Error('boom');
      },
    });
    const consumer = await start(base.withNackDelay(7));
    const m = msg();
    channel.push(m);
    await waitFor(() => attempts.length >= 2);
    expect(attempts.slice(0, 2)).toEqual([1, 2]);
    expect(channel.acks).toEqual([]);
    expect(channel.nacks).toEqual([]);
    expect(consumer.stats.failed).toBeGreaterThanOrEqual(1);
    expect(consumer.stats.acked).toBe(0);
    expect(consumer.state).toBe('running');
    await consumer.stop(100);
    expect(channel.nacks).toEqual([{ id: m.messageId, delayMs: 0 }]);
    expect(channel.acks).toEqual([]);
  });

  it('never acks when the dead-letter publish fails (never loses the message): it runs again', async () => {
    let calls = 0;
    const { channel, consumer } = setup({
      endpoint: { deadLetterChannelName: 'orders.dlq' },
      handler: async () => {
        calls++;
        throw new Error('boom');
      },
      publishers: [publisher('orders.dlq', new Error('dlq down'))],
    });
    await start(consumer);
    const m = msg();
    channel.push(m);
    await waitFor(() => calls >= 2);
    expect(channel.acks).toEqual([]);
    expect(consumer.stats).toMatchObject({ deadLettered: 0, acked: 0 });
    expect(consumer.stats.failed).toBeGreaterThanOrEqual(1);
    await consumer.stop(100);
    expect(channel.nacks.map((n) => n.id)).toEqual([m.messageId]);
  });

  it('a failed message holds the later messages of its key until it ran again; other keys keep flowing', async () => {
    const handled: number[] = [];
    let failedOnce = false;
    const ref: { handedOver: () => number } = { handedOver: () => 0 };
    const { channel, consumer: base } = setup({
      handler: async (m) => {
        const { n } = m.payload as { n: number };
        handled.push(n);
        // Fail once every delivery has been handed over, so 2 and 3 are already accepted.
        if (n === 1 && !failedOnce) {
          failedOnce = true;
          await waitFor(() => ref.handedOver() === 4);
          throw new Error('boom');
        }
        return m;
      },
    });
    ref.handedOver = () => channel.handedOver;
    const consumer = await start(base.withAmountOfProcessors(2).withQueueCapacity(4).withNackDelay(5));
    [1, 2, 3].forEach((n) => channel.push(msg({ n }), 'same'));
    channel.push(msg({ n: 4 }), 'other');
    await waitFor(() => channel.acks.length === 4);
    expect(handled.filter((n) => n !== 4)).toEqual([1, 1, 2, 3]);
    expect(handled).toContain(4);
    expect(channel.nacks).toEqual([]);
    expect(consumer.stats).toMatchObject({ failed: 1, succeeded: 4 });
  });

  it('a handler that nacks through ctx.delivery and returns normally counts as failed; the message runs again before its key goes on', async () => {
    const handled: string[] = [];
    const { channel, consumer: base } = setup({
      handler: async (m, ctx) => {
        const n = (m.payload as { n: number }).n;
        const attempt = ctx.delivery?.deliveryAttempt ?? 0;
        handled.push(`${n}#${attempt}`);
        if (n === 1 && attempt === 1) await ctx.delivery?.nack({ delayMs: 0 });
        return m;
      },
    });
    const consumer = await start(base.withAmountOfProcessors(2));
    const [first, second] = [msg({ n: 1 }), msg({ n: 2 })];
    channel.push(first, 'K');
    channel.push(second, 'K');
    await waitFor(() => channel.acks.length === 2);
    expect(handled).toEqual(['1#1', '1#2', '2#1']);
    expect(channel.acks).toEqual([first.messageId, second.messageId]);
    expect(channel.nacks).toEqual([]);
    expect(consumer.stats).toMatchObject({ failed: 1, succeeded: 2, acked: 2 });
  });

  it('four keys waiting for a retry hold no processor: a fifth key runs meanwhile; a poison key never blocks the others', async () => {
    const firstFailures = new Set<string>();
    const done: string[] = [];
    const { channel, consumer: base } = setup({
      endpoint: { retry: { maxAttempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 } },
      handler: async (m) => {
        const { key } = m.payload as { key: string };
        if (key === 'poison' || !firstFailures.has(key)) {
          firstFailures.add(key);
          if (key !== 'fifth') throw new Error(`${key} failed`);
        }
        done.push(key);
        return m;
      },
    });
    const consumer = await start(base.withAmountOfProcessors(4));
    for (const key of ['a', 'b', 'c', 'poison']) channel.push(msg({ key }), key);
    await waitFor(() => firstFailures.size === 4);
    channel.push(msg({ key: 'fifth' }), 'fifth');
    await waitFor(() => channel.acks.length === 1);
    expect(done).toEqual(['fifth']);
    expect(consumer.stats).toMatchObject({ retried: 4, succeeded: 1 });
    await holdsFor(() => channel.acks.length === 1, 20, {
      description: 'the four retrying keys wait for their backoff',
    });
    expect(consumer.stats.inFlight).toBe(4);
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
});
