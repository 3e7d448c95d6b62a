// The fault-tolerance suite (`pnpm test:faults`): gomes applications (child processes built only from
// the public API: packages/kafka/faults/src) publish and consume 20,000 keyed messages on the real
// broker while a fault is injected — a consumer SIGKILLed, members leaving and joining, the broker
// SIGKILLed for 5 s and for 120 s, poison messages, a shutdown under load. Every scenario is one test
// with a time budget; it fails on any lost acknowledged message, any per-key order violation, more
// duplicates than the commit interval explains, or a resumption slower than its bound. The figures go
// to docs/reliability.md (written after a full run).
import os from 'node:os';
import { closeAll } from '../../test/support/kafka-harness.js';
import { kindOf } from '../src/app-config.js';
import {
  countDeliveries,
  longestKeyPause,
  resumptionAfter,
  type DeliveryCounts,
  type HandledEvent,
} from './support/fault-analysis.js';
import {
  FaultScenario,
  killBroker,
  now,
  restartBroker,
  sleep,
  until,
  type AppProcess,
  type ScenarioShape,
} from './support/fault-harness.js';
import {
  writeReliabilityReport,
  type ResumeFigure,
  type ScenarioResult,
} from './support/reliability-report.js';

const MESSAGES = Number(process.env['FAULTS_MESSAGES'] ?? 20_000);
const LONG_OUTAGE_MS = Number(process.env['FAULTS_LONG_OUTAGE_S'] ?? 120) * 1000;
const SHORT_OUTAGE_MS = 5000;
/** The consumers' commit interval (gomes' default). */
const COMMIT_INTERVAL_MS = 1000;
const SHORT_SESSION_MS = 10_000;
/** Bound used by the figures below: a commit interval of work plus this margin after a kill (was the old Kafka subscription's commit-stall hold). */
const COMMIT_STALL_MS = 2000;

/** The shape shared by every scenario; consumer settings are gomes' defaults unless a scenario says. */
const BASE: ScenarioShape = {
  total: MESSAGES,
  keys: 50,
  partitions: 6,
  ratePerSecond: 1000,
  processors: 4,
  handlerDelayMs: 5,
  poison: false,
  consumer: {},
};
/** Short sessions where the scenario is not about them (joins and rebalances in seconds). */
const SHORT_SESSIONS = {
  sessionTimeoutMs: SHORT_SESSION_MS,
  heartbeatIntervalMs: 1000,
  rebalanceTimeoutMs: 10_000,
};

const results: ScenarioResult[] = [];
const SCENARIOS = 6;
const startedAt = new Date();
const loadBefore = os.loadavg();

afterAll(async () => {
  await closeAll();
  if (results.length === SCENARIOS && process.env['FAULTS_WRITE_DOCS'] !== '0') {
    writeReliabilityReport(results, {
      startedAt,
      loadBefore,
      kafkaVersion: process.env['KAFKA_VERSION'] ?? 'unknown',
      messages: MESSAGES,
      method: `${HISTORY}\n${METHOD}`,
    });
  }
});

/** Distinct messages handled in the `windowMs` before `at`: what a fault at `at` may redeliver. */
function handledBefore(handled: readonly HandledEvent[], at: number, windowMs: number): number {
  return new Set(handled.filter((h) => h.t <= at && h.t > at - windowMs).map((h) => h.n)).size;
}

/** Waits until each consumer ran its event-driven consumer and saw its assignment (ready health). */
async function consumersReady(
  scenario: FaultScenario,
  consumers: AppProcess[],
  deadline: number,
): Promise<void> {
  const ok = await until(
    () =>
      consumers.every((c) => c.poll().some((l) => l.type === 'ready')) &&
      consumers.every((c) => c.lines.some((l) => l.type === 'health' && l.ready)),
    deadline,
  );
  if (!ok) throw new Error(`consumers not ready in time\n${scenario.diagnostics()}`);
}

async function progress(scenario: FaultScenario, fraction: number, deadline: number): Promise<void> {
  const ok = await until(() => scenario.handledCount() >= MESSAGES * fraction, deadline);
  if (!ok) throw new Error(`${fraction * 100} % not handled in time\n${scenario.diagnostics()}`);
}

interface Judged {
  readonly counts: DeliveryCounts;
  readonly complete: boolean;
  /** Consumer processes that exited although the scenario did not stop them. */
  readonly exitedEarly: readonly string[];
}

