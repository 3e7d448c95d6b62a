import 'reflect-metadata';
import { Event } from '../actions/action-decorators.js';
import { defineEventHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { createGomes } from './create-gomes.js';
import type { Gomes } from './gomes.js';

@Event('jobQueued')
class JobQueued {
  constructor(readonly id: string) {}
}

let instances: Gomes[] = [];
afterEach(async () => {
  await Promise.all(instances.map(async (g) => g.shutdown().catch(() => undefined)));
  instances = [];
});

async function started(handled: string[]): Promise<Gomes> {
  const broker = new InMemoryBroker();
  const gomes = createGomes()
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'jobs'))
    .addConsumerChannel(inMemoryConsumer('memory', 'jobs', 'worker').withPolling())
    .addActionHandler(
      defineEventHandler(JobQueued, (job) => {
        handled.push(job.id);
      }),
    );
  instances.push(gomes);
  await gomes.start();
  return gomes;
}

async function publish(gomes: Gomes, id: string): Promise<void> {
  await gomes.eventBusByChannel('jobs').publish(new JobQueued(id));
}

describe('gomes consumers configured with with* (copies)', () => {
  it('registers the copy that runs: health reports it, a second running copy is refused, shutdown stops it', async () => {
    const handled: string[] = [];
    const gomes = await started(handled);
    const made = gomes.eventDrivenConsumer('worker');
    const copy = made.withAmountOfProcessors(2);

    await expect(made.run()).rejects.toBeInstanceOf(ConfigurationError);
    await copy.run();
    expect(gomes.eventDrivenConsumer('worker')).toBe(copy);
    expect(gomes.health().consumers.find((c) => c.name === 'worker')).toMatchObject({ state: 'running' });

    const other = made.withAmountOfProcessors(3);
    await expect(other.run()).rejects.toMatchObject({ code: 'GOMES_ILLEGAL_STATE' });
    expect(other.state).toBe('idle');

    await publish(gomes, 'a');
    await waitFor(() => handled.length === 1);
    expect(copy.stats.succeeded).toBe(1);

    await gomes.shutdown();
    expect(copy.state).toBe('stopped');
  });

  it('a polling consumer copy starts, the original refuses to, and shutdown closes the copy', async () => {
    const gomes = await started([]);
    const made = gomes.pollingConsumer('worker');
    const copy = made.withNackDelay(1).withMessageProcessingTimeout(5000);
    expect(copy.options).toEqual({ nackDelayMs: 1, messageProcessingTimeoutMs: 5000 });
    expect(made.options).toEqual({});

    await expect(made.receive({ max: 1, timeoutMs: 10 })).rejects.toBeInstanceOf(ConfigurationError);
    expect(made.state).toBe('idle');

    await publish(gomes, 'a');
    const [delivery] = await copy.receive({ max: 1, timeoutMs: 5000 });
    expect(delivery?.nack()).toBe(true);
    const [again] = await copy.receive({ max: 1, timeoutMs: 5000 });
    expect(again?.deliveryAttempt).toBe(2);
    again?.ack();

    await gomes.shutdown();
    expect(copy.state).toBe('closed');
  });
});
