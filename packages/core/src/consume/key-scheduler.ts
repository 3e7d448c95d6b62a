/** What running an item decided: finished, or run it again after `delayMs` (its key stays blocked, no processor held). */
export type RunResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'again'; readonly delayMs: number }
  /** Drop the item and every item queued behind it in its key (they are redelivered by the transport). */
  | { readonly kind: 'abandon' };

/** Told when an item that gave its processor back holds one again (see `KeyScheduler.reacquireProcessor`). */
export interface ProcessorResumer {
  resumed(): void;
}

/** The items of one ordering key, oldest first; the head is running, waiting or next. */
interface KeyLane<T> {
  readonly items: T[];
  /** Fair-queuing stamp of each item (parallel to `items`; see `KeyScheduler.#ready`). */
  readonly seqs: number[];
  head: number;
  state: 'queued' | 'ready' | 'running' | 'waiting';
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Runs items on up to `concurrency` processors, strictly in order within a key, keys in parallel.
 *
 * An item whose run asks to go `again` (a retry after a delay) gives its processor back at once: a
 * timer puts it back at the head of its key after the delay, so its key stays blocked while every
 * other key keeps flowing. Memory is bounded by the caller (the partition intake), not here.
 *
 * @internal
 */
export class KeyScheduler<T> {
  readonly #lanes = new Map<string, KeyLane<T>>();
  /**
   * Emptied lanes kept for the next new key: most keys have one item at a time, and a lane object
   * with its two arrays per record showed in the consume profile's allocations. Only a lane that
   * finished normally (nothing refers to it any more: no timer, no heap entry that can still match)
   * is kept.
   */
  readonly #spareLanes: KeyLane<T>[] = [];
  /**
   * Keys whose head may start, by the stamp of their head item (a min-heap). Items of one group (a
   * partition) are stamped in enqueue order, so one processor runs a partition's items in offset
   * order across keys; a group's stamps start at the stamp of the item started last (start-time
   * fair queuing), so groups interleave: a partition whose large batch was enqueued first does not
   * hold back the partitions enqueued after it.
   */
  readonly #ready = new ReadyHeap();
  /** Stamp of the latest item started (the virtual clock). */
  #clock = 0;
  /** Next stamp per group. */
  readonly #groupNext = new Map<string | number, number>();
  readonly #groupOf: ((item: T) => string | number) | undefined;
  #running = 0;
  #size = 0;
  readonly #idleWaiters: (() => void)[] = [];
  /** Running items that gave their processor back and want it again (served before new keys). */
  readonly #resuming: ProcessorResumer[] = [];
  #pumpQueued = false;
  readonly #concurrency: number;
  readonly #keyOf: (item: T) => string;
  readonly #run: (item: T) => Promise<RunResult>;
  readonly #onError: (error: unknown) => void;

  constructor(params: {
    readonly concurrency: number;
    readonly keyOf: (item: T) => string;
    /** The fairness group of an item (its partition); one group when absent. Keys never span groups. */
    readonly groupOf?: (item: T) => string | number;
    readonly run: (item: T) => Promise<RunResult>;
    readonly onError: (error: unknown) => void;
  }) {
    this.#concurrency = params.concurrency;
    this.#keyOf = params.keyOf;
    this.#groupOf = params.groupOf;
    this.#run = params.run;
    this.#onError = params.onError;
  }

  /** Items queued, waiting for a retry, or running. */
  get size(): number {
    return this.#size;
  }

  /** Items running now. */
  get running(): number {
    return this.#running;
  }

  /** Appends `item` behind the other items of its key. */
  enqueue(item: T): void {
    const key = this.#keyOf(item);
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = this.#spareLanes.pop() ?? { items: [], seqs: [], head: 0, state: 'queued', timer: undefined };
      this.#lanes.set(key, lane);
    }
    lane.items.push(item);
    const group = this.#groupOf ? this.#groupOf(item) : 0;
    const stamp = Math.max(this.#groupNext.get(group) ?? 0, this.#clock);
    this.#groupNext.set(group, stamp + 1);
    lane.seqs.push(stamp);
    this.#size++;
    if (lane.state === 'queued') this.#makeReady(key, lane);
    this.#pump();
  }

