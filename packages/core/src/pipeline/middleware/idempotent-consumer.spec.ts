import { DEFAULT_CONSUMER_ENDPOINT_OPTIONS } from '../../channel/channel-builders.js';
import type { PublisherChannel } from '../../channel/publisher-channel.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { isGomesError } from '../../errors/gomes-error.js';
import { currentIdempotencyClaim } from '../../idempotency/idempotency-claim-context.js';
import type { IdempotencyStore } from '../../idempotency/idempotency-store.js';
import { InMemoryIdempotencyStore } from '../../idempotency/in-memory-idempotency-store.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import { createTestDelivery, type TestDelivery } from '../../testing/test-delivery.js';
import { waitFor } from '../../testing/wait-for.js';
import { consumerPipeline } from '../consumer-pipeline.js';
import type { MessageHandlerFn } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';
import { idempotentConsumer, storedKey } from './idempotent-consumer.js';

const message = (id = 'm-1', payload: Record<string, unknown> = { n: 1 }): Message =>
  MessageBuilder.withPayload(payload).messageId(id).build();

function context(delivery: TestDelivery, endpointName = 'orders'): ProcessingContext {
  const dlq: PublisherChannel & { sent: Message[] } = {
    name: 'dlq',
    sent: [],
    send: async (m) => void dlq.sent.push(m),
    close: async () => undefined,
  };
  return {
    signal: new AbortController().signal,
    logger: noopLogger,
    endpointName,
    delivery,
    channels: { publisher: (n) => (n === 'dlq' ? dlq : undefined) },
    state: { attempts: 0 },
  };
}

/** The standard pipeline with `withIdempotency(store, { ttlMs: 60_000, ...extra })`. */
function pipeline(
  store: IdempotencyStore,
  handler: MessageHandlerFn,
  extra: {
    deadLetter?: boolean;
    retries?: number;
    leaseMs?: number;
    scope?: string;
    timeoutMs?: number;
  } = {},
) {
  const duplicates: string[] = [];
  const run = consumerPipeline({
    endpointOptions: {
      ...DEFAULT_CONSUMER_ENDPOINT_OPTIONS,
      idempotency: {
        store,
        options: {
          ttlMs: 60_000,
          ...(extra.leaseMs ? { leaseMs: extra.leaseMs } : {}),
          ...(extra.scope ? { scope: extra.scope } : {}),
        },
      },
      ...(extra.deadLetter ? { deadLetterChannelName: 'dlq' } : {}),
      ...(extra.retries ? { retry: { maxAttempts: extra.retries, initialDelayMs: 0, jitter: 0 } } : {}),
    },
    processingTimeoutMs: extra.timeoutMs ?? 0,
    nackDelayMs: 0,
    handler,
    hooks: { onDuplicate: (_m, key) => void duplicates.push(key) },
  });
  return { run, duplicates };
}

async function deliver(run: MessageHandlerFn, m: Message, endpointName = 'orders'): Promise<TestDelivery> {
  const delivery = createTestDelivery(m);
  await run(m, context(delivery, endpointName)).catch(() => undefined);
  return delivery;
}

