import { waitFor } from '../testing/wait-for.js';
import { KeyScheduler, type RunResult } from './key-scheduler.js';

interface Item {
  readonly key: string;
  readonly n: number;
}

/** A run whose finish the test controls. */
function controlled(): {
  run: (item: Item) => Promise<RunResult>;
  started: Item[];
  finish: (n: number, result?: RunResult) => void;
} {
  const started: Item[] = [];
  const pending = new Map<number, (r: RunResult) => void>();
  return {
    started,
    run: async (item) =>
      new Promise<RunResult>((resolve) => {
        started.push(item);
        pending.set(item.n, resolve);
      }),
    finish: (n, result = { kind: 'done' }) => {
      const resolve = pending.get(n);
      pending.delete(n);
      resolve?.(result);
    },
  };
}

function scheduler(concurrency: number, run: (item: Item) => Promise<RunResult>): KeyScheduler<Item> {
  return new KeyScheduler<Item>({ concurrency, keyOf: (i) => i.key, run, onError: () => undefined });
}

describe('KeyScheduler', () => {
  it('runs keys in parallel up to the concurrency, one item at a time within a key, in order', async () => {
    const c = controlled();
    const s = scheduler(2, c.run);
    [
      { key: 'a', n: 1 },
      { key: 'a', n: 2 },
      { key: 'b', n: 3 },
      { key: 'c', n: 4 },
    ].forEach((i) => s.enqueue(i));
    expect(c.started.map((i) => i.n)).toEqual([1, 3]);
    c.finish(1);
    await waitFor(() => c.started.length === 3);
    // a#2 was enqueued before c#4: the oldest ready item starts first.
    expect(c.started.map((i) => i.n)).toEqual([1, 3, 2]);
    c.finish(3);
    await waitFor(() => c.started.length === 4);
    expect(c.started.map((i) => i.n)).toEqual([1, 3, 2, 4]);
    c.finish(4);
    c.finish(2);
    await s.whenIdle();
    expect(s.size).toBe(0);
  });

  it('with one processor, runs items of different keys in enqueue (offset) order', async () => {
    const ran: number[] = [];
    const s = scheduler(1, async (item) => {
      ran.push(item.n);
      await Promise.resolve();
      return { kind: 'done' };
    });
    // Two records of key a, then b, then a again, then b twice: one processor must keep this order.
    ['a', 'a', 'b', 'a', 'b', 'b', 'c', 'a'].forEach((key, n) => s.enqueue({ key, n }));
    await s.whenIdle();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('interleaves groups (partitions): a group enqueued in bulk first does not hold back the others', async () => {
    // One processor; partition p0's whole batch is enqueued before p1's and p2's (one fetch hands
    // over partition after partition). Each partition's items still run in enqueue (offset) order.
    interface Grouped extends Item {
      readonly group: string;
    }
    const started: Grouped[] = [];
    const s = new KeyScheduler<Grouped>({
      concurrency: 1,
      keyOf: (i) => `${i.group}/${i.key}`,
      groupOf: (i) => i.group,
      run: async (item) => {
        started.push(item);
        await Promise.resolve();
        return { kind: 'done' };
      },
      onError: () => undefined,
    });
    let n = 0;
    for (const group of ['p0', 'p1', 'p2'])
      for (let i = 0; i < 4; i++) s.enqueue({ group, key: `k${i}`, n: n++ });
    await s.whenIdle();
    const order = started.map((i) => `${i.group}:${i.n}`);
    // p0:0 started at once; then the first items of p1 and p2 (stamped at the clock), then p0:1.
    expect(order[0]).toBe('p0:0');
    expect(new Set(order.slice(1, 3))).toEqual(new Set(['p1:4', 'p2:8']));
    expect(order[3]).toBe('p0:1');
    for (const group of ['p0', 'p1', 'p2']) {
      const ns = started.filter((i) => i.group === group).map((i) => i.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    // Fair: within the first 6 starts every partition ran at least once.
    expect(new Set(started.slice(0, 6).map((i) => i.group))).toEqual(new Set(['p0', 'p1', 'p2']));
  });

  it('keeps enqueue order across keys after queued items were removed', async () => {
    const c = controlled();
    const s = scheduler(1, c.run);
    ['a', 'b', 'b', 'c'].forEach((key, n) => s.enqueue({ key, n }));
    expect(c.started.map((i) => i.n)).toEqual([0]);
    expect(s.remove((i) => i.n === 1).map((i) => i.n)).toEqual([1]);
    c.finish(0);
    await waitFor(() => c.started.length === 2);
    c.finish(2);
    await waitFor(() => c.started.length === 3);
    c.finish(3);
    await s.whenIdle();
    expect(c.started.map((i) => i.n)).toEqual([0, 2, 3]);
  });

  it('an item asked to run again waits without a processor: other keys run meanwhile, its key stays blocked', async () => {
    const c = controlled();
    const s = scheduler(1, c.run);
    s.enqueue({ key: 'a', n: 1 });
    s.enqueue({ key: 'a', n: 2 });
    s.enqueue({ key: 'b', n: 3 });
    c.finish(1, { kind: 'again', delayMs: 50 });
    await waitFor(() => c.started.length === 2);
    expect(c.started.map((i) => i.n)).toEqual([1, 3]);
    c.finish(3);
    await waitFor(() => c.started.length === 3);
    expect(c.started.map((i) => i.n)).toEqual([1, 3, 1]);
    c.finish(1);
    await waitFor(() => c.started.length === 4);
    expect(c.started[3]?.n).toBe(2);
    c.finish(2);
    await s.whenIdle();
  });

  it('withoutProcessor gives the processor to another key and takes one back before new keys', async () => {
    const order: string[] = [];
    let releaseWait!: () => void;
    const waited = new Promise<void>((resolve) => (releaseWait = resolve));
    const gates = new Map<number, () => void>();
    const s: KeyScheduler<Item> = new KeyScheduler<Item>({
      concurrency: 1,
      keyOf: (i) => i.key,
      onError: () => undefined,
      run: async (item) => {
        order.push(`start ${item.n}`);
        if (item.n === 1) {
          await s.withoutProcessor(async () => waited);
          order.push('resumed 1');
        } else await new Promise<void>((resolve) => gates.set(item.n, resolve));
        order.push(`end ${item.n}`);
        return { kind: 'done' };
      },
    });
    s.enqueue({ key: 'a', n: 1 });
    s.enqueue({ key: 'b', n: 2 });
    s.enqueue({ key: 'c', n: 3 });
    await waitFor(() => order.includes('start 2'));
    releaseWait();
    gates.get(2)?.();
    await waitFor(() => order.includes('end 1'));
    expect(order.slice(0, 5)).toEqual(['start 1', 'start 2', 'end 2', 'resumed 1', 'end 1']);
    await waitFor(() => gates.has(3));
    gates.get(3)?.();
    await s.whenIdle();
  });

  it('releaseProcessor lets every other key start; reacquireProcessor gives each a processor back before new keys, within the concurrency', async () => {
    const order: string[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let holding = 0;
    let maxHolding = 0;
    const s: KeyScheduler<Item> = new KeyScheduler<Item>({
      concurrency: 2,
      keyOf: (i) => i.key,
      onError: () => undefined,
      run: async (item) => {
        order.push(`start ${item.n}`);
        if (item.n === 100) return { kind: 'done' };
        s.releaseProcessor();
        await gate;
        await new Promise<void>((resumed) => s.reacquireProcessor({ resumed }));
        holding++;
        maxHolding = Math.max(maxHolding, holding);
        order.push(`resumed ${item.n}`);
        // A new key arrives while the others still wait for their processor.
        if (item.n === 0) s.enqueue({ key: 'late', n: 100 });
        for (let hop = 0; hop < 3; hop++) await Promise.resolve();
        holding--;
        return { kind: 'done' };
      },
    });
    for (let n = 0; n < 10; n++) s.enqueue({ key: `k${n}`, n });
    // Two processors, ten keys: all started because each gave its processor back.
    await waitFor(() => order.length === 10);
    expect(s.running).toBe(0);
    open();
    await s.whenIdle();
    const late = order.indexOf('start 100');
    for (let n = 0; n < 10; n++) expect(order.indexOf(`resumed ${n}`)).toBeLessThan(late);
    expect(maxHolding).toBe(2);
  });

  it('remove drops queued and waiting items of a predicate, never the running one', async () => {
    const c = controlled();
    const s = scheduler(1, c.run);
    s.enqueue({ key: 'a', n: 1 });
    s.enqueue({ key: 'a', n: 2 });
    s.enqueue({ key: 'b', n: 3 });
    const removed = s.remove((i) => i.n !== 3);
    expect(removed.map((i) => i.n)).toEqual([2]);
    expect(s.size).toBe(2);
    c.finish(1);
    await waitFor(() => c.started.length === 2);
    expect(c.started.map((i) => i.n)).toEqual([1, 3]);
    c.finish(3);
    await s.whenIdle();
  });
});

describe('KeyScheduler abandoning', () => {
  it('abandon drops the item and its key queue; abandonWaiting drops keys waiting to run again', async () => {
    const c = controlled();
    const s = scheduler(2, c.run);
    s.enqueue({ key: 'a', n: 1 });
    s.enqueue({ key: 'a', n: 2 });
    s.enqueue({ key: 'b', n: 3 });
    s.enqueue({ key: 'b', n: 4 });
    c.finish(1, { kind: 'abandon' });
    c.finish(3, { kind: 'again', delayMs: 60_000 });
    await waitFor(() => s.size === 2 && s.running === 0);
    expect(s.abandonWaiting()).toBe(2);
    await s.whenIdle();
    expect(c.started.map((i) => i.n)).toEqual([1, 3]);
  });
  it('items that give their processor back at once start one after another without growing the stack', async () => {
    // A batch handler's events (or polled deliveries) wait without a processor as soon as they
    // start: with thousands of records ready, handing the freed processor on synchronously nested
    // every start in the previous one until the stack overflowed.
    const errors: unknown[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let release: () => void = () => undefined;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const s: KeyScheduler<Item> = new KeyScheduler<Item>({
      concurrency: 1,
      keyOf: (i) => i.key,
      run: async (item) => {
        started++;
        if (item.n === 0) await blocker;
        else await s.withoutProcessor(async () => gate);
        return { kind: 'done' };
      },
      onError: (error) => errors.push(error),
    });
    const items = 20_000;
    for (let n = 0; n <= items; n++) s.enqueue({ key: `k${n}`, n });
    release();
    await waitFor(() => started === items + 1);
    open();
    await s.whenIdle();
    expect(errors).toEqual([]);
    expect(s.size).toBe(0);
  });
});
