/**
 * What the fault-tolerance suite tells a fault app (a child process built only from gomes' public
 * API) to do, and the lines the app writes to its record file. Shared by the apps (`fault-app.ts`)
 * and the orchestrating tests (`packages/kafka/faults/test`).
 */

/** Settings of the Kafka connection every fault app opens. */
export interface ConnectionConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Append-only file the app writes its record lines to (see {@link RecordLine}). */
  readonly recordFile: string;
}

/** A consumer process: one gomes instance, one Kafka consumer channel, one event-driven consumer. */
export interface ConsumerAppConfig extends ConnectionConfig {
  readonly role: 'consumer';
  readonly group: string;
  /** Processors of the event-driven consumer (handlers run in parallel across keys). */
  readonly processors: number;
  /** Work per message (a timer), so the consumer has a realistic, bounded throughput. */
  readonly handlerDelayMs: number;
  /** Consumer channel options; `undefined` keeps gomes' default. */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly commitIntervalMs?: number;
  /** Dead-letter topic: always-throwing messages (after retries) and undecodable records go there. */
  readonly deadLetterTopic?: string;
  /** How often the app records `gomes.health()`, ms (0 = never). */
  readonly healthEveryMs: number;
}

/** A publisher process: sends `total` events on `keys` keys, one send in flight per key. */
export interface PublisherAppConfig extends ConnectionConfig {
  readonly role: 'publisher';
  readonly total: number;
  readonly keys: number;
  /** Sends started per second at most (a steady flow rather than one burst). */
  readonly ratePerSecond: number;
  /** Every 100 messages, one is undecodable and one always throws (the poison mix). */
  readonly poison: boolean;
}

export type FaultAppConfig = ConsumerAppConfig | PublisherAppConfig;

/** What a message is made to do to its consumer. */
export type FaultKind = 'ok' | 'undecodable' | 'throwing';

/** Kind of message `n` (1 % undecodable, 1 % always-throwing when the poison mix is on). */
export function kindOf(n: number, poison: boolean): FaultKind {
  if (!poison) return 'ok';
  const r = n % 100;
  return r === 37 ? 'undecodable' : r === 73 ? 'throwing' : 'ok';
}

/** Key of message `n`, and its sequence number within the key. */
export function keyOf(n: number, keys: number): { key: string; seq: number } {
  return { key: `k${n % keys}`, seq: Math.floor(n / keys) };
}

/** The header carrying `n` (kept by dead-letter records, whatever their value). */
export const N_HEADER = 'fault.n';

/**
 * One line of a record file, tab-separated, first field the type, second the wall-clock time in ms
 * (fractional: `performance.timeOrigin + performance.now()`):
 *
 * - `ready  t`                         consumer: its event-driven consumer runs
 * - `h      t n deliveryAttempt`       consumer: the handler finished message n (before its ack)
 * - `x      t n attempt`               consumer: the handler threw for message n (poison)
 * - `health t ready live reasons`      consumer: a `gomes.health()` verdict
 * - `stop   t phase`                   consumer: shutdown `begin` / `end` (SIGTERM → gomes.shutdown())
 * - `a      t n`                       publisher: the send of message n was acknowledged
 * - `f      t n code`                  publisher: the send of message n failed (error code)
 * - `done   t`                         publisher: every send settled
 */
export type RecordLine =
  | { type: 'ready'; t: number }
  | { type: 'h'; t: number; n: number; deliveryAttempt: number }
  | { type: 'x'; t: number; n: number; attempt: number }
  | { type: 'health'; t: number; ready: boolean; live: boolean; reasons: string }
  | { type: 'stop'; t: number; phase: string }
  | { type: 'a'; t: number; n: number }
  | { type: 'f'; t: number; n: number; code: string }
  | { type: 'done'; t: number };

/** Parses one record line (`undefined` for an empty or torn last line). */
export function parseRecordLine(line: string): RecordLine | undefined {
  const f = line.split('\t');
  const t = Number(f[1]);
  if (f.length < 2 || !Number.isFinite(t)) return undefined;
  switch (f[0]) {
    case 'ready':
      return { type: 'ready', t };
    case 'done':
      return { type: 'done', t };
    case 'h':
      return f.length < 4 ? undefined : { type: 'h', t, n: Number(f[2]), deliveryAttempt: Number(f[3]) };
    case 'x':
      return f.length < 4 ? undefined : { type: 'x', t, n: Number(f[2]), attempt: Number(f[3]) };
    case 'health':
      return f.length < 5
        ? undefined
        : { type: 'health', t, ready: f[2] === '1', live: f[3] === '1', reasons: f[4] ?? '' };
    case 'stop':
      return { type: 'stop', t, phase: f[2] ?? '' };
    case 'a':
      return f.length < 3 ? undefined : { type: 'a', t, n: Number(f[2]) };
    case 'f':
      return f.length < 4 ? undefined : { type: 'f', t, n: Number(f[2]), code: f[3] ?? '' };
    default:
      return undefined;
  }
}