  /**
   * Drops every item matching `predicate` that is not running (queued, or waiting for a retry);
   * returns them. Running items finish (or are aborted) by their owner.
   */
  remove(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [key, lane] of this.#lanes) {
      const running = lane.state === 'running' ? lane.items[lane.head] : undefined;
      const kept: T[] = [];
      const keptSeqs: number[] = [];
      for (let i = lane.head; i < lane.items.length; i++) {
        const item = lane.items[i] as T;
        if (item !== running && predicate(item)) removed.push(item);
        else {
          kept.push(item);
          keptSeqs.push(lane.seqs[i] as number);
        }
      }
      if (kept.length === lane.items.length - lane.head) continue;
      this.#size -= lane.items.length - lane.head - kept.length;
      lane.items.length = 0;
      lane.items.push(...kept);
      lane.seqs.length = 0;
      lane.seqs.push(...keptSeqs);
      lane.head = 0;
      if (lane.state === 'waiting' && (kept.length === 0 || kept[0] !== running)) {
        clearTimeout(lane.timer);
        lane.timer = undefined;
        lane.state = 'queued';
      }
      if (kept.length === 0 && lane.state !== 'running') this.#lanes.delete(key);
      // A ready lane whose head changed is queued again under its new head's sequence number.
      else if (lane.state === 'queued' || lane.state === 'ready') this.#makeReady(key, lane);
    }
    this.#pump();
    this.#notifyIdle();
    return removed;
  }

  /**
   * Runs `wait` (a retry delay of a running item) without holding a processor: the processor runs
   * other keys meanwhile; the item's key stays blocked. The item gets a processor back (before any
   * key not started yet) once `wait` settled, then this resolves or rejects as `wait` did.
   */
  async withoutProcessor<R>(wait: () => Promise<R>): Promise<R> {
    this.releaseProcessor();
    try {
      return await wait();
    } finally {
      await new Promise<void>((resolve) => this.reacquireProcessor({ resumed: resolve }));
    }
  }

  /**
   * Gives the processor of a running item back now (the low-level half of
   * {@link KeyScheduler.withoutProcessor}): other keys run meanwhile, the item's key stays blocked.
   * The item must call {@link KeyScheduler.reacquireProcessor} once, before its run ends.
   */
  releaseProcessor(): void {
    this.#running--;
    // Handed on in a microtask, not here: the next item's run may itself give its processor back
    // at once (a batch handler's event), and starting it inside this call would nest every such
    // start in the previous one until the stack overflows. One microtask for every release of a turn.
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(this.#queuedPump);
  }

  /**
   * Calls `resumer.resumed()` once the item that called {@link KeyScheduler.releaseProcessor}
   * holds a processor again (served before any key not started yet).
   */
  reacquireProcessor(resumer: ProcessorResumer): void {
    this.#resuming.push(resumer);
    this.#pump();
  }

  readonly #queuedPump = (): void => {
    this.#pumpQueued = false;
    this.#pump();
  };

  /** Drops the keys whose head waits to run again, with everything queued behind it; returns how many items. */
  abandonWaiting(): number {
    let dropped = 0;
    for (const [key, lane] of this.#lanes) {
      if (lane.state !== 'waiting') continue;
      clearTimeout(lane.timer);
      dropped += lane.items.length - lane.head;
      this.#lanes.delete(key);
    }
    this.#size -= dropped;
    this.#notifyIdle();
    return dropped;
  }

