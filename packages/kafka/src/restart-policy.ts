/**
 * When a crashed consumer client is started again: capped exponential backoff with jitter, for as long
 * as the subscription runs unless the user bounds the crash loop. Transport-agnostic (no Kafka types):
 * the subscription supplies what a start is and what to do with a failure.
 *
 * @packageDocumentation
 */
import { sleepUnlessAborted } from './internal/async-utils.js';

/** How a crashed consumer client is restarted. @public */
export interface RestartPolicy {
  /**
   * Restarts in a row (the count resets after `healthyRunMs` of running) before the consumer gives
   * up and reports itself dead (`gomes.health()` not live). `Infinity`: never give up — transient
   * broker and network failures heal by themselves.
   */
  readonly maxRestarts: number;
  /** Delay before the first restart; doubled per restart in a row. */
  readonly initialDelayMs: number;
  /** Cap of the doubling delay: the longest wait between two attempts once the broker is back. */
  readonly maxDelayMs: number;
}

/** Running this long without a crash makes the next crash count as the first one again. @internal */
export const HEALTHY_RUN_MS = 60_000;

/**
 * The delay before restart number `attempt` (1-based): `d = min(maxDelayMs, initialDelayMs × 2^(attempt-1))`,
 * then "equal jitter" — uniformly between d/2 and d — so members that crashed together (a broker
 * outage) do not reconnect in lockstep, and the wait never exceeds the cap.
 *
 * @internal
 */
export function restartDelayMs(
  policy: RestartPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const d = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
  return Math.round(d / 2 + random() * (d / 2));
}

/**
 * Counts restarts in a row for a {@link RestartPolicy}: a run of at least {@link HEALTHY_RUN_MS}
 * resets the count.
 *
 * @internal
 */
export class RestartBudget {
  readonly #policy: RestartPolicy;
  readonly #random: () => number;
  #restarts = 0;
  #runningSince: number | undefined;

  constructor(policy: RestartPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Restarts in a row so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The client is running (started, or joined its group) since `at`. */
  running(at = Date.now()): void {
    this.#runningSince ??= at;
  }

  /** The client crashed at `at`: a healthy run before it resets the count. */
  crashed(at = Date.now()): void {
    if (this.#runningSince !== undefined && at - this.#runningSince >= HEALTHY_RUN_MS) this.#restarts = 0;
    this.#runningSince = undefined;
  }

  /** Takes the next restart: its delay, or `undefined` when the policy gives up. */
  next(): number | undefined {
    if (this.#restarts >= this.#policy.maxRestarts) return undefined;
    this.#restarts++;
    return restartDelayMs(this.#policy, this.#restarts, this.#random);
  }
}

/** What {@link restartUntilRunning} needs. @internal */
export interface RestartLoop {
  readonly budget: RestartBudget;
  /** Aborted when the subscription closes: the loop ends without a further attempt. */
  readonly signal: AbortSignal;
  /** One attempt to start the client; rejects when it failed. */
  start(): Promise<void>;
  /** Reports a failed attempt (the loop goes on while the budget allows). */
  onFailure(error: unknown, restart: number): void;
}

/**
 * Restarts until a start succeeds, the subscription closes, or the budget gives up: wait the next
 * delay, try, repeat.
 *
 * @internal
 */
export async function restartUntilRunning(loop: RestartLoop): Promise<'running' | 'closed' | 'gave-up'> {
  for (;;) {
    if (loop.signal.aborted) return 'closed';
    const delay = loop.budget.next();
    if (delay === undefined) return 'gave-up';
    await sleepUnlessAborted(Math.max(1, delay), loop.signal); // a macrotask at least: never a hot loop
    if (loop.signal.aborted) return 'closed';
    try {
      await loop.start();
      return loop.signal.aborted ? 'closed' : 'running';
    } catch (error) {
      if (loop.signal.aborted) return 'closed';
      loop.onFailure(error, loop.budget.restarts);
    }
  }
}
