import 'reflect-metadata';
import { Event } from '../actions/action-decorators.js';
import { defineEventHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { holdsFor, waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { createGomes } from './create-gomes.js';
import type { Gomes } from './gomes.js';
import { DEFAULT_HEALTH_OPTIONS, resolveHealthOptions } from './health-options.js';

@Event('jobQueued')
class JobQueued {
  constructor(readonly id: string) {}
}

const STALL_MS = 100;
const LIVENESS_STALL_MS = 300;

/** A promise with its resolver (for blocking handlers). */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** An instance consuming `jobs` (3 partitions) as `worker`, with `handle` as the job handler. */
function app(handle: (job: JobQueued) => Promise<void> | void, stallTimeoutMs = STALL_MS): Gomes {
  const broker = new InMemoryBroker({ defaultPartitions: 3 });
  broker.createTopic('jobs', 3);
  return createGomes({
    health: { stallTimeoutMs, livenessStallTimeoutMs: Math.max(LIVENESS_STALL_MS, stallTimeoutMs * 3) },
  })
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'jobs'))
    .addConsumerChannel(inMemoryConsumer('memory', 'jobs', 'worker'))
    .addActionHandler(defineEventHandler(JobQueued, handle));
}

async function publish(gomes: Gomes, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await gomes.eventBusByChannel('jobs').publish(new JobQueued(id), { partitionKey: 'same' });
}

const worker = (gomes: Gomes) => gomes.health().consumers.find((c) => c.name === 'worker')!;
const lagOf = (gomes: Gomes): number => worker(gomes).partitions.reduce((sum, p) => sum + p.lag, 0);

let instances: Gomes[] = [];
const track = (gomes: Gomes): Gomes => (instances.push(gomes), gomes);
afterEach(async () => {
  await Promise.all(instances.map(async (g) => g.shutdown().catch(() => undefined)));
  instances = [];
});