/** Runs the scenario to completion (or its deadline), stops every app, counts. */
async function finish(
  scenario: FaultScenario,
  deadline: number,
  deadLetters?: (poisonAcked: number) => Promise<Set<number>>,
  stopped: ReadonlySet<AppProcess> = new Set(),
): Promise<Judged> {
  // Poison messages are settled by the dead-letter topic, read once the run is complete.
  const poison = (n: number): boolean => kindOf(n, scenario.shape.poison) !== 'ok';
  const complete = await until(() => scenario.complete(poison), deadline, 500);
  await sleep(2 * COMMIT_INTERVAL_MS); // late duplicates, if any, show up now
  const exitedEarly = scenario.processes.filter(
    (p) => !p.running && p.config.role === 'consumer' && !stopped.has(p),
  );
  await scenario.stopAll();
  let dead = new Set<number>();
  if (deadLetters) {
    const acked = scenario.sends().acked;
    dead = await deadLetters([...acked.keys()].filter((n) => poison(n)).length);
  }
  return {
    counts: countDeliveries(scenario.records(dead)),
    complete,
    exitedEarly: exitedEarly.map((p) => `${p.name} ${JSON.stringify(p.exit)}`),
  };
}

function judge(
  scenario: FaultScenario,
  title: string,
  fault: string,
  judged: Judged,
  resume: ResumeFigure[],
  duplicateLimit: ScenarioResult['duplicateLimit'],
  notes: string[],
  t0: number,
  budgetMs: number,
  extraProblems: string[] = [],
): void {
  const c = judged.counts;
  const problems: string[] = [];
  if (!judged.complete) problems.push('the run did not complete within its budget');
  if (judged.exitedEarly.length > 0)
    problems.push(`consumer process(es) exited: ${judged.exitedEarly.join(', ')}`);
  problems.push(...extraProblems);
  if (c.lost > 0) problems.push(`${c.lost} acknowledged message(s) lost, e.g. ${c.lostSample.join(', ')}`);
  if (c.orderViolations > 0)
    problems.push(`${c.orderViolations} order violation(s): ${c.orderViolationSample.join('; ')}`);
  if (c.duplicates > duplicateLimit.max)
    problems.push(`${c.duplicates} duplicates, more than ${duplicateLimit.max} (${duplicateLimit.why})`);
  for (const f of resume)
    if (f.ms === undefined || f.ms > f.limitMs)
      problems.push(
        `${f.what}: ${f.ms === undefined ? 'never' : `${Math.round(f.ms)} ms`} > ${f.limitMs} ms`,
      );
  const result: ScenarioResult = {
    title,
    fault,
    counts: c,
    resume,
    duplicateLimit,
    notes,
    durationMs: now() - t0,
    budgetMs,
    passed: problems.length === 0,
  };
  results.push(result);
  process.stdout.write(`[faults] ${title}: ${JSON.stringify({ ...c, resume, notes })}\n`);
  if (problems.length > 0)
    throw new Error(
      `${title}:\n- ${problems.join('\n- ')}\nrecords: ${scenario.dir}\n${scenario.diagnostics()}`,
    );
}

