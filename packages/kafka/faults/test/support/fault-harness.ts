// Orchestration of a fault scenario: fault apps as child processes (built from gomes' public API,
// packages/kafka/faults/src), the broker killed and restarted with its data through
// scripts/kafka-broker.mjs, and the record files the apps write read back.
import { spawn, type ChildProcess } from 'node:child_process';
import { DEAD_LETTER_ORIGINAL_HEADER_PREFIX } from '@gomes/core';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  N_HEADER,
  parseRecordLine,
  type ConsumerAppConfig,
  type PublisherAppConfig,
  type RecordLine,
} from '../../src/app-config.js';
import { createTopic, env, rawDriver, track } from '../../../test/support/kafka-harness.js';
import type { HandledEvent, ScenarioRecords } from './fault-analysis.js';

export const REPO_ROOT = resolve(__dirname, '../../../../..');
const FAULT_APP = join(REPO_ROOT, 'packages/kafka/faults/dist/fault-app.js');
const BROKER_TOOL = join(REPO_ROOT, 'scripts/kafka-broker.mjs');
const RUN_ID = Date.now().toString(36);

/** Wall-clock ms (same clock as the apps' record lines). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Reads the lines appended to a record file since the last call. */
class RecordReader {
  #offset = 0;
  #rest = '';
  constructor(readonly file: string) {}

