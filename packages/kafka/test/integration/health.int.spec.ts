// gomes.health() over the real broker: a consumer whose handler blocks while its partition has lag
// turns not ready (then not live) after the stall threshold and ready again once it catches up; a
// consumer that crashes — stopped by a failing message (stopOnError), or its client crashed (a real
// crash through the driver's own crash path, recovered by the restart policy or not) —
// turns not ready, and ready again after recovery; the lag per partition matches the unconsumed
// messages.
import 'reflect-metadata';
import {
  createGomes,
  defineEventHandler,
  Event,
  isGomesError,
  type Gomes,
  type HealthReport,
} from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import type { DriverConsumer, KafkaDriverFactory } from '../../src/driver/kafka-driver.js';
import { KafkaConnection } from '../../src/kafka-connection.js';
import { uniqueTopic } from '../support/kafka-test-env.js';
import {
  closeAll,
  createTopic,
  env,
  readRaw,
  testDriverFactory,
  testDriverName,
  track,
  waitFor,
} from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, gate, kafkaGomes } from '../support/gomes-kafka.js';

@Event('health.jobQueued')
class JobQueued {
  constructor(readonly id: string) {}
}

const HEALTH = { stallTimeoutMs: 500, livenessStallTimeoutMs: 1500, rebalanceGraceMs: 20_000 };
const gates: { open: () => void }[] = [];

afterEach(async () => {
  for (const g of gates.splice(0)) g.open(); // never leave a handler blocked into shutdown
  await closeAll();
});

function blockingGate(): ReturnType<typeof gate> {
  const g = gate();
  gates.push(g);
  return g;
}

/** Waits until `predicate` holds for a fresh health report and returns that report. */
async function healthWhere(
  app: Gomes,
  predicate: (h: HealthReport) => boolean,
  timeoutMs = 30_000,
): Promise<HealthReport> {
  const report = await waitFor(
    () => {
      const h = app.health();
      return predicate(h) ? h : undefined;
    },
    timeoutMs,
    { description: 'a health report matching the condition', intervalMs: 10 },
  );
  return report as HealthReport;
}

/** A gomes instance whose connection `kafka` uses `driverFactory`; shut down by `closeAll()`. */
function gomesWithDriver(name: string, driverFactory: KafkaDriverFactory): Gomes {
  const app = createGomes({ name, shutdownTimeoutMs: 10_000, health: HEALTH });
  app.addChannelConnection(
    new KafkaConnection('kafka', env.brokers, {
      driver: testDriverName(),
      socketConnectTimeoutMs: 5000,
      initialRetryTimeMs: 100,
      maxRetryTimeMs: 1000,
      driverFactory,
    }),
  );
  track({ close: async () => app.shutdown() });
  return app;
}

async function publish(
  app: Gomes,
  topic: string,
  ids: readonly string[],
  key?: (id: string) => string,
): Promise<void> {
  for (const id of ids)
    await app.eventBusByChannel(topic).publish(new JobQueued(id), { partitionKey: key ? key(id) : 'same' });
}

/**
 * The real driver under test, except that the batch callback of its consumers throws a non-retriable
 * error on the first batch after `crashNextBatch()`: the driver then crashes the consumer through its
 * own crash path (kafkajs: KafkaJSNonRetriableError → CRASH event; platformatic: the fetch loop ends
 * with onCrash), as it does for an unrecoverable error.
 */
async function crashingDriver(): Promise<{ factory: KafkaDriverFactory; crashNextBatch: () => void }> {
  let crash = false;
  const base = await testDriverFactory();
  const factory: KafkaDriverFactory = (config) => {
    const driver = base(config);
    return {
      name: driver.name,
      supportedCompression: driver.supportedCompression,
      supportedGroupProtocols: driver.supportedGroupProtocols,
      createProducer: (o) => driver.createProducer(o),
      createAdmin: (o) => driver.createAdmin(o),
      createConsumer: (o): DriverConsumer => {
        const c = driver.createConsumer(o);
        return {
          connect: async () => c.connect(),
          subscribe: async (topics, fromBeginning) => c.subscribe(topics, fromBeginning),
          run: async (handler) =>
            c.run(async (batch, control) => {
              if (crash) {
                crash = false;
                throw Object.assign(new Error('injected: batch processing failed'), { retriable: false });
              }
              return handler(batch, control);
            }),
          pause: (topic, partitions) => c.pause(topic, partitions),
          resume: (topic, partitions) => c.resume(topic, partitions),
          seek: (topic, partition, offset) => c.seek(topic, partition, offset),
          commit: async (offsets) => c.commit(offsets),
          listen: (listener) => c.listen(listener),
          disconnect: async () => c.disconnect(),
          removeMember: async (memberId) => c.removeMember(memberId),
        };
      },
    };
  };
  return { factory, crashNextBatch: () => (crash = true) };
}