  /** Resolves once nothing is queued, waiting or running. */
  async whenIdle(): Promise<void> {
    if (this.#size === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #makeReady(key: string, lane: KeyLane<T>): void {
    lane.state = 'ready';
    this.#ready.push(lane.seqs[lane.head] as number, key);
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#resuming.length > 0) {
      this.#running++;
      (this.#resuming.shift() as ProcessorResumer).resumed();
    }
    while (this.#running < this.#concurrency && this.#ready.size > 0) {
      const key = this.#ready.pop();
      const seq = this.#ready.poppedSeq;
      const lane = this.#lanes.get(key);
      if (!lane || lane.state !== 'ready' || lane.head >= lane.items.length) continue;
      if (lane.seqs[lane.head] !== seq) continue; // stale entry (the lane changed since)
      if (seq > this.#clock) this.#clock = seq;
      lane.state = 'running';
      this.#running++;
      void this.#start(key, lane, lane.items[lane.head] as T);
    }
  }

  async #start(key: string, lane: KeyLane<T>, item: T): Promise<void> {
    let result: RunResult = DONE;
    try {
      result = await this.#run(item);
    } catch (error) {
      this.#onError(error);
    }
    this.#running--;
    const stillHead = lane.items[lane.head] === item && this.#lanes.get(key) === lane;
    if (result.kind === 'again' && stillHead) {
      lane.state = 'waiting';
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        if (lane.state !== 'waiting') return;
        this.#makeReady(key, lane);
        this.#pump();
      }, result.delayMs);
    } else if (result.kind === 'abandon' && stillHead) {
      this.#size -= lane.items.length - lane.head;
      this.#lanes.delete(key);
      lane.state = 'queued';
    } else {
      if (stillHead) {
        lane.head++;
        this.#size--;
      }
      if (lane.head >= lane.items.length) {
        lane.state = 'queued';
        if (this.#lanes.get(key) === lane) {
          this.#lanes.delete(key);
          if (this.#spareLanes.length < MAX_SPARE_LANES) {
            lane.items.length = 0;
            lane.seqs.length = 0;
            lane.head = 0;
            this.#spareLanes.push(lane);
          }
        }
      } else {
        if (lane.head > 64 && lane.head * 2 > lane.items.length) {
          lane.items.splice(0, lane.head);
          lane.seqs.splice(0, lane.head);
          lane.head = 0;
        }
        this.#makeReady(key, lane);
      }
    }
    this.#pump();
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.#size !== 0) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}

const DONE: RunResult = Object.freeze({ kind: 'done' });

/** How many emptied lanes a scheduler keeps for reuse. */
const MAX_SPARE_LANES = 256;

/** A binary min-heap of (stamp, key) pairs. */
class ReadyHeap {
  readonly #seqs: number[] = [];
  readonly #keys: string[] = [];

  get size(): number {
    return this.#seqs.length;
  }

  push(seq: number, key: string): void {
    const seqs = this.#seqs;
    const keys = this.#keys;
    let i = seqs.length;
    seqs.push(seq);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((seqs[parent] as number) <= seq) break;
      seqs[i] = seqs[parent] as number;
      keys[i] = keys[parent] as string;
      i = parent;
    }
    seqs[i] = seq;
    keys[i] = key;
  }

  /** The stamp of the pair {@link ReadyHeap.pop} removed last. */
  poppedSeq = 0;

  /**
   * Removes the smallest pair and returns its key (its stamp is then {@link ReadyHeap.poppedSeq}:
   * no pair array per pop); only when `size > 0`.
   */
  pop(): string {
    const seqs = this.#seqs;
    const keys = this.#keys;
    const top = keys[0] as string;
    this.poppedSeq = seqs[0] as number;
    const lastSeq = seqs.pop() as number;
    const lastKey = keys.pop() as string;
    const n = seqs.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (seqs[r] as number) < (seqs[l] as number) ? r : l;
        if ((seqs[c] as number) >= lastSeq) break;
        seqs[i] = seqs[c] as number;
        keys[i] = keys[c] as string;
        i = c;
      }
      seqs[i] = lastSeq;
      keys[i] = lastKey;
    }
    return top;
  }
}