describe('idempotentConsumer', () => {
  it.each([
    ['finishes after all: the key is marked done and a redelivery is skipped', 'resolve', ['m-1'], 1],
    ['fails after all: the key is released and a redelivery runs', 'reject', ['m-1', 'm-1'], 0],
  ] as const)(
    'a timed-out attempt whose handler ignored its signal holds the key; when it %s',
    async (_what, outcome, expectedRuns, expectedDuplicates) => {
      const settledAs: string[] = [];
      const store = new (class extends InMemoryIdempotencyStore {
        override async markDone(key: string, token: string, ttlMs: number): Promise<void> {
          settledAs.push('done');
          return super.markDone(key, token, ttlMs);
        }
        override async release(key: string, token: string): Promise<void> {
          settledAs.push('released');
          return super.release(key, token);
        }
      })();
      const runs: string[] = [];
      let finish: (() => void) | undefined;
      const { run, duplicates } = pipeline(
        store,
        async (m) => {
          runs.push(m.messageId);
          if (runs.length > 1) return undefined;
          await new Promise<void>((resolve, reject) => {
            finish = outcome === 'resolve' ? resolve : () => reject(new Error('late failure'));
          });
          return undefined;
        },
        { timeoutMs: 50 },
      );
      const first = await deliver(run, message('m-1'));
      expect(first.nacked).toBe(true);
      expect((await store.claim(storedKey('orders', 'm-1'), 1000)).status).toBe('held');
      expect(settledAs).toEqual([]);
      finish?.();
      await waitFor(() => settledAs.length === 1);
      expect(settledAs).toEqual([outcome === 'resolve' ? 'done' : 'released']);
      const again = await deliver(run, message('m-1'));
      expect(again.acked).toBe(true);
      expect(runs).toEqual(expectedRuns);
      expect(duplicates).toHaveLength(expectedDuplicates);
    },
  );

  it('runs a message once: a redelivery of a processed message is acked without the handler and reported', async () => {
    const store = new InMemoryIdempotencyStore();
    const handled: string[] = [];
    const { run, duplicates } = pipeline(store, async (m) => void handled.push(m.messageId));
    const first = await deliver(run, message('m-1'));
    const again = await deliver(run, message('m-1'));
    const other = await deliver(run, message('m-2'));
    expect(handled).toEqual(['m-1', 'm-2']);
    expect([first.acked, again.acked, other.acked]).toEqual([true, true, true]);
    expect(duplicates).toEqual([storedKey('orders', 'm-1')]);
    expect(store.stateOf(storedKey('orders', 'm-1'))).toBe('done');
  });

  it('a failed message releases its claim, is nacked, and its redelivery runs the handler again', async () => {
    const store = new InMemoryIdempotencyStore();
    let calls = 0;
    const { run, duplicates } = pipeline(store, async () => {
      if (++calls === 1) throw new Error('database down');
      return undefined;
    });
    const first = await deliver(run, message('m-1'));
    expect(first.nacked).toBe(true);
    expect(store.stateOf(storedKey('orders', 'm-1'))).toBeUndefined();
    const second = await deliver(run, message('m-1'));
    expect(second.acked).toBe(true);
    expect(calls).toBe(2);
    expect(duplicates).toEqual([]);
  });

  it('two members racing one message run the handler once: the loser is nacked, then skips it as done', async () => {
    const store = new InMemoryIdempotencyStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const handler: MessageHandlerFn = async () => {
      runs++;
      await gate;
      return undefined;
    };
    const a = pipeline(store, handler);
    const b = pipeline(store, handler);
    const winner = createTestDelivery(message('m-1'));
    const racing = a.run(message('m-1'), context(winner));
    await waitFor(() => runs === 1);
    const loser = createTestDelivery(message('m-1'));
    const lost = await b.run(message('m-1'), context(loser)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGomesError(lost) && lost.code).toBe('GOMES_IDEMPOTENCY_CLAIM_HELD');
    expect(isGomesError(lost) && lost.retriable).toBe(true);
    expect(loser.nacked).toBe(true);
    release();
    await racing;
    expect(winner.acked).toBe(true);
    const redelivered = await deliver(b.run, message('m-1'));
    expect(redelivered.acked).toBe(true);
    expect(runs).toBe(1);
    expect(b.duplicates).toHaveLength(1);
  });

  it('holds the claim across retries: a member racing during the backoff is turned away', async () => {
    const store = new InMemoryIdempotencyStore();
    let calls = 0;
    let racer: TestDelivery | undefined;
    const other = pipeline(store, async () => undefined);
    const { run } = pipeline(
      store,
      async (m) => {
        if (++calls === 1) {
          racer = await deliver(other.run, m); // while the first attempt failed and is retried
          throw new Error('transient');
        }
        return undefined;
      },
      { retries: 3 },
    );
    const delivery = await deliver(run, message('m-1'));
    expect(delivery.acked).toBe(true);
    expect(calls).toBe(2);
    expect(racer?.nacked).toBe(true);
  });

  it('a dead-lettered message is released, not marked done: a re-driven copy runs', async () => {
    const store = new InMemoryIdempotencyStore();
    let calls = 0;
    const { run, duplicates } = pipeline(
      store,
      async () => {
        calls++;
        throw new Error('poison');
      },
      { deadLetter: true },
    );
    const parked = await deliver(run, message('m-1'));
    expect(parked.acked).toBe(true);
    expect(store.stateOf(storedKey('orders', 'm-1'))).toBeUndefined();
    await deliver(run, message('m-1'));
    expect(calls).toBe(2);
    expect(duplicates).toEqual([]);
  });

  it('keys are scoped per consumer: two consumers each process the same message once', async () => {
    const store = new InMemoryIdempotencyStore();
    const handled: string[] = [];
    const { run } = pipeline(store, async (_m, ctx) => void handled.push(ctx.endpointName));
    await deliver(run, message('m-1'), 'billing');
    await deliver(run, message('m-1'), 'shipping');
    await deliver(run, message('m-1'), 'billing');
    expect(handled).toEqual(['billing', 'shipping']);
    const shared = pipeline(store, async (_m, ctx) => void handled.push(`shared:${ctx.endpointName}`), {
      scope: 'one-scope',
    });
    await deliver(shared.run, message('m-2'), 'billing');
    await deliver(shared.run, message('m-2'), 'shipping');
    expect(handled.filter((h) => h.startsWith('shared'))).toEqual(['shared:billing']);
  });

  it('a custom key deduplicates messages with different ids', async () => {
    const store = new InMemoryIdempotencyStore();
    const handled: string[] = [];
    const run = idempotentConsumer(store, {
      ttlMs: 1000,
      key: (m) => String((m.payload as { orderId: string }).orderId),
    })(async (m) => void handled.push(m.messageId));
    const ctx = (): ProcessingContext => context(createTestDelivery(message()));
    await run(message('a', { orderId: 'o-1' }), ctx());
    await run(message('b', { orderId: 'o-1' }), ctx());
    await run(message('c', { orderId: 'o-2' }), ctx());
    expect(handled).toEqual(['a', 'c']);
  });

  it('a store that cannot claim fails the delivery (nacked, handler not run); a failed mark-done still acks', async () => {
    const store = new InMemoryIdempotencyStore();
    let failClaim = true;
    let failMark = false;
    const flaky: IdempotencyStore = {
      description: 'flaky',
      claim: async (k, l) => (failClaim ? Promise.reject(new Error('ECONNREFUSED')) : store.claim(k, l)),
      renew: async (k, t, l) => store.renew(k, t, l),
      markDone: async (k, t, ttl) =>
        failMark ? Promise.reject(new Error('timeout')) : store.markDone(k, t, ttl),
      release: async (k, t) => store.release(k, t),
    };
    let calls = 0;
    const { run } = pipeline(flaky, async () => void calls++);
    const delivery = createTestDelivery(message('m-1'));
    const error = await run(message('m-1'), context(delivery)).catch((e: unknown) => e);
    expect(isGomesError(error) && error.code).toBe('GOMES_IDEMPOTENCY_STORE_FAILED');
    expect(delivery.nacked).toBe(true);
    expect(calls).toBe(0);
    failClaim = false;
    failMark = true;
    const second = await deliver(run, message('m-1'));
    expect(second.acked).toBe(true);
    expect(calls).toBe(1);
  });

  it('renews the lease while a long handler runs, so no other member can claim the message', async () => {
    const store = new InMemoryIdempotencyStore();
    const renewals: string[] = [];
    const counting: IdempotencyStore = {
      description: 'counting',
      claim: async (k, l) => store.claim(k, l),
      renew: async (k, t, l) => {
        renewals.push(k);
        return store.renew(k, t, l);
      },
      markDone: async (k, t, ttl) => store.markDone(k, t, ttl),
      release: async (k, t) => store.release(k, t),
    };
    let racer: TestDelivery | undefined;
    const other = pipeline(store, async () => undefined);
    const { run } = pipeline(
      counting,
      async (m) => {
        await waitFor(() => renewals.length >= 6, 15_000); // two lease lengths of 300 ms
        racer = await deliver(other.run, m);
        return undefined;
      },
      { leaseMs: 300 },
    );
    const delivery = await deliver(run, message('m-1'));
    expect(delivery.acked).toBe(true);
    expect(racer?.nacked).toBe(true);
  }, 20_000);

  it('exposes the claim to the handler as the current claim', async () => {
    const store = new InMemoryIdempotencyStore();
    let seen: ReturnType<typeof currentIdempotencyClaim>;
    const { run } = pipeline(store, async () => {
      await Promise.resolve();
      seen = currentIdempotencyClaim();
      return undefined;
    });
    await deliver(run, message('m-1'));
    expect(seen).toMatchObject({ store, key: storedKey('orders', 'm-1'), ttlMs: 60_000 });
    expect(currentIdempotencyClaim()).toBeUndefined();
  });

  it('rejects invalid options with every problem', () => {
    const store = new InMemoryIdempotencyStore();
    expect(() => idempotentConsumer(store, { ttlMs: 0, leaseMs: 10, scope: '' })).toThrow(ConfigurationError);
    try {
      idempotentConsumer(store, { ttlMs: 0, leaseMs: 10, scope: '' });
    } catch (e) {
      expect((e as ConfigurationError).problems).toHaveLength(3);
    }
  });
});