  read(): RecordLine[] {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return [];
    }
    if (size <= this.#offset) return [];
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(size - this.#offset);
      const read = readSync(fd, buffer, 0, buffer.length, this.#offset);
      this.#offset += read;
      const text = this.#rest + buffer.toString('utf8', 0, read);
      const lines = text.split('\n');
      this.#rest = lines.pop() ?? '';
      return lines.map(parseRecordLine).filter((l): l is RecordLine => l !== undefined);
    } finally {
      closeSync(fd);
    }
  }
}

/** A fault app running as a child process. */
export class AppProcess {
  readonly #child: ChildProcess;
  readonly #reader: RecordReader;
  readonly lines: RecordLine[] = [];
  readonly startedAt = now();
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly config: ConsumerAppConfig | PublisherAppConfig,
    readonly logFile: string,
  ) {
    const out = openSync(logFile, 'a');
    this.#child = spawn(process.execPath, [FAULT_APP, JSON.stringify(config)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', out, out],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    closeSync(out);
    this.#reader = new RecordReader(config.recordFile);
    this.exited = new Promise((resolveExit) => {
      this.#child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: now() };
        resolveExit();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Reads new record lines; returns every line so far. */
  poll(): RecordLine[] {
    this.lines.push(...this.#reader.read());
    return this.lines;
  }

  /** Sends `signal`; resolves when the process exited (SIGKILLs it after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    this.poll();
  }

  /** The last lines of the app's log (stderr), for failure messages. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Shape of a scenario: sizes and the consumer settings it uses. */
export interface ScenarioShape {
  readonly total: number;
  readonly keys: number;
  readonly partitions: number;
  readonly ratePerSecond: number;
  readonly processors: number;
  readonly handlerDelayMs: number;
  readonly poison: boolean;
  readonly consumer: Partial<
    Pick<
      ConsumerAppConfig,
      'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'rebalanceTimeoutMs' | 'commitIntervalMs'
    >
  >;
}

/** One scenario's topic, group, processes and records. */
export class FaultScenario {
  readonly dir: string;
  readonly topic: string;
  readonly group: string;
  readonly deadLetterTopic: string;
  readonly processes: AppProcess[] = [];
  #consumers = 0;

  constructor(
    readonly name: string,
    readonly shape: ScenarioShape,
  ) {
    this.dir = join(tmpdir(), `gomes-faults-${RUN_ID}`, name);
    mkdirSync(this.dir, { recursive: true });
    this.topic = `faults-${name}-${RUN_ID}`;
    this.group = `faults-${name}-${RUN_ID}`;
    this.deadLetterTopic = `${this.topic}.DLQ`;
  }

  async createTopics(): Promise<void> {
    await createTopic(this.topic, this.shape.partitions);
    if (this.shape.poison) await createTopic(this.deadLetterTopic, 1);
  }

  startConsumer(healthEveryMs = 500): AppProcess {
    const name = `consumer-${++this.#consumers}`;
    const config: ConsumerAppConfig = {
      role: 'consumer',
      brokers: env.brokers,
      topic: this.topic,
      group: this.group,
      recordFile: join(this.dir, `${name}.rec`),
      processors: this.shape.processors,
      handlerDelayMs: this.shape.handlerDelayMs,
      healthEveryMs,
      ...this.shape.consumer,
      ...(this.shape.poison ? { deadLetterTopic: this.deadLetterTopic } : {}),
    };
    return this.#track(new AppProcess(name, config, join(this.dir, `${name}.log`)));
  }

  startPublisher(): AppProcess {
    const config: PublisherAppConfig = {
      role: 'publisher',
      brokers: env.brokers,
      topic: this.topic,
      recordFile: join(this.dir, 'publisher.rec'),
      total: this.shape.total,
      keys: this.shape.keys,
      ratePerSecond: this.shape.ratePerSecond,
      poison: this.shape.poison,
    };
    return this.#track(new AppProcess('publisher', config, join(this.dir, 'publisher.log')));
  }

  #track(p: AppProcess): AppProcess {
    this.processes.push(p);
    return p;
  }

  get consumers(): AppProcess[] {
    return this.processes.filter((p) => p.config.role === 'consumer');
  }

  get publisher(): AppProcess | undefined {
    return this.processes.find((p) => p.config.role === 'publisher');
  }

  /** Every handler completion so far (reads new lines). */
  handled(): HandledEvent[] {
    const out: HandledEvent[] = [];
    for (const p of this.consumers)
      for (const l of p.poll()) if (l.type === 'h') out.push({ t: l.t, n: l.n, proc: p.name });
    return out;
  }

  /** Distinct messages handled so far. */
  handledCount(): number {
    return new Set(this.handled().map((h) => h.n)).size;
  }

  /** Acknowledged and failed sends so far. */
  sends(): { acked: Map<number, number>; failed: Map<number, string>; done: boolean } {
    const acked = new Map<number, number>();
    const failed = new Map<number, string>();
    let done = false;
    for (const l of this.publisher?.poll() ?? []) {
      if (l.type === 'a') acked.set(l.n, l.t);
      else if (l.type === 'f') failed.set(l.n, l.code);
      else if (l.type === 'done') done = true;
    }
    return { acked, failed, done };
  }

  /** Health verdicts recorded by the consumers. */
  health(): { proc: string; t: number; ready: boolean; live: boolean; reasons: string }[] {
    const out = [];
    for (const p of this.consumers)
      for (const l of p.poll()) if (l.type === 'health') out.push({ proc: p.name, ...l });
    return out.sort((a, b) => a.t - b.t);
  }

  /**
   * Whether the run is complete: the publisher settled every send, every acknowledged non-poison
   * message was handled, and (poison mix) the consumers handled or dead-lettered the rest.
   */
  complete(isSettled: (n: number) => boolean = () => true): boolean {
    const { acked, done } = this.sends();
    if (!done) return false;
    const handled = new Set(this.handled().map((h) => h.n));
    for (const n of acked.keys()) if (!handled.has(n) && !isSettled(n)) return false;
    return true;
  }

  /**
   * Message numbers on the dead-letter topic: reads until `count` records were seen or `timeoutMs`
   * passed (then returns what it found; the analysis reports the missing ones).
   */
  async deadLettered(count: number, timeoutMs = 30_000): Promise<Set<number>> {
    const found = new Set<number>();
    if (count === 0) return found;
    const reader = track(
      rawDriver().createConsumer({
        groupProtocol: 'classic',
        groupId: `${this.group}-dlq-reader`,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        heartbeatIntervalMs: 1000,
        minBytes: 1,
        maxBytes: 10485760,
        maxBytesPerPartition: 1048576,
        maxWaitTimeMs: 100,
        readCommitted: true,
        metadataMaxAgeMs: 300000,
        onlyPartitions: undefined,
        allowAutoTopicCreation: false,
      }),
    );
    let seen = 0;
    await reader.connect();
    await reader.subscribe([this.deadLetterTopic], true);
    await reader.run(async (batch, control) => {
      for (const r of batch.records) {
        seen++;
        // Undecodable records keep their headers; handler failures carry them as gomes.original.*.
        const n = r.headers[N_HEADER] ?? r.headers[DEAD_LETTER_ORIGINAL_HEADER_PREFIX + N_HEADER];
        if (n !== undefined) found.add(Number(n));
        control.resolveOffset(r.offset);
      }
    });
    await until(() => seen >= count, now() + timeoutMs);
    await reader.disconnect();
    return found;
  }

  /** Everything recorded, for the analysis. */
  records(deadLettered: ReadonlySet<number> = new Set()): ScenarioRecords {
    const { acked, failed } = this.sends();
    return {
      total: this.shape.total,
      keys: this.shape.keys,
      poison: this.shape.poison,
      acked,
      failedSends: failed,
      handled: this.handled(),
      deadLettered,
    };
  }

  /** Stops every process still running (SIGTERM, then SIGKILL). */
  async stopAll(): Promise<void> {
    await Promise.all(this.processes.map(async (p) => p.stop('SIGTERM', 20_000)));
  }

  /** A summary of the processes' logs, for a failure message. */
  diagnostics(): string {
    return this.processes
      .map(
        (p) =>
          `--- ${p.name} (pid ${p.pid}, ${p.running ? 'running' : `exit ${JSON.stringify(p.exit)}`})\n${p.logTail()}`,
      )
      .join('\n');
  }
}

/** Waits until `predicate` holds (polling every `intervalMs`) or `deadline` (ms epoch) passes. */
export async function until(predicate: () => boolean, deadline: number, intervalMs = 250): Promise<boolean> {
  for (;;) {
    if (predicate()) return true;
    if (now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

// ------------------------------------------------------------------------------- the broker

function runBrokerTool(args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const version = process.env['KAFKA_VERSION'];
    const child = spawn(
      process.execPath,
      [BROKER_TOOL, ...args, ...(version ? ['--kafka-version', version] : [])],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolveRun(out) : reject(new Error(`kafka-broker.mjs ${args.join(' ')} failed:\n${out}`)),
    );
  });
}

function brokerInfoFile(): string {
  // Same layout as scripts/kafka-broker/config.mjs (run folder per port base).
  const base = Number(process.env['GOMES_KAFKA_PORT_BASE'] || 19092);
  return join(REPO_ROOT, '.kafka', base === 19092 ? 'run' : `run-${base}`, 'broker.json');
}

/** SIGKILLs the broker (its data stays); resolves with when. */
export async function killBroker(): Promise<number> {
  const at = now();
  await runBrokerTool(['kill']);
  return at;
}

/** Starts the killed broker again with its data; resolves with when it was ready (broker.json). */
export async function restartBroker(): Promise<{ readyAt: number; spawnToReadyMs: number }> {
  await runBrokerTool(['start', '--keep-data', '--timeout', '180']);
  const info = JSON.parse(readFileSync(brokerInfoFile(), 'utf8')) as {
    readyAt: string;
    timings: { spawnToReadyMs: number };
  };
  return { readyAt: Date.parse(info.readyAt), spawnToReadyMs: info.timings.spawnToReadyMs };
}
