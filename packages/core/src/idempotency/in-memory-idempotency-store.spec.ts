import { describeIdempotencyStoreContract } from '../testing/idempotency-store-contract.js';
import { InMemoryIdempotencyStore } from './in-memory-idempotency-store.js';

// Store instances of one process share data only through one object: every "instance" is it.
const shared = new InMemoryIdempotencyStore();
describeIdempotencyStoreContract('in-memory', { store: () => shared });

describe('InMemoryIdempotencyStore', () => {
  it('expires leases and markers on its clock and sweeps them', async () => {
    let now = 1000;
    const store = new InMemoryIdempotencyStore({ now: () => now });
    const claim = await store.claim('a', 100);
    expect(claim.status).toBe('claimed');
    expect(store.stateOf('a')).toBe('claimed');
    now += 100;
    expect(store.stateOf('a')).toBeUndefined();
    const again = await store.claim('a', 100);
    if (again.status !== 'claimed') throw new Error('expected a claim');
    await store.markDone('a', again.token, 50);
    expect(store.stateOf('a')).toBe('done');
    expect(store.size).toBe(1);
    now += 50;
    expect(store.size).toBe(0);
  });
});
