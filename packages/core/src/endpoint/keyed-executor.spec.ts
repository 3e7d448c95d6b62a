import { waitFor } from '../testing/wait-for.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { KeyedExecutor } from './keyed-executor.js';

/** Resolves after `n` macrotask turns (lets timers of 0–few ms and microtasks run). */
const tick = async (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedExecutor', () => {
  it('rejects invalid options with every problem listed', () => {
    expect(() => new KeyedExecutor({ concurrency: 0, capacity: -1 })).toThrow(ConfigurationError);
    try {
      new KeyedExecutor({ concurrency: 1.5, capacity: 0 });
    } catch (e) {
      expect((e as ConfigurationError).problems).toHaveLength(2);
    }
  });

  it('runs tasks of one key strictly in submission order under random delays, keys in parallel', async () => {
    const ex = new KeyedExecutor({ concurrency: 4, capacity: 1000 });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const started: Record<string, number[]> = {};
    const finished: Record<string, number[]> = {};
    const running = new Set<string>();
    let maxParallel = 0;
    let overlapSameKey = false;
    for (let i = 0; i < 200; i++) {
      const key = keys[i % keys.length] as string;
      await ex.submit(key, async () => {
        if (running.has(key)) overlapSameKey = true;
        running.add(key);
        maxParallel = Math.max(maxParallel, running.size);
        (started[key] ??= []).push(i);
        await tick(Math.floor(Math.random() * 3));
        (finished[key] ??= []).push(i);
        running.delete(key);
      });
    }
    await ex.drain();
    expect(overlapSameKey).toBe(false);
    expect(maxParallel).toBeGreaterThan(1);
    expect(maxParallel).toBeLessThanOrEqual(4);
    for (const key of keys) {
      const expected = [...Array(200).keys()].filter((i) => keys[i % keys.length] === key);
      expect(started[key]).toEqual(expected);
      expect(finished[key]).toEqual(expected);
    }
    expect(ex.idle).toBe(true);
    expect(ex.stats).toMatchObject({ completed: 200, running: 0, queued: 0, waiting: 0, failed: 0 });
  });

  it('serves ready keys by the submission order of their next task: with concurrency 1 every task runs in submission order', async () => {
    const ex = new KeyedExecutor({ concurrency: 1, capacity: 100 });
    const order: number[] = [];
    const keys = ['a', 'a', 'a', 'b', 'b', 'c', 'a', 'd', 'd', 'b', 'c', 'c'];
    for (const [i, key] of keys.entries()) {
      await ex.submit(key, async () => {
        await tick(i % 3);
        order.push(i);
      });
    }
    await ex.drain();
    expect(order).toEqual(keys.map((_, i) => i));
  });

  it('never runs more than `concurrency` tasks', async () => {
    const ex = new KeyedExecutor({ concurrency: 2, capacity: 10 });
    const gates = Array.from({ length: 5 }, deferred);
    let running = 0;
    let max = 0;
    for (const [i, gate] of gates.entries()) {
      await ex.submit(`k${i}`, async () => {
        running++;
        max = Math.max(max, running);
        await gate.promise;
        running--;
      });
    }
    await tick();
    expect(ex.stats.running).toBe(2);
    expect(ex.stats.queued).toBe(3);
    gates.forEach((g) => g.resolve());
    await ex.drain();
    expect(max).toBe(2);
  });

  it('submit resolves on acceptance and waits beyond capacity (backpressure), FIFO', async () => {
    const ex = new KeyedExecutor({ concurrency: 1, capacity: 2 });
    const gate = deferred();
    const accepted: number[] = [];
    const ran: number[] = [];
    const submits = [0, 1, 2, 3].map(async (i) => {
      await ex.submit('k', async () => {
        ran.push(i);
        await gate.promise;
      });
      accepted.push(i);
    });
    await tick();
    expect(accepted).toEqual([0, 1]);
    expect(ex.stats).toMatchObject({ running: 1, queued: 1, waiting: 2 });
    expect(ex.idle).toBe(false);
    gate.resolve();
    await Promise.all(submits);
    await ex.drain();
    expect(accepted).toEqual([0, 1, 2, 3]);
    expect(ran).toEqual([0, 1, 2, 3]);
  });

  it('bounds accepted + running to capacity at all times', async () => {
    const ex = new KeyedExecutor({ concurrency: 3, capacity: 5 });
    let outstanding = 0;
    let maxOutstanding = 0;
    for (let i = 0; i < 50; i++) {
      await ex.submit(String(i % 7), async () => {
        await tick(Math.floor(Math.random() * 2));
      });
      outstanding = ex.stats.running + ex.stats.queued;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
    }
    await ex.drain();
    expect(maxOutstanding).toBeLessThanOrEqual(5);
  });

  it('reports failing tasks and keeps going', async () => {
    const errors: string[] = [];
    const ex = new KeyedExecutor({
      concurrency: 1,
      onTaskError: (e, key) => errors.push(`${key}:${e.message}`),
    });
    const ran: string[] = [];
    await ex.submit('k', async () => {
      throw new Error('boom');
    });
    await ex.submit('k', async () => {
      ran.push('second');
    });
    await ex.drain();
    expect(errors).toEqual(['k:boom']);
    expect(ran).toEqual(['second']);
    expect(ex.stats.failed).toBe(1);
  });

  it('drain resolves immediately when idle and waits for waiting submits too', async () => {
    const ex = new KeyedExecutor({ concurrency: 1, capacity: 1 });
    await ex.drain();
    const gate = deferred();
    await ex.submit('a', async () => gate.promise);
    let secondDone = false;
    void ex.submit('b', async () => {
      secondDone = true;
    });
    let drained = false;
    const d = ex.drain().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    gate.resolve();
    await d;
    expect(secondDone).toBe(true);
  });

  it('releases the slot and the key even when onTaskError throws', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ex = new KeyedExecutor({
        concurrency: 1,
        capacity: 2,
        onTaskError: () => {
          throw new Error('listener bug');
        },
      });
      let secondRan = false;
      await ex.submit('k', async () => Promise.reject(new Error('task failed')));
      await ex.submit('k', async () => {
        secondRan = true;
      });
      await waitFor(() => secondRan, 2000, { description: 'the next task of the key runs' });
      await ex.drain();
      expect(ex.stats).toMatchObject({ running: 0, queued: 0, completed: 2, failed: 1 });
      expect(ex.idle).toBe(true);
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
