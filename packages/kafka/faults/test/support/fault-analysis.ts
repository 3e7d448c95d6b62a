// What a fault scenario's record files say: lost, duplicated and out-of-order messages, and how long
// consumption took to resume after a fault. Pure functions over the parsed record lines, so they are
// unit-tested on their own (../unit/fault-analysis.spec.ts).
import { keyOf, kindOf, type FaultKind } from '../../src/app-config.js';

/** A handler completion, as recorded by a consumer process. */
export interface HandledEvent {
  readonly t: number;
  readonly n: number;
  /** Which consumer process handled it. */
  readonly proc: string;
}

/** Everything the publisher and the consumers recorded in one scenario. */
export interface ScenarioRecords {
  readonly total: number;
  readonly keys: number;
  readonly poison: boolean;
  /** Acknowledged sends: message n → when. */
  readonly acked: ReadonlyMap<number, number>;
  /** Failed sends: message n → error code. */
  readonly failedSends: ReadonlyMap<number, string>;
  /** Handler completions, any order. */
  readonly handled: readonly HandledEvent[];
  /** Messages found on the dead-letter topic (by n). */
  readonly deadLettered: ReadonlySet<number>;
}

/** The counts a scenario is judged by. */
export interface DeliveryCounts {
  /** Sends acknowledged by the broker. */
  readonly acked: number;
  /** Sends that failed (by error code). */
  readonly sendFailures: Readonly<Record<string, number>>;
  /** Failed sends whose message was delivered anyway (written although the send failed). */
  readonly failedButDelivered: number;
  /** Distinct messages handled. */
  readonly handled: number;
  /** Acknowledged messages never handled (or, for poison, never dead-lettered). */
  readonly lost: number;
  /** Up to 10 lost message numbers, for the failure message. */
  readonly lostSample: readonly number[];
  /** Handler completions beyond the first of each message. */
  readonly duplicates: number;
  /**
   * First handlings of a message while an earlier acknowledged message of the same key had not been
   * handled yet (poison messages are not required: they are dead-lettered, not handled).
   */
  readonly orderViolations: number;
  readonly orderViolationSample: readonly string[];
  /** Poison messages acknowledged, and how many of them reached the dead-letter topic. */
  readonly poisonAcked: number;
  readonly poisonDeadLettered: number;
}

/** Counts lost, duplicated and out-of-order deliveries. */
export function countDeliveries(r: ScenarioRecords): DeliveryCounts {
  const kind = (n: number): FaultKind => kindOf(n, r.poison);
  const sorted = [...r.handled].sort((a, b) => a.t - b.t);
  const handledCount = new Map<number, number>();
  for (const h of sorted) handledCount.set(h.n, (handledCount.get(h.n) ?? 0) + 1);

  // Required per key: acknowledged, non-poison messages, in send (= sequence) order.
  const required = new Map<number, number[]>();
  for (const n of r.acked.keys()) {
    if (kind(n) !== 'ok') continue;
    const k = n % r.keys;
    let ns = required.get(k);
    if (!ns) required.set(k, (ns = []));
    ns.push(n);
  }
  for (const ns of required.values()) ns.sort((a, b) => a - b);

  // Replay first handlings in time order: each must find every required earlier message of its key
  // handled already.
  const seen = new Set<number>();
  const cursor = new Map<number, number>();
  let orderViolations = 0;
  const orderViolationSample: string[] = [];
  for (const h of sorted) {
    if (seen.has(h.n)) continue;
    seen.add(h.n);
    const k = h.n % r.keys;
    const ns = required.get(k) ?? [];
    let i = cursor.get(k) ?? 0;
    while (i < ns.length && seen.has(ns[i]!)) i++;
    cursor.set(k, i);
    if (i < ns.length && ns[i]! < h.n) {
      orderViolations++;
      if (orderViolationSample.length < 10) {
        const { key, seq } = keyOf(h.n, r.keys);
        orderViolationSample.push(
          `${key}: seq ${seq} handled (by ${h.proc}) before seq ${keyOf(ns[i]!, r.keys).seq}`,
        );
      }
    }
  }

  let lost = 0;
  const lostSample: number[] = [];
  let poisonAcked = 0;
  let poisonDeadLettered = 0;
  for (const n of r.acked.keys()) {
    const k = kind(n);
    const settled = k === 'ok' ? handledCount.has(n) : r.deadLettered.has(n);
    if (k !== 'ok') {
      poisonAcked++;
      if (settled) poisonDeadLettered++;
    }
    if (!settled) {
      lost++;
      if (lostSample.length < 10) lostSample.push(n);
    }
  }
  const sendFailures: Record<string, number> = {};
  let failedButDelivered = 0;
  for (const [n, code] of r.failedSends) {
    sendFailures[code] = (sendFailures[code] ?? 0) + 1;
    if (handledCount.has(n) || r.deadLettered.has(n)) failedButDelivered++;
  }
  let duplicates = 0;
  for (const c of handledCount.values()) duplicates += c - 1;
  return {
    acked: r.acked.size,
    sendFailures,
    failedButDelivered,
    handled: handledCount.size,
    lost,
    lostSample: lostSample.sort((a, b) => a - b),
    duplicates,
    orderViolations,
    orderViolationSample,
    poisonAcked,
    poisonDeadLettered,
  };
}

/** How long after `from` consumption resumed. */
export interface Resumption {
  /** Until the first handler completion after `from`, ms (undefined: none). */
  readonly firstMs: number | undefined;
  /**
   * Until every key with work left resumed: the latest of the keys' first completions after `from`,
   * ms, over the keys that have a completion after `from`.
   */
  readonly allKeysMs: number | undefined;
}

/** Resumption of consumption after `from` (ms since the epoch), from the handler completions. */
export function resumptionAfter(handled: readonly HandledEvent[], keys: number, from: number): Resumption {
  const firstByKey = new Map<number, number>();
  let first: number | undefined;
  for (const h of handled) {
    if (h.t < from) continue;
    const k = h.n % keys;
    const prev = firstByKey.get(k);
    if (prev === undefined || h.t < prev) firstByKey.set(k, h.t);
    if (first === undefined || h.t < first) first = h.t;
  }
  if (first === undefined) return { firstMs: undefined, allKeysMs: undefined };
  return { firstMs: first - from, allKeysMs: Math.max(...firstByKey.values()) - from };
}

/**
 * The longest pause of any key around a fault: over every key, the longest time between two
 * consecutive handler completions (or `from` and the first completion after it) where the pause
 * began before `to`. Keys with no completion after `from` (no work left) do not count.
 */
export function longestKeyPause(
  handled: readonly HandledEvent[],
  keys: number,
  from: number,
  to: number,
): number {
  const byKey = new Map<number, number[]>();
  for (const h of handled) {
    const k = h.n % keys;
    let ts = byKey.get(k);
    if (!ts) byKey.set(k, (ts = []));
    ts.push(h.t);
  }
  let longest = 0;
  for (const ts of byKey.values()) {
    ts.sort((a, b) => a - b);
    let previous = from;
    for (const t of ts) {
      if (t <= from) continue;
      if (previous >= to) break;
      longest = Math.max(longest, t - previous);
      previous = t;
    }
  }
  return longest;
}