describe('gomes.health() on the in-memory transport', () => {
  it('reports connections and lifecycle: not ready before start and after shutdown', async () => {
    const gomes = track(app(() => undefined));
    const before = gomes.health();
    expect(before).toMatchObject({ ready: false, live: true, status: 'degraded', lifecycle: 'created' });
    expect(before.connections).toEqual([{ name: 'memory', state: 'disconnected' }]);
    expect(before.reasons).toEqual(['gomes is created', 'connection "memory" is disconnected']);
    expect(worker(gomes)).toMatchObject({ state: 'idle', partitions: [] });

    await gomes.start();
    const started = gomes.health();
    expect(started).toMatchObject({
      ready: true,
      live: true,
      status: 'ok',
      lifecycle: 'started',
      reasons: [],
    });
    expect(started.connections).toEqual([{ name: 'memory', state: 'connected' }]);
    expect(new Date(started.checkedAt).getTime()).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(started))).toEqual(started);

    await gomes.shutdown();
    const after = gomes.health();
    expect(after).toMatchObject({ ready: false, live: true, lifecycle: 'stopped' });
    expect(after.connections).toEqual([{ name: 'memory', state: 'disconnected' }]);
  });

  it('turns not ready (then not live) when a handler blocks while its partition has lag, and ready after release', async () => {
    const blocked = gate();
    const gomes = track(app(async () => blocked.promise));
    await gomes.start();
    await gomes.eventDrivenConsumer('worker').run();
    await publish(gomes, 'a', 'b', 'c');

    const stalled = (await waitFor(() => {
      const h = gomes.health();
      return !h.ready ? h : undefined;
    }, 5000))!;
    expect(stalled.live).toBe(true);
    expect(stalled.status).toBe('degraded');
    const partition = worker(gomes).partitions.find((p) => p.lag > 0)!;
    expect(partition).toMatchObject({ channel: 'jobs', lag: 3, stalled: true });
    expect(stalled.reasons).toEqual([
      expect.stringMatching(
        new RegExp(
          `^consumer "worker": partition jobs\\[${partition.partition}\\] has lag 3 and made no progress for \\d+ ms \\(stallTimeoutMs ${STALL_MS}\\)$`,
        ),
      ),
    ]);

    const dead = (await waitFor(() => {
      const h = gomes.health();
      return !h.live ? h : undefined;
    }, 5000))!;
    expect(dead.status).toBe('failing');
    expect(dead.reasons[0]).toMatch(/livenessStallTimeoutMs 300\)/);

    blocked.open();
    await waitFor(() => gomes.health().ready, 5000);
    expect(gomes.health()).toMatchObject({ ready: true, live: true, status: 'ok', reasons: [] });
    expect(lagOf(gomes)).toBe(0);
  });

  it('is not stalled while a slow handler keeps making progress', async () => {
    // Each job takes a tenth of the stall timeout, so a busy machine's timer lag (tens of ms) does
    // not read as a stall; 16 jobs are 1.6 stall timeouts of work.
    const stallMs = 1000;
    const gomes = track(
      app(async () => new Promise<void>((resolve) => setTimeout(resolve, stallMs / 10)), stallMs),
    );
    await gomes.start();
    const consumer = gomes.eventDrivenConsumer('worker');
    await consumer.run();
    await publish(gomes, ...Array.from({ length: 16 }, (_, i) => `job-${i}`));
    await holdsFor(() => consumer.stats.succeeded === 16 || gomes.health().ready, stallMs * 1.5);
    await waitFor(() => consumer.stats.succeeded === 16, 10_000);
  }, 20_000);

  it('turns not ready and not live when a consumer crashes (stopOnError), and ready again with a new run', async () => {
    let failing = true;
    const gomes = track(
      app((job) => {
        if (failing && job.id === 'bad') throw new Error('job bad is broken');
      }),
    );
    await gomes.start();
    const first = gomes.eventDrivenConsumer('worker').withStopOnError(true);
    await first.run();
    await publish(gomes, 'bad', 'next');
    await first.done;

    const crashed = gomes.health();
    expect(crashed).toMatchObject({ ready: false, live: false, status: 'failing' });
    expect(worker(gomes)).toMatchObject({ state: 'crashed', error: expect.stringMatching(/stopOnError/) });
    expect(crashed.reasons).toEqual([
      expect.stringMatching(/^consumer "worker" crashed: .*stopOnError is set \(not live\)$/),
    ]);

    failing = false;
    const second = gomes.eventDrivenConsumer('worker');
    expect(second).not.toBe(first);
    await second.run();
    await waitFor(() => second.stats.succeeded === 2, 5000);
    await waitFor(() => gomes.health().ready, 5000);
    expect(gomes.health()).toMatchObject({ ready: true, live: true, reasons: [] });
    expect(worker(gomes).state).toBe('running');
  });

  it('an idle consumer with no lag stays ready however long ago it last progressed', async () => {
    const gomes = track(app(() => undefined));
    await gomes.start();
    const consumer = gomes.eventDrivenConsumer('worker');
    await consumer.run();
    await publish(gomes, 'only');
    await waitFor(() => consumer.stats.succeeded === 1);
    await holdsFor(() => gomes.health().ready, STALL_MS * 3);
    expect(worker(gomes).partitions).toEqual(
      [0, 1, 2].map((partition) => ({
        channel: 'jobs',
        partition,
        lag: 0,
        msSinceProgress: 0,
        stalled: false,
      })),
    );
  });

  it('gives a message that arrives after a long idle period the full stall timeout', async () => {
    const blocked = gate();
    let calls = 0;
    const gomes = track(
      app(async () => {
        if (++calls > 1) await blocked.promise;
      }),
    );
    await gomes.start();
    await gomes.eventDrivenConsumer('worker').run();
    await publish(gomes, 'first');
    await waitFor(() => calls === 1 && lagOf(gomes) === 0);
    await holdsFor(() => gomes.health().ready, STALL_MS * 2); // idle for longer than stallTimeoutMs
    await publish(gomes, 'second');
    await waitFor(() => calls === 2);
    expect(gomes.health().ready).toBe(true); // its clock started when it arrived, not at the last ack
    await waitFor(() => !gomes.health().ready, 5000);
    blocked.open();
    await waitFor(() => gomes.health().ready, 5000);
  });

  it('reports a consumer stopped by stop() as not ready but live', async () => {
    const gomes = track(app(() => undefined));
    await gomes.start();
    await gomes.eventDrivenConsumer('worker').run();
    await gomes.eventDrivenConsumer('worker').stop();
    expect(gomes.health()).toMatchObject({
      ready: false,
      live: true,
      reasons: ['consumer "worker" is stopped'],
    });
  });
});