describe('fault tolerance on the real broker (20,000 messages, 50 keys, 6 partitions, 4 processors per consumer)', () => {
  const KILL_BUDGET = 180_000;
  it(
    'consumer SIGKILL + restart: nothing lost, order kept, partitions back after the session timeout',
    async () => {
      const t0 = now();
      const deadline = t0 + KILL_BUDGET - 20_000;
      const s = new FaultScenario('consumer-kill', { ...BASE, consumer: SHORT_SESSIONS });
      try {
        await s.createTopics();
        const [a, b] = [s.startConsumer(), s.startConsumer()];
        await consumersReady(s, [a, b], deadline);
        s.startPublisher();
        await progress(s, 0.3, deadline);
        const killedAt = now();
        await a.stop('SIGKILL');
        const restarted = s.startConsumer();
        const judged = await finish(s, deadline, undefined, new Set([a]));
        const handled = s.handled();
        const firstOfRestarted = handled.filter((h) => h.proc === restarted.name).map((h) => h.t);
        judge(
          s,
          'Consumer SIGKILL + restart',
          `2 consumer processes; at 30 % one is SIGKILLed and a new process started at once; session timeout ${SHORT_SESSION_MS / 1000} s`,
          judged,
          [
            {
              what: 'kill → every key handled again',
              ms: longestKeyPause(handled, BASE.keys, killedAt, killedAt + 1),
              limitMs: SHORT_SESSION_MS + 10_000,
            },
          ],
          {
            max: handledBefore(handled, killedAt, COMMIT_INTERVAL_MS + 1000),
            why: `messages handled in the commit interval (+1 s commit round trip) before the kill`,
          },
          [
            `kill → first message handled by the restarted process: ${
              firstOfRestarted.length
                ? ((Math.min(...firstOfRestarted) - killedAt) / 1000).toFixed(1)
                : 'never'
            } s`,
            'floor: the killed member stays in the group until its session times out (kafkajs has no static membership), and the group waits for it before it assigns partitions again',
          ],
          t0,
          KILL_BUDGET,
        );
      } finally {
        await s.stopAll();
      }
    },
    KILL_BUDGET,
  );

  const REBALANCE_BUDGET = 180_000;
  it(
    'rebalance 3 → 2 → 3 members under load: nothing lost, order kept, short pauses',
    async () => {
      const t0 = now();
      const deadline = t0 + REBALANCE_BUDGET - 20_000;
      const s = new FaultScenario('rebalance', { ...BASE, consumer: SHORT_SESSIONS });
      try {
        await s.createTopics();
        const members = [s.startConsumer(), s.startConsumer(), s.startConsumer()];
        await consumersReady(s, members, deadline);
        s.startPublisher();
        await progress(s, 0.25, deadline);
        const leaveAt = now();
        const leaver = members[2]!;
        await leaver.stop('SIGTERM'); // gomes.shutdown(): commits, leaves the group
        const leftAt = now();
        await progress(s, 0.55, deadline);
        const joinAt = now();
        const joiner = s.startConsumer();
        await consumersReady(s, [joiner], deadline);
        const joinedAt = joiner.lines.find((l) => l.type === 'ready')!.t;
        const judged = await finish(s, deadline, undefined, new Set([leaver]));
        const handled = s.handled();
        judge(
          s,
          'Rebalance 3 → 2 → 3 members',
          `3 consumer processes; at 25 % one shuts down (SIGTERM → gomes.shutdown(), leaves the group), at 55 % a new one joins; session timeout ${SHORT_SESSION_MS / 1000} s`,
          judged,
          [
            {
              what: 'member left → longest pause of a key',
              ms: longestKeyPause(handled, BASE.keys, leaveAt, leftAt + 1000),
              limitMs: 10_000,
            },
            {
              what: 'member joined → longest pause of a key',
              ms: longestKeyPause(handled, BASE.keys, joinAt, joinedAt + 3000),
              limitMs: 10_000,
            },
          ],
          {
            max:
              handledBefore(handled, leftAt, COMMIT_INTERVAL_MS + 1000) +
              handledBefore(handled, joinedAt + 3000, COMMIT_INTERVAL_MS + 4000),
            why: 'messages handled in the commit interval (+1 s) before each rebalance (acked on a revoked partition during it are redelivered)',
          },
          [`leaving member shut down in ${((leftAt - leaveAt) / 1000).toFixed(1)} s`],
          t0,
          REBALANCE_BUDGET,
        );
      } finally {
        await s.stopAll();
      }
    },
    REBALANCE_BUDGET,
  );

  for (const outageMs of [SHORT_OUTAGE_MS, LONG_OUTAGE_MS]) {
    const budget = outageMs + 210_000;
    it(
      `broker SIGKILL, down ${outageMs / 1000} s, restarted with its data, during publish and consume: nothing lost, order kept, consumption back within 10 s of the broker, no process restart`,
      async () => {
        const t0 = now();
        const deadline = t0 + budget - 20_000;
        const s = new FaultScenario(`broker-${outageMs / 1000}s`, BASE); // gomes' defaults: 30 s sessions
        try {
          await s.createTopics();
          const consumers = [s.startConsumer(), s.startConsumer()];
          await consumersReady(s, consumers, deadline);
          s.startPublisher();
          const acked = await until(() => s.sends().acked.size >= MESSAGES * 0.3, deadline);
          if (!acked) throw new Error(`30 % not acknowledged in time\n${s.diagnostics()}`);
          const killedAt = await killBroker();
          await sleep(outageMs - (now() - killedAt));
          const { readyAt, spawnToReadyMs } = await restartBroker();
          const judged = await finish(s, deadline);
          const handled = s.handled();
          const resumed = resumptionAfter(handled, BASE.keys, readyAt);
          const health = s.health();
          const during = health.filter((h) => h.t > killedAt && h.t < readyAt);
          const notLive = health.filter((h) => !h.live);
          const extra: string[] = [];
          // Once the client noticed (well within 30 s), the outage reads not ready until the broker is back.
          const settled = during.filter((h) => h.t > killedAt + 30_000);
          const readyInOutage = settled.filter((h) => h.ready);
          if (readyInOutage.length > 0)
            extra.push(
              `a consumer read ready ${readyInOutage.length} time(s) during the outage, e.g. ${readyInOutage[0]!.proc} at +${Math.round(readyInOutage[0]!.t - killedAt)} ms`,
            );
          if (notLive.length > 0)
            extra.push(
              `a consumer was not live: ${notLive[0]!.proc} at +${Math.round(notLive[0]!.t - killedAt)} ms: ${notLive[0]!.reasons}`,
            );
          const handledInOutage = new Set(
            handled.filter((h) => h.t > killedAt && h.t < readyAt).map((h) => h.n),
          ).size;
          judge(
            s,
            `Broker SIGKILL, ${outageMs / 1000} s outage`,
            `2 consumer processes (gomes' defaults: 30 s session, 1 s commits), publishing; at 30 % acknowledged the broker is SIGKILLed, restarted with its data after ${outageMs / 1000} s`,
            judged,
            [
              { what: 'broker ready → first message handled', ms: resumed.firstMs, limitMs: 10_000 },
              { what: 'broker ready → every key handled again', ms: resumed.allKeysMs, limitMs: 10_000 },
            ],
            {
              max: handledBefore(
                handled,
                killedAt + COMMIT_INTERVAL_MS + COMMIT_STALL_MS + 1000,
                2 * COMMIT_INTERVAL_MS + COMMIT_STALL_MS + 2000,
              ),
              why: `messages handled from one commit interval (+1 s round trip) before the kill until hand-over stops for stalled commits (a commit interval + ${COMMIT_STALL_MS / 1000} s + 1 s after it)`,
            },
            [
              `broker down ${((readyAt - killedAt) / 1000).toFixed(1)} s in all (killed → ready; ${(spawnToReadyMs / 1000).toFixed(1)} s of it starting up)`,
              `messages handled during the outage (from the prefetch buffer): ${handledInOutage}`,
              `health during the outage: ${during.filter((h) => !h.ready).length} of ${during.length} verdicts not ready (from 30 s after the kill: ${settled.length - readyInOutage.length} of ${settled.length}), ${during.filter((h) => !h.live).length} not live`,
            ],
            t0,
            budget,
            extra,
          );
        } finally {
          await s.stopAll();
        }
      },
      budget,
    );
  }

  const POISON_BUDGET = 180_000;
  it(
    'poison mix (1 % undecodable, 1 % always throwing): every poison message dead-lettered, nothing else lost, order kept',
    async () => {
      const t0 = now();
      const deadline = t0 + POISON_BUDGET - 30_000;
      const s = new FaultScenario('poison', { ...BASE, poison: true, consumer: SHORT_SESSIONS });
      try {
        await s.createTopics();
        const consumers = [s.startConsumer(), s.startConsumer()];
        await consumersReady(s, consumers, deadline);
        s.startPublisher();
        const judged = await finish(s, deadline, async (count) => s.deadLettered(count, 60_000));
        const attempts = s.consumers.flatMap((c) => c.lines.filter((l) => l.type === 'x')).length;
        judge(
          s,
          'Poison mix',
          '2 consumer processes; 1 % of the messages cannot be decoded, 1 % always throw (retried once, then dead-lettered)',
          judged,
          [],
          { max: 0, why: 'no fault interrupts the commits: nothing may be delivered twice' },
          [`handler attempts on always-throwing messages: ${attempts}`],
          t0,
          POISON_BUDGET,
          judged.counts.poisonDeadLettered === judged.counts.poisonAcked
            ? []
            : [
                `${judged.counts.poisonAcked - judged.counts.poisonDeadLettered} poison message(s) missing on the dead-letter topic`,
              ],
        );
      } finally {
        await s.stopAll();
      }
    },
    POISON_BUDGET,
  );

  const SHUTDOWN_BUDGET = 180_000;
  it(
    'gomes.shutdown() under load: in-flight messages finish and are committed; a new process resumes with no duplicate',
    async () => {
      const t0 = now();
      const deadline = t0 + SHUTDOWN_BUDGET - 20_000;
      const s = new FaultScenario('shutdown', { ...BASE, consumer: SHORT_SESSIONS });
      try {
        await s.createTopics();
        const first = [s.startConsumer(), s.startConsumer()];
        await consumersReady(s, first, deadline);
        s.startPublisher();
        await progress(s, 0.3, deadline);
        const stopAt = now();
        await Promise.all(first.map(async (c) => c.stop('SIGTERM')));
        const stoppedAt = now();
        const restartAt = now();
        const second = s.startConsumer(); // one process: no rebalance of its own to blur the count
        const judged = await finish(s, deadline, undefined, new Set(first));
        const handled = s.handled();
        const resumed = resumptionAfter(handled, BASE.keys, restartAt);
        const exits = first.map((c) => c.exit?.code);
        judge(
          s,
          'gomes.shutdown() under load',
          '2 consumer processes; at 30 % both get SIGTERM (→ gomes.shutdown()), then a new process starts',
          judged,
          [
            {
              what: 'new process spawned → first message handled (Node start-up included)',
              ms: resumed.firstMs,
              limitMs: 30_000,
            },
          ],
          { max: 0, why: 'a graceful shutdown finishes and commits every message it handled' },
          [
            `shutdown under load took ${((stoppedAt - stopAt) / 1000).toFixed(1)} s (both processes, SIGTERM → exit)`,
            `the new process joined the group ${(((second.lines.find((l) => l.type === 'ready')?.t ?? NaN) - restartAt) / 1000).toFixed(1)} s after it was spawned`,
          ],
          t0,
          SHUTDOWN_BUDGET,
          exits.every((code) => code === 0)
            ? []
            : [`a shut-down process exited with ${JSON.stringify(exits)}`],
        );
      } finally {
        await s.stopAll();
      }
    },
    SHUTDOWN_BUDGET,
  );
});