describe('gomes.health() against the real broker', () => {
  it('turns not ready (then not live) when a handler blocks while the partition has lag, and ready after it catches up', async () => {
    const topic = await createTopic(uniqueTopic('health-stall'), 1);
    const group = uniqueTopic('health-stall-worker');
    const blocked = blockingGate();
    const app = kafkaGomes('health-stall', { health: HEALTH })
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
      .addConsumerChannel(consumerBuilder(topic, group))
      .addActionHandler(defineEventHandler(JobQueued, async () => blocked.promise));
    await app.start();
    await publish(app, topic, ['a', 'b', 'c', 'd', 'e']);
    const consumer = app.eventDrivenConsumer(group);
    await consumer.run();

    const stalled = await healthWhere(app, (h) => h.reasons.some((r) => r.includes('stallTimeoutMs')));
    expect(stalled).toMatchObject({ ready: false, live: true, status: 'degraded' });
    expect(stalled.reasons).toEqual([
      expect.stringMatching(
        new RegExp(
          `^consumer "${group}": partition ${topic}\\[0\\] has lag 5 and made no progress for \\d+ ms \\(stallTimeoutMs 500\\)$`,
        ),
      ),
    ]);
    const worker = stalled.consumers.find((c) => c.name === group)!;
    expect(worker).toMatchObject({ channel: topic, state: 'running' });
    expect(worker.partitions).toEqual([
      { channel: topic, partition: 0, lag: 5, msSinceProgress: expect.any(Number), stalled: true },
    ]);
    expect(worker.partitions[0]!.msSinceProgress).toBeGreaterThan(500);
    expect(stalled.connections).toEqual([{ name: 'kafka', state: 'connected' }]);

    const dead = await healthWhere(app, (h) => !h.live);
    expect(dead.status).toBe('failing');
    expect(dead.reasons[0]).toMatch(
      /has lag 5 and made no progress for \d+ ms \(livenessStallTimeoutMs 1500\) \(not live\)$/,
    );

    blocked.open();
    await waitFor(() => consumer.stats.succeeded === 5, 30_000);
    const recovered = await healthWhere(app, (h) => h.ready);
    expect(recovered).toMatchObject({ ready: true, live: true, status: 'ok', reasons: [] });
    expect(recovered.consumers[0]!.partitions).toEqual([
      { channel: topic, partition: 0, lag: 0, msSinceProgress: 0, stalled: false },
    ]);
  });

  it('turns not ready and not live when a failing message crashes the consumer (stopOnError), and ready after a new run', async () => {
    const topic = await createTopic(uniqueTopic('health-crash'), 1);
    const group = uniqueTopic('health-crash-worker');
    let failing = true;
    const app = kafkaGomes('health-crash', { health: HEALTH })
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
      .addConsumerChannel(consumerBuilder(topic, group))
      .addActionHandler(
        defineEventHandler(JobQueued, (job) => {
          if (failing && job.id === 'bad') throw new Error('the ledger rejected job bad');
        }),
      );
    await app.start();
    const first = app.eventDrivenConsumer(group).withStopOnError(true);
    await first.run();
    await healthWhere(app, (h) => h.ready);
    await publish(app, topic, ['bad', 'after-bad']);
    await first.done;

    const crashed = app.health();
    expect(crashed).toMatchObject({ ready: false, live: false, status: 'failing' });
    expect(crashed.consumers[0]).toMatchObject({ name: group, state: 'crashed', partitions: [] });
    expect(crashed.reasons).toEqual([
      expect.stringMatching(new RegExp(`^consumer "${group}" crashed: .*stopOnError is set \\(not live\\)$`)),
    ]);

    failing = false;
    const second = app.eventDrivenConsumer(group);
    await second.run();
    await waitFor(() => second.stats.succeeded === 2, 30_000);
    const recovered = await healthWhere(app, (h) => h.ready && h.consumers[0]!.partitions.length === 1);
    expect(recovered).toMatchObject({ ready: true, live: true, reasons: [] });
    expect(recovered.consumers[0]).toMatchObject({
      state: 'running',
      partitions: [{ partition: 0, lag: 0, stalled: false }],
    });
  });

  it(`turns not ready while a crashed ${testDriverName()} consumer is restarted, and ready once the restart policy recovered it`, async () => {
    const topic = await createTopic(uniqueTopic('health-driver-crash'), 1);
    const group = uniqueTopic('health-driver-crash-worker');
    const driver = await crashingDriver();
    const handled: string[] = [];
    const errors: Error[] = [];
    const app = gomesWithDriver('health-driver-crash', driver.factory)
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
      .addConsumerChannel(
        consumerBuilder(topic, group).withRestartPolicy({ maxRestarts: 3, backoffMs: 1500 }),
      )
      .addActionHandler(defineEventHandler(JobQueued, (job) => void handled.push(job.id)));
    app.onUnhandledError((e) => errors.push(e));
    await app.start();
    const consumer = app.eventDrivenConsumer(group);
    await consumer.run();
    await publish(app, topic, ['before']);
    await waitFor(async () => (await committedOffsets(group, topic))[0] === 1, 30_000); // 'before' handled and committed
    await healthWhere(app, (h) => h.ready);

    driver.crashNextBatch();
    await publish(app, topic, ['during']);
    const crashed = await healthWhere(app, (h) => h.consumers[0]!.state === 'crashed');
    expect(crashed).toMatchObject({ ready: false, live: true, status: 'degraded' });
    expect(crashed.consumers[0]).toMatchObject({
      state: 'crashed',
      restarting: true,
      error: expect.stringMatching(/injected/),
    });
    expect(crashed.reasons).toEqual([
      expect.stringMatching(
        new RegExp(
          `^consumer "${group}" crashed and is being restarted: .*injected: batch processing failed`,
        ),
      ),
    ]);
    expect(errors.some((e) => isGomesError(e) && e.code === 'GOMES_CONSUMER_CRASHED')).toBe(true);
    expect(consumer.state).toBe('running'); // the event-driven consumer keeps running; the transport restarts

    await waitFor(() => handled.includes('during'), 30_000);
    const recovered = await healthWhere(app, (h) => h.ready && h.consumers[0]!.state === 'running');
    expect(recovered).toMatchObject({ ready: true, live: true, reasons: [] });
    expect(handled).toEqual(['before', 'during']);
  });

  it(`turns not live when the restart policy gives up after a ${testDriverName()} crash, and ready after a new run`, async () => {
    const topic = await createTopic(uniqueTopic('health-gave-up'), 1);
    const group = uniqueTopic('health-gave-up-worker');
    const driver = await crashingDriver();
    const handled: string[] = [];
    const app = gomesWithDriver('health-gave-up', driver.factory)
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
      .addConsumerChannel(consumerBuilder(topic, group).withRestartPolicy({ maxRestarts: 0 }))
      .addActionHandler(defineEventHandler(JobQueued, (job) => void handled.push(job.id)));
    await app.start();
    const first = app.eventDrivenConsumer(group);
    await first.run();
    await healthWhere(app, (h) => h.ready);

    driver.crashNextBatch();
    await publish(app, topic, ['lost-until-rerun']);
    const dead = await healthWhere(app, (h) => !h.live);
    expect(dead).toMatchObject({ ready: false, status: 'failing' });
    expect(dead.consumers[0]).toMatchObject({ state: 'crashed', error: expect.stringMatching(/injected/) });
    expect(dead.consumers[0]!.restarting).toBeUndefined();
    expect(dead.reasons).toEqual([
      expect.stringMatching(new RegExp(`^consumer "${group}" crashed: .*injected.*\\(not live\\)$`)),
    ]);
    expect(handled).toEqual([]);

    await first.stop();
    const second = app.eventDrivenConsumer(group);
    await second.run();
    await waitFor(() => handled.includes('lost-until-rerun'), 30_000);
    await healthWhere(app, (h) => h.ready && h.live);
  });

  it('reports the lag of each partition as the number of unconsumed messages in it', async () => {
    const topic = await createTopic(uniqueTopic('health-lag'), 3);
    const group = uniqueTopic('health-lag-worker');
    const blocked = blockingGate();
    const app = kafkaGomes('health-lag', {
      health: { ...HEALTH, stallTimeoutMs: 60_000, livenessStallTimeoutMs: 60_000 },
    })
      .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
      .addConsumerChannel(consumerBuilder(topic, group))
      .addActionHandler(defineEventHandler(JobQueued, async () => blocked.promise));
    await app.start();
    const ids = Array.from({ length: 12 }, (_, i) => `job-${i}`);
    await publish(app, topic, ids, (id) => id);
    const perPartition = [0, 0, 0];
    for (const r of await readRaw(topic, ids.length)) perPartition[r.partition]!++;
    expect(perPartition.filter((n) => n > 0).length).toBeGreaterThan(1); // keys spread over partitions

    const consumer = app.eventDrivenConsumer(group);
    await consumer.run();
    const lagged = await healthWhere(
      app,
      (h) => h.consumers[0]!.partitions.length === perPartition.filter((n) => n > 0).length,
    );
    const lags = Object.fromEntries(lagged.consumers[0]!.partitions.map((p) => [p.partition, p.lag]));
    expect(lags).toEqual(Object.fromEntries(perPartition.flatMap((n, p) => (n > 0 ? [[p, n]] : []))));
    expect(lagged).toMatchObject({ ready: true, live: true }); // lag alone, within the stall timeout, is healthy

    blocked.open();
    await waitFor(() => consumer.stats.succeeded === ids.length, 30_000);
    const drained = await healthWhere(app, (h) => h.consumers[0]!.partitions.every((p) => p.lag === 0));
    expect(drained).toMatchObject({ ready: true, live: true });
  });
});