describe('gomes.health() with a polling consumer', () => {
  /** An instance whose channel `jobs` (2 partitions) is pulled by the polling consumer `pullers`. */
  function pollingApp(): Gomes {
    const broker = new InMemoryBroker({ defaultPartitions: 2 });
    broker.createTopic('jobs', 2);
    return createGomes({ health: { stallTimeoutMs: STALL_MS, livenessStallTimeoutMs: LIVENESS_STALL_MS } })
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addPublisherChannel(inMemoryPublisher('memory', 'jobs'))
      .addConsumerChannel(inMemoryConsumer('memory', 'jobs', 'pullers').withPolling());
  }
  const pullers = (gomes: Gomes) => gomes.health().consumers.find((c) => c.name === 'pullers')!;

  it('reports the poller as it reports an event-driven consumer: running with its partitions and lag, stopped once closed', async () => {
    const gomes = track(pollingApp());
    await gomes.start();
    const poller = gomes.pollingConsumer('pullers');
    expect(pullers(gomes)).toMatchObject({ name: 'pullers', channel: 'jobs', state: 'idle', partitions: [] });

    await publish(gomes, 'a', 'b', 'c');
    const got = await poller.receive({ max: 1, timeoutMs: 1000 });
    expect(got).toHaveLength(1);
    // Joined: running, with the partitions it owns; the unsettled messages are lag.
    await waitFor(() => pullers(gomes).partitions.length === 2, 5000);
    expect(pullers(gomes).state).toBe('running');
    expect(pullers(gomes).partitions.reduce((sum, p) => sum + p.lag, 0)).toBe(3);

    // Nothing settled for longer than stallTimeoutMs: the stall shows as for any consumer.
    await waitFor(() => !gomes.health().ready, 5000);
    expect(gomes.health().reasons).toEqual([
      expect.stringMatching(/^consumer "pullers": partition jobs\[\d\] has lag 3 and made no progress/),
    ]);
    got[0]!.ack();
    for (const d of await poller.receive({ max: 2, timeoutMs: 1000 })) d.ack();
    await waitFor(() => gomes.health().ready, 5000);

    await poller.close();
    expect(pullers(gomes).state).toBe('stopped');
    expect(gomes.health()).toMatchObject({
      ready: false,
      live: true,
      reasons: ['consumer "pullers" is stopped'],
    });
  });
});

describe('health options', () => {
  it('has defaults and rejects bad thresholds, listing every problem', () => {
    expect(resolveHealthOptions().options).toEqual(DEFAULT_HEALTH_OPTIONS);
    expect(Object.isFrozen(DEFAULT_HEALTH_OPTIONS)).toBe(true);
    let error: unknown;
    try {
      createGomes({ health: { stallTimeoutMs: 0, livenessStallTimeoutMs: -5, bogus: 1 } as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toEqual([
      'health: unknown option "bogus"',
      'health.stallTimeoutMs must be a positive integer (ms), got 0',
      'health.livenessStallTimeoutMs must be a positive integer (ms), got -5',
      'health.livenessStallTimeoutMs (-5) must be >= health.stallTimeoutMs (0)',
    ]);
    expect(resolveHealthOptions({ stallTimeoutMs: 1000, livenessStallTimeoutMs: 500 }).problems).toEqual([
      'health.livenessStallTimeoutMs (500) must be >= health.stallTimeoutMs (1000)',
    ]);
  });
});
