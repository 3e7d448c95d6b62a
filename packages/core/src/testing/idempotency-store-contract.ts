import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import { testGlobals } from './test-globals.js';
import { waitFor } from './wait-for.js';

/**
 * How {@link describeIdempotencyStoreContract} reaches a store.
 *
 * @public
 */
export interface IdempotencyStoreContractFactory {
  /**
   * A store on the shared backend. Called several times per test: every store it returns must see
   * the same data (as members of different processes would). The suite calls `start()` on each.
   */
  store(): IdempotencyStore | Promise<IdempotencyStore>;
  /** Runs once before the suite. */
  setup?(): Promise<void>;
  /** Runs once after the suite (close clients). */
  teardown?(): Promise<void>;
  /** Jest timeout of each test, in ms. @default 30000 */
  readonly testTimeoutMs?: number;
}

function tokenOf(claim: Awaited<ReturnType<IdempotencyStore['claim']>>): string {
  assert.equal(claim.status, 'claimed', `expected a claim, got ${claim.status}`);
  return (claim as { token: string }).token;
}

/**
 * Defines jest tests that check an {@link IdempotencyStore} against the contract the idempotent
 * consumer relies on: claim / held / done, release by the lease holder only, lease and marker
 * expiry, renewal, and one winner among concurrent claims from several store instances. Call it at
 * the top level of a spec file. Real time is used (leases of a few hundred ms).
 *
 * @example
 * ```ts
 * describeIdempotencyStoreContract('in-memory', { store: () => shared });
 * ```
 * @public
 */
export function describeIdempotencyStoreContract(
  name: string,
  factory: IdempotencyStoreContractFactory,
): void {
  const { describe, it, beforeAll, afterAll } = testGlobals('describeIdempotencyStoreContract', [
    'describe',
    'it',
    'beforeAll',
    'afterAll',
  ]);
  const timeout = factory.testTimeoutMs ?? 30_000;
  const store = async (): Promise<IdempotencyStore> => {
    const s = await factory.store();
    await s.start?.();
    return s;
  };
  const key = (label: string): string => `contract:${label}:${randomUUID()}`;

  describe(`idempotency store contract: ${name}`, () => {
    if (factory.setup) beforeAll(async () => factory.setup?.(), timeout);
    if (factory.teardown) afterAll(async () => factory.teardown?.(), timeout);

    it(
      'claims a new key once: a second claim finds it held, by this or another store instance',
      async () => {
        const [a, b] = [await store(), await store()];
        const k = key('held');
        const first = await a.claim(k, 10_000);
        tokenOf(first);
        assert.deepEqual(await a.claim(k, 10_000), { status: 'held' });
        assert.deepEqual(await b.claim(k, 10_000), { status: 'held' });
        assert.equal((await a.claim(key('other'), 10_000)).status, 'claimed', 'keys are independent');
      },
      timeout,
    );

    it(
      'a key marked done answers done to every claim; release cannot undo it',
      async () => {
        const [a, b] = [await store(), await store()];
        const k = key('done');
        const token = tokenOf(await a.claim(k, 10_000));
        await a.markDone(k, token, 60_000);
        assert.deepEqual(await b.claim(k, 10_000), { status: 'done' });
        await a.release(k, token);
        assert.deepEqual(await a.claim(k, 10_000), { status: 'done' });
      },
      timeout,
    );

    it(
      'release frees the key for the next claim, but only with the holder token',
      async () => {
        const [a, b] = [await store(), await store()];
        const k = key('release');
        const token = tokenOf(await a.claim(k, 10_000));
        await b.release(k, 'not-the-token');
        assert.deepEqual(await b.claim(k, 10_000), { status: 'held' });
        await a.release(k, token);
        const again = tokenOf(await b.claim(k, 10_000));
        assert.notEqual(again, token, 'each claim gets a new token');
        await a.release(k, token); // a stale token releases nothing
        assert.deepEqual(await a.claim(k, 10_000), { status: 'held' });
      },
      timeout,
    );

    it(
      'an expired lease can be claimed by another member, and the old holder cannot renew or release it',
      async () => {
        const [a, b] = [await store(), await store()];
        const k = key('lease');
        const old = tokenOf(await a.claim(k, 300));
        const token = await waitFor(
          async () => {
            const c = await b.claim(k, 10_000);
            return c.status === 'claimed' ? c.token : undefined;
          },
          5000,
          { intervalMs: 50, description: 'the lease to expire' },
        );
        assert.equal(await a.renew(k, old, 10_000), 'lost');
        await a.release(k, old);
        assert.deepEqual(await a.claim(k, 10_000), { status: 'held' });
        await b.markDone(k, token!, 60_000);
        assert.deepEqual(await a.claim(k, 10_000), { status: 'done' });
      },
      timeout,
    );

    it(
      'renew keeps a lease alive past its first expiry; it reports done once the key is marked',
      async () => {
        const [a, b] = [await store(), await store()];
        const k = key('renew');
        const token = tokenOf(await a.claim(k, 600));
        const until = Date.now() + 1500;
        while (Date.now() < until) {
          assert.equal(await a.renew(k, token, 600), 'renewed');
          assert.deepEqual(await b.claim(k, 600), { status: 'held' });
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
        assert.equal(await b.renew(k, 'not-the-token', 600), 'lost');
        await a.markDone(k, token, 60_000);
        assert.equal(await a.renew(k, token, 600), 'done');
      },
      timeout,
    );

    it(
      'a done marker expires after its time to live: the key can be claimed again',
      async () => {
        const a = await store();
        const k = key('ttl');
        await a.markDone(k, tokenOf(await a.claim(k, 10_000)), 300);
        assert.deepEqual(await a.claim(k, 10_000), { status: 'done' });
        await waitFor(async () => (await a.claim(k, 10_000)).status === 'claimed', 5000, {
          intervalMs: 50,
          description: 'the done marker to expire',
        });
      },
      timeout,
    );

    it(
      'of 40 concurrent claims of one key from 4 store instances exactly one wins',
      async () => {
        const stores = [await store(), await store(), await store(), await store()];
        for (let round = 0; round < 3; round++) {
          const k = key(`race-${round}`);
          const claims = await Promise.all(
            Array.from({ length: 40 }, async (_, i) => stores[i % stores.length]!.claim(k, 10_000)),
          );
          assert.equal(claims.filter((c) => c.status === 'claimed').length, 1);
          assert.equal(claims.filter((c) => c.status === 'held').length, 39);
        }
      },
      timeout,
    );

    it(
      'keys may hold any characters and be long',
      async () => {
        const a = await store();
        const keys = [key('a:b:c'), key('ünï cödé ✓'), key('quote\'"\\%_*?[]{}'), key('x'.repeat(400))];
        for (const k of keys) {
          const token = tokenOf(await a.claim(k, 10_000));
          await a.markDone(k, token, 60_000);
        }
        for (const k of keys) assert.deepEqual(await a.claim(k, 10_000), { status: 'done' });
        await a.start?.(); // start is idempotent
      },
      timeout,
    );
  });
}
