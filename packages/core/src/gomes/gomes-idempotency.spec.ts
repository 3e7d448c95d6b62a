// Idempotent consumers through the gomes API on the in-memory transport: duplicates published,
// a message redelivered after its subscription closed without committing, and two group members
// racing one message during a rebalance each run the handler once.
import 'reflect-metadata';
import { Event } from '../actions/action-decorators.js';
import { defineEventHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import { InMemoryIdempotencyStore } from '../idempotency/in-memory-idempotency-store.js';
import { MessageBuilder } from '../message/message-builder.js';
import { PARTITION_KEY_HEADER } from '../message/message-headers.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { partitionForKey } from '../transport/in-memory/partition-key.js';
import { createGomes } from './create-gomes.js';
import type { Gomes } from './gomes.js';

@Event('paymentReceived')
class PaymentReceived {
  constructor(readonly paymentId: string) {}
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

let instances: Gomes[] = [];
afterEach(async () => {
  await Promise.all(instances.map(async (g) => g.shutdown().catch(() => undefined)));
  instances = [];
});

/** A member of group `ledger` on `payments`, idempotent through `store`. */
function member(
  broker: InMemoryBroker,
  store: IdempotencyStore | undefined,
  handle: (payment: PaymentReceived) => Promise<void> | void,
  shutdownTimeoutMs = 5000,
): Gomes {
  let consumer = inMemoryConsumer('memory', 'payments', 'ledger').withGroupId('ledger');
  if (store) consumer = consumer.withIdempotency(store, { ttlMs: 60_000, leaseMs: 1000 });
  const app = createGomes({ shutdownTimeoutMs })
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'payments'))
    .addConsumerChannel(consumer)
    .addActionHandler(defineEventHandler(PaymentReceived, handle));
  instances.push(app);
  return app;
}

/** Publishes one payment message with a fixed messageId (as a producer retry would). */
async function publishPayment(app: Gomes, paymentId: string, messageId: string, key = paymentId) {
  const message = MessageBuilder.withPayload(new PaymentReceived(paymentId))
    .messageId(messageId)
    .route('paymentReceived')
    .messageType('Event')
    .header(PARTITION_KEY_HEADER, key)
    .build();
  await app.publisherChannel('payments').send(message);
}

