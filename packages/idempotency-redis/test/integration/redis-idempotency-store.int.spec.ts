// RedisIdempotencyStore on the machine's real Redis: the store contract (several clients sharing
// one server, as members of different processes would), the key layout and start().
import { describeIdempotencyStoreContract } from '@gomes/core/testing';
import { RedisIdempotencyStore } from '@gomes/idempotency-redis';
import { closeClients, testRedis, uniquePrefix } from '../support/redis-test-env.js';

const prefix = uniquePrefix('contract');
describeIdempotencyStoreContract('redis', {
  // Each store has a client of its own.
  store: async () => new RedisIdempotencyStore(await testRedis(), { keyPrefix: prefix }),
  teardown: async () => {
    const redis = await testRedis();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await closeClients();
  },
});

describe('RedisIdempotencyStore', () => {
  afterAll(closeClients);

  it('keeps one Redis string per key: claim:<token> with the lease as PTTL, then done with the TTL', async () => {
    const redis = await testRedis();
    const keyPrefix = uniquePrefix('layout');
    const store = new RedisIdempotencyStore(redis, { keyPrefix });
    await store.start();
    const claim = await store.claim('orders:m-1', 5000);
    if (claim.status !== 'claimed') throw new Error('expected a claim');
    expect(await redis.get(`${keyPrefix}orders:m-1`)).toBe(`claim:${claim.token}`);
    const leaseTtl = await redis.pttl(`${keyPrefix}orders:m-1`);
    expect(leaseTtl).toBeGreaterThan(4000);
    expect(leaseTtl).toBeLessThanOrEqual(5000);
    await store.markDone('orders:m-1', claim.token, 60_000);
    expect(await redis.get(`${keyPrefix}orders:m-1`)).toBe('done');
    expect(await redis.pttl(`${keyPrefix}orders:m-1`)).toBeGreaterThan(59_000);
    await redis.del(`${keyPrefix}orders:m-1`);
  });

  it('start() fails when Redis does not answer', async () => {
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    await expect(new RedisIdempotencyStore(dead).start()).rejects.toThrow();
    dead.disconnect();
  });
});
