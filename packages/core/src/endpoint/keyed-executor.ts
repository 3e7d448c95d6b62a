import { ConfigurationError } from '../errors/configuration-error.js';
import { toError } from '../errors/gomes-error.js';

/**
 * Options of {@link KeyedExecutor}.
 *
 * @public
 */
export interface KeyedExecutorOptions {
  /** Most tasks running at once. @default 1 */
  readonly concurrency: number;
  /** Most tasks accepted and not finished (queued + running); further submits wait. @default concurrency * 2 */
  readonly capacity?: number;
  /** Receives errors of tasks that rejected (tasks should handle their own errors). */
  readonly onTaskError?: (error: Error, key: string) => void;
}

/** Defaults of {@link KeyedExecutorOptions}. @public */
export const DEFAULT_KEYED_EXECUTOR_OPTIONS: Readonly<Pick<KeyedExecutorOptions, 'concurrency'>> =
  Object.freeze({
    concurrency: 1,
  });

/** Counters of a {@link KeyedExecutor}. @public */
export interface KeyedExecutorStats {
  /** Tasks running now. */
  readonly running: number;
  /** Tasks accepted and waiting to run. */
  readonly queued: number;
  /** Submits waiting for capacity (not accepted yet). */
  readonly waiting: number;
  /** Tasks finished (resolved or rejected). */
  readonly completed: number;
  /** Tasks that rejected. */
  readonly failed: number;
}

/** A unit of work. @public */
export type KeyedTask = () => Promise<void>;

interface Waiter {
  readonly key: string;
  readonly task: KeyedTask;
  readonly accept: () => void;
}

/**
 * Runs tasks with at most `concurrency` at once, while tasks with the **same key run strictly one
 * after another, in submission order** (different keys run in parallel). Ready keys are served by
 * the submission order of their next task (oldest first), so no key starves and, with
 * `concurrency` 1, every task runs in submission order whatever its key.
 *
 * Backpressure: at most `capacity` tasks are accepted and unfinished. `submit()` resolves when its
 * task is **accepted**, not when it finished; beyond capacity it waits (FIFO) until a task finishes.
 * A producer that awaits `submit()` before producing more is therefore bounded.
 *
 * @example
 * ```ts
 * const ex = new KeyedExecutor({ concurrency: 4, capacity: 8 });
 * for (const d of deliveries) await ex.submit(d.key, () => process(d));
 * await ex.drain();
 * ```
 * @public
 */
export class KeyedExecutor {
  readonly #concurrency: number;
  readonly #capacity: number;
  readonly #onTaskError: ((error: Error, key: string) => void) | undefined;
  readonly #queues = new Map<string, { task: KeyedTask; seq: number }[]>();
  /** Keys whose next task can run, sorted by that task's submission sequence. */
  readonly #ready: string[] = [];
  #seq = 0;
  readonly #waiters: Waiter[] = [];
  readonly #drainers: (() => void)[] = [];
  #accepted = 0;
  #running = 0;
  #completed = 0;
  #failed = 0;

  /** @throws ConfigurationError listing every invalid option. */
  constructor(options: KeyedExecutorOptions = DEFAULT_KEYED_EXECUTOR_OPTIONS) {
    const concurrency = options.concurrency;
    const capacity = options.capacity ?? concurrency * 2;
    const problems: string[] = [];
    if (!Number.isInteger(concurrency) || concurrency < 1)
      problems.push(`concurrency must be an integer >= 1 (got ${concurrency})`);
    if (!Number.isInteger(capacity) || capacity < 1)
      problems.push(`capacity must be an integer >= 1 (got ${capacity})`);
    ConfigurationError.throwIfAny(problems, 'keyed executor options');
    this.#concurrency = concurrency;
    this.#capacity = capacity;
    this.#onTaskError = options.onTaskError;
  }

  /** Whether nothing is accepted, running or waiting for capacity. */
  get idle(): boolean {
    return this.#accepted === 0 && this.#waiters.length === 0;
  }

  /** Current counters (a snapshot). */
  get stats(): KeyedExecutorStats {
    return Object.freeze({
      running: this.#running,
      queued: this.#accepted - this.#running,
      waiting: this.#waiters.length,
      completed: this.#completed,
      failed: this.#failed,
    });
  }

  /**
   * Submits `task` under `key`. Resolves once the task is accepted (there was capacity); the task
   * runs later, after every earlier task of the same key finished.
   */
  async submit(key: string, task: KeyedTask): Promise<void> {
    if (this.#accepted < this.#capacity && this.#waiters.length === 0) {
      this.#accept(key, task);
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push({ key, task, accept: resolve }));
  }

  /** Resolves when every submitted task (including those still waiting for capacity) has finished. */
  async drain(): Promise<void> {
    if (this.idle) return;
    await new Promise<void>((resolve) => this.#drainers.push(resolve));
  }

  #accept(key: string, task: KeyedTask): void {
    this.#accepted++;
    const entry = { task, seq: this.#seq++ };
    const queue = this.#queues.get(key);
    if (queue) {
      queue.push(entry);
    } else {
      this.#queues.set(key, [entry]);
      this.#ready.push(key); // the newest task: the end keeps #ready sorted
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift() as string;
      const head = this.#queues.get(key)?.[0];
      if (head) this.#run(key, head.task);
    }
  }

  /** Inserts `key` into #ready at the place of its next task's sequence `seq`. */
  #makeReady(key: string, seq: number): void {
    let lo = 0;
    let hi = this.#ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const midSeq = this.#queues.get(this.#ready[mid] as string)?.[0]?.seq ?? 0;
      if (midSeq < seq) lo = mid + 1;
      else hi = mid;
    }
    this.#ready.splice(lo, 0, key);
  }

  #run(key: string, task: KeyedTask): void {
    this.#running++;
    void (async () => {
      try {
        await task();
      } catch (error) {
        this.#failed++;
        this.#onTaskError?.(toError(error), key);
      } finally {
        // Even when onTaskError throws: the slot and the key must be released.
        this.#finish(key);
      }
    })().catch(() => undefined);
  }

  #finish(key: string): void {
    this.#running--;
    this.#accepted--;
    this.#completed++;
    const queue = this.#queues.get(key);
    queue?.shift();
    if (queue && queue.length > 0) this.#makeReady(key, (queue[0] as { seq: number }).seq);
    else this.#queues.delete(key);
    while (this.#accepted < this.#capacity && this.#waiters.length > 0) {
      const waiter = this.#waiters.shift() as Waiter;
      this.#accept(waiter.key, waiter.task);
      waiter.accept();
    }
    this.#pump();
    if (this.idle) for (const resolve of this.#drainers.splice(0)) resolve();
  }
}