const HISTORY = `## Before the fixes

The same suite against the code before the consumer and publisher fixes of issue 7 (commit 4b04ac6,
same shared 2-core machine): the **120 s broker outage failed** — the consumer gave up after 5
restarts and stayed idle with the broker back: 12,792 of 19,200 acknowledged messages were never
consumed (until a process restart), consumption never resumed, and \`gomes.health()\` was not live
in 311 of 531 verdicts during the outage. After the **5 s outage** nothing was lost, but consumption
came back only 30.9 s after the broker was ready (the crashed member's session timeout), with 2,074
duplicates (the prefetch buffer handled while no commit could succeed). Sends during an outage
failed with \`GOMES_PUBLISH_FAILED\` whatever the cause.
`;

const METHOD = `## Method

Each scenario is one test of \`packages/kafka/faults/test/fault-tolerance.fault.spec.ts\`, run by
\`pnpm test:faults\` (\`pnpm test\`, and so CI, runs it after the test matrix) against a broker of its own (scripts/kafka-broker.mjs
on its own ports, so it can be killed and restarted with its data: \`kafka-broker.mjs kill\`, \`start
--keep-data\`).

- **Applications.** The publisher and the consumers are separate Node processes built only from
  gomes' public API (packages/kafka/faults/src): \`createGomes\` + \`KafkaConnection\` + a publisher
  channel and the event bus, or a consumer channel + an event handler + an event-driven consumer with
  4 processors. gomes' defaults unless the scenario says (acks=all, idempotent producer, commit every
  1 s, session timeout 30 s). Faults are real: \`SIGKILL\` of a process or of the broker JVM, \`SIGTERM\`
  (→ \`gomes.shutdown()\`) for a member that leaves.
- **Load.** ${MESSAGES.toLocaleString('en-US')} messages per scenario on 50 keys (topic with 6 partitions), one
  send in flight per key, paced at ${BASE.ratePerSecond} sends/s; each handler works ${BASE.handlerDelayMs} ms, so
  consumers lag behind the publisher and a fault always meets a backlog.
- **Records.** The publisher appends a line per acknowledged (\`a\`) and failed (\`f\`, with the error
  code) send; a consumer appends a line per message its handler finished, before it returns (so
  before the ack): one \`write(2)\`, which a SIGKILL right after cannot undo. Consumers also record
  \`gomes.health()\` every 500 ms.
- **Counts.** _Lost_: an acknowledged send never handled (poison: never dead-lettered). _Duplicates_:
  handler completions beyond the first per message; bounded by the messages handled in the commit
  interval (+1 s for the commit round trip) before each fault — what was acknowledged but not yet
  committed — and, after a broker loss, until hand-over stops for stalled commits (a commit interval
  + 2 s later). _Order violations_: a message handled for the first time while an earlier acknowledged
  message of its key had not been handled yet (redeliveries after a rewind are duplicates, not
  violations; failed sends are not required). _Time to resume_: from the fault (or the broker being
  ready again) until every key is handled again, from the consumers' records.
- **Bounds.** A scenario fails on any lost message, any order violation, more duplicates than its
  bound, a resumption slower than its bound, or not completing within its budget.
`;