describe('idempotent consumers on the in-memory transport', () => {
  it('a message published twice runs its handler once; the copy is acked and counted as a duplicate', async () => {
    const broker = new InMemoryBroker();
    const handled: string[] = [];
    const app = member(broker, new InMemoryIdempotencyStore(), (p) => void handled.push(p.paymentId));
    await app.start();
    const consumer = app.eventDrivenConsumer('ledger').withNackDelay(0);
    await consumer.run();
    await publishPayment(app, 'p-1', 'msg-1');
    await publishPayment(app, 'p-1', 'msg-1');
    await publishPayment(app, 'p-2', 'msg-2');
    await waitFor(() => consumer.stats.acked === 3);
    expect(handled).toEqual(['p-1', 'p-2']);
    expect(consumer.stats).toMatchObject({ succeeded: 2, duplicates: 1, failed: 0 });
  });

  it('without idempotency the same two copies both run (the test above needs the feature)', async () => {
    const broker = new InMemoryBroker();
    const handled: string[] = [];
    const app = member(broker, undefined, (p) => void handled.push(p.paymentId));
    await app.start();
    const consumer = app.eventDrivenConsumer('ledger');
    await consumer.run();
    await publishPayment(app, 'p-1', 'msg-1');
    await publishPayment(app, 'p-1', 'msg-1');
    await waitFor(() => consumer.stats.acked === 2);
    expect(handled).toEqual(['p-1', 'p-1']);
  });

  it('redelivered after the member stopped before committing: the next member skips it as a duplicate', async () => {
    const broker = new InMemoryBroker();
    const shared = new InMemoryIdempotencyStore();
    const marked = gate();
    const never = gate();
    // Member A's store marks the key done, then hangs: A never acks (so never commits) the message.
    const stallsAfterMarking: IdempotencyStore = {
      description: 'stalls after marking',
      claim: async (k, l) => shared.claim(k, l),
      renew: async (k, t, l) => shared.renew(k, t, l),
      release: async (k, t) => shared.release(k, t),
      markDone: async (k, t, ttl) => {
        await shared.markDone(k, t, ttl);
        marked.open();
        await never.promise;
      },
    };
    const runs: string[] = [];
    const a = member(broker, stallsAfterMarking, (p) => void runs.push(`a:${p.paymentId}`), 50);
    await a.start();
    await a.eventDrivenConsumer('ledger').run();
    await publishPayment(a, 'p-1', 'msg-1');
    await marked.promise;
    await a.shutdown(); // budget 50 ms: the stuck delivery is nacked, the subscription closed uncommitted
    expect(broker.committedOffset('ledger', 'payments', 0) ?? 0n).toBe(0n); // msg-1 (offset 0) not committed

    const b = member(broker, shared, (p) => void runs.push(`b:${p.paymentId}`));
    await b.start();
    const consumer = b.eventDrivenConsumer('ledger');
    await consumer.run();
    await waitFor(() => consumer.stats.duplicates === 1);
    expect(runs).toEqual(['a:p-1']);
    await waitFor(() => broker.committedOffset('ledger', 'payments', 0) === 1n);
    never.open();
  });

  it('a revoke whose budget expires: the new owner is turned away while the old handler holds the claim, then skips the message it finished', async () => {
    const broker = new InMemoryBroker();
    broker.createTopic('payments', 2);
    const key = ['k0', 'k1', 'k2', 'k3', 'k4'].find((k) => partitionForKey(k, 2) === 1)!;
    const store = new InMemoryIdempotencyStore();
    const slow = gate();
    const runs: string[] = [];
    const a = member(broker, store, async (p) => {
      runs.push(`a:${p.paymentId}`);
      await slow.promise;
    });
    await a.start();
    // A's handler ignores its signal: after the 50 ms revoke budget, A releases the partition while
    // the handler still runs (its result is never acked by A).
    await a.eventDrivenConsumer('ledger').withRevokeBudget(50).run();
    await publishPayment(a, 'p-1', 'msg-1', key);
    await waitFor(() => runs.length === 1);
    // B joins: partition 1 moves to B, which reads it from its committed offset (nothing yet).
    const b = member(broker, store, (p) => void runs.push(`b:${p.paymentId}`));
    await b.start();
    const consumerB = b.eventDrivenConsumer('ledger').withNackDelay(20);
    await consumerB.run();
    await waitFor(() => consumerB.stats.nacked >= 1); // turned away: A holds the claim
    expect(runs).toEqual(['a:p-1']);
    slow.open();
    // A's attempt was aborted by the revoke (A never acks it), but its handler finished after all:
    // its effects happened, so the claim is marked done and B's redelivery is skipped — one run.
    await waitFor(() => consumerB.stats.duplicates === 1);
    expect(runs).toEqual(['a:p-1']);
    expect(consumerB.stats.succeeded).toBe(0);
  });

  it('start() fails when a store cannot start, and rejects invalid idempotency options with every problem', async () => {
    const broker = new InMemoryBroker();
    const broken: IdempotencyStore = {
      description: 'broken',
      start: async () => Promise.reject(new Error('relation cannot be created')),
      claim: async () => ({ status: 'held' }),
      renew: async () => 'lost',
      markDone: async () => undefined,
      release: async () => undefined,
    };
    const app = member(broker, broken, () => undefined);
    await expect(app.start()).rejects.toMatchObject({
      code: 'GOMES_IDEMPOTENCY_STORE_FAILED',
      message: expect.stringContaining('relation cannot be created') as string,
    });
    const invalid = createGomes()
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addConsumerChannel(
        inMemoryConsumer('memory', 'payments', 'ledger').withIdempotency(new InMemoryIdempotencyStore(), {
          ttlMs: -1,
          leaseMs: 5,
        }),
      )
      .addActionHandler(defineEventHandler(PaymentReceived, () => undefined));
    const error = await invalid.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems.filter((p) => p.includes('idempotency'))).toHaveLength(2);
  });
});
