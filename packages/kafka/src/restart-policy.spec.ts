import { HEALTHY_RUN_MS, RestartBudget, restartDelayMs, restartUntilRunning } from './restart-policy.js';

const policy = { maxRestarts: Infinity, initialDelayMs: 1000, maxDelayMs: 5000 };

describe('restart policy', () => {
  it('doubles the delay per restart up to the cap, with equal jitter (between d/2 and d)', () => {
    const low = (n: number): number => restartDelayMs(policy, n, () => 0);
    const high = (n: number): number => restartDelayMs(policy, n, () => 1);
    expect([1, 2, 3, 4, 5, 50].map(high)).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    expect([1, 2, 3, 4, 5, 50].map(low)).toEqual([500, 1000, 2000, 2500, 2500, 2500]);
    expect(restartDelayMs(policy, 10_000, () => 0.5)).toBe(3750); // no overflow, never above the cap
  });

  it('never gives up by default; a finite maxRestarts gives up after that many restarts in a row', () => {
    const unbounded = new RestartBudget(policy);
    for (let i = 0; i < 10_000; i++) expect(unbounded.next()).toBeDefined();
    const bounded = new RestartBudget({ ...policy, maxRestarts: 2 });
    expect(bounded.next()).toBeDefined();
    expect(bounded.next()).toBeDefined();
    expect(bounded.next()).toBeUndefined();
    expect(bounded.restarts).toBe(2);
  });

  it('counts a crash after a healthy run as the first again', () => {
    const budget = new RestartBudget({ ...policy, maxRestarts: 1 }, () => 1);
    budget.running(0);
    budget.crashed(1000); // a short run: the count stays
    expect(budget.next()).toBe(1000);
    budget.running(2000);
    budget.crashed(2000 + HEALTHY_RUN_MS - 1);
    expect(budget.next()).toBeUndefined();
    budget.running(100_000);
    budget.crashed(100_000 + HEALTHY_RUN_MS); // a healthy run: starts over
    expect(budget.restarts).toBe(0);
    expect(budget.next()).toBe(1000);
  });

  it('restartUntilRunning: retries failed starts with the budget, reports each failure, and stops on abort or when the budget gives up', async () => {
    const failures: number[] = [];
    let attempts = 0;
    const fast = { maxRestarts: Infinity, initialDelayMs: 1, maxDelayMs: 2 };
    const running = await restartUntilRunning({
      budget: new RestartBudget(fast),
      signal: new AbortController().signal,
      start: async () => {
        if (++attempts < 4) throw new Error(`attempt ${attempts}`);
      },
      onFailure: (_error, restart) => failures.push(restart),
    });
    expect(running).toBe('running');
    expect(failures).toEqual([1, 2, 3]);

    const gaveUp = await restartUntilRunning({
      budget: new RestartBudget({ ...fast, maxRestarts: 2 }),
      signal: new AbortController().signal,
      start: async () => Promise.reject(new Error('down')),
      onFailure: () => undefined,
    });
    expect(gaveUp).toBe('gave-up');

    const aborter = new AbortController();
    const closed = restartUntilRunning({
      budget: new RestartBudget({ ...fast, initialDelayMs: 60_000, maxDelayMs: 60_000 }),
      signal: aborter.signal,
      start: async () => undefined,
      onFailure: () => undefined,
    });
    aborter.abort();
    await expect(closed).resolves.toBe('closed');
  });
});
