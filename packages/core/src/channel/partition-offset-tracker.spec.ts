import { isGomesError } from '../errors/gomes-error.js';
import { PartitionOffsetTracker } from './partition-offset-tracker.js';

/** Deterministic PRNG (mulberry32) so shuffles are reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PartitionOffsetTracker', () => {
  it('starts at the start offset with nothing in flight', () => {
    const t = new PartitionOffsetTracker(42n);
    expect(t.committable).toBe(42n);
    expect(t.inFlight).toBe(0);
  });

  it('stays at the lowest un-acked offset while tracking', () => {
    const t = new PartitionOffsetTracker(0n);
    t.track(0n);
    t.track(1n);
    expect(t.committable).toBe(0n);
    expect(t.inFlight).toBe(2);
  });

  it('advances to highest tracked + 1 once everything is acked', () => {
    const t = new PartitionOffsetTracker(5n);
    t.track(5n);
    t.track(6n);
    expect(t.ack(5n)).toBe(true);
    expect(t.committable).toBe(6n);
    expect(t.ack(6n)).toBe(true);
    expect(t.committable).toBe(7n);
    expect(t.inFlight).toBe(0);
  });

  it('is gap-safe: an ack above an un-acked offset does not advance', () => {
    const t = new PartitionOffsetTracker(0n);
    for (let i = 0n; i < 4n; i++) t.track(i);
    expect(t.ack(2n)).toBe(false);
    expect(t.ack(1n)).toBe(false);
    expect(t.committable).toBe(0n);
    expect(t.ack(0n)).toBe(true);
    expect(t.committable).toBe(3n);
    expect(t.inFlight).toBe(1);
  });

  it('ignores duplicate acks and acks of untracked offsets', () => {
    const t = new PartitionOffsetTracker(0n);
    t.track(0n);
    expect(t.ack(7n)).toBe(false);
    expect(t.ack(0n)).toBe(true);
    expect(t.ack(0n)).toBe(false);
    expect(t.inFlight).toBe(0);
    expect(t.committable).toBe(1n);
  });

  it('handles non-contiguous offsets (compaction gaps)', () => {
    const t = new PartitionOffsetTracker(0n);
    t.track(3n);
    expect(t.committable).toBe(3n);
    t.track(10n);
    t.ack(10n);
    expect(t.committable).toBe(3n);
    t.ack(3n);
    expect(t.committable).toBe(11n);
  });

  it('rejects offsets tracked out of order', () => {
    const t = new PartitionOffsetTracker(10n);
    expect(() => t.track(9n)).toThrow(expect.objectContaining({ code: 'GOMES_ILLEGAL_STATE' }));
    t.track(10n);
    let thrown: unknown;
    try {
      t.track(10n);
    } catch (e) {
      thrown = e;
    }
    expect(isGomesError(thrown)).toBe(true);
  });

  it('reset forgets everything >= the offset and resumes there', () => {
    const t = new PartitionOffsetTracker(0n);
    for (let i = 0n; i < 6n; i++) t.track(i);
    t.ack(0n);
    t.ack(4n);
    t.reset(2n); // forgets 2..5 (4 was acked)
    expect(t.inFlight).toBe(1); // only 1 remains
    expect(t.committable).toBe(1n);
    expect(t.isInFlight(3n)).toBe(false);
    expect(t.ack(3n)).toBe(false);
    t.track(2n); // re-tracked after the seek
    expect(t.ack(1n)).toBe(true);
    expect(t.committable).toBe(2n);
    expect(t.ack(2n)).toBe(true);
    expect(t.committable).toBe(3n);
  });

  it('reset with nothing in flight moves the committable offset to the seek target', () => {
    const t = new PartitionOffsetTracker(0n);
    t.track(0n);
    t.ack(0n);
    t.reset(0n);
    expect(t.committable).toBe(0n);
    t.track(0n);
    expect(t.committable).toBe(0n);
  });

  it('never commits past an un-acked offset with many out-of-order processors', () => {
    const random = rng(1234);
    const total = 5000;
    const t = new PartitionOffsetTracker(0n);
    const acked = new Set<number>();
    const pending: number[] = [];
    let next = 0;
    let lastCommittable = 0n;
    while (acked.size < total) {
      // Hand over a random batch (up to 16 "processors" in flight), then finish a random one.
      while (next < total && pending.length < 16 && random() < 0.7) {
        t.track(BigInt(next));
        pending.push(next++);
      }
      if (pending.length === 0) continue;
      const [done] = pending.splice(Math.floor(random() * pending.length), 1) as [number];
      const before = t.committable;
      const advanced = t.ack(BigInt(done));
      acked.add(done);
      expect(advanced).toBe(t.committable > before);
      // Model: committable = lowest un-acked tracked, else next.
      const expected = pending.length > 0 ? BigInt(Math.min(...pending)) : BigInt(next);
      expect(t.committable).toBe(expected);
      expect(t.committable >= lastCommittable).toBe(true);
      expect(t.inFlight).toBe(pending.length);
      lastCommittable = t.committable;
    }
    expect(t.committable).toBe(BigInt(total));
  });

  it('holds a large reversed ack sequence and releases it all with the first offset', () => {
    const n = 200_000;
    const t = new PartitionOffsetTracker(0n);
    for (let i = 0; i < n; i++) t.track(BigInt(i));
    let advanced = 0;
    for (let i = n - 1; i >= 1; i--) if (t.ack(BigInt(i))) advanced++;
    expect(advanced).toBe(0);
    expect(t.committable).toBe(0n);
    expect(t.ack(0n)).toBe(true);
    expect(t.committable).toBe(BigInt(n));
    expect(t.inFlight).toBe(0);
  });

  it('compacts its queue over a long in-order run', () => {
    const t = new PartitionOffsetTracker(0n);
    for (let i = 0; i < 10_000; i++) {
      t.track(BigInt(i));
      t.track(BigInt(i) + 100_000n);
      t.ack(BigInt(i));
      t.reset(BigInt(i) + 1n);
    }
    expect(t.committable).toBe(10_000n);
    expect(t.inFlight).toBe(0);
  });
});
