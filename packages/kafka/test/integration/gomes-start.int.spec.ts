// End to end through the gomes API: start() against unreachable brokers fails fast with a clear
// error and leaves nothing connected (connections it did open are rolled back).
import 'reflect-metadata';
import { Socket } from 'node:net';
import { Event, GomesError, createGomes, defineEventHandler, type Gomes } from '@gomes/core';
import { KafkaConnection, KafkaConsumerChannelBuilder, KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, env, testDriverName, track } from '../support/kafka-harness.js';
import { sleep } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('start.somethingHappened')
class SomethingHappened {}

const UNREACHABLE = '127.0.0.1:1'; // nothing listens on port 1: connection refused

/** Open client sockets to the test broker's port (what "connected" means on the wire). */
function brokerSockets(): number {
  const port = Number(env.brokers[0]!.split(':').pop());
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof Socket && !h.destroyed && h.remotePort === port).length;
}

function app(connections: KafkaConnection[], topic: string): Gomes {
  const g = createGomes({ name: 'start-test' });
  track({ close: async () => g.shutdown() });
  for (const c of connections) g.addChannelConnection(c);
  return g
    .addPublisherChannel(new KafkaPublisherChannelBuilder(connections[0]!.name, topic))
    .addConsumerChannel(
      new KafkaConsumerChannelBuilder(connections[0]!.name, topic, uniqueTopic('start-consumer')),
    )
    .addActionHandler(defineEventHandler(SomethingHappened, () => undefined));
}

describe('gomes start() with unreachable brokers', () => {
  it('fails fast with GOMES_CONNECTION_FAILED naming the brokers; nothing is connected', async () => {
    // The deprecated aliases of socketConnectTimeoutMs / connectBudgetMs still work.
    const connection = new KafkaConnection('kafka', [UNREACHABLE], {
      driver: testDriverName(),
      connectionTimeoutMs: 1000,
      connectTimeoutMs: 5000,
    });
    const g = app([connection], 'start-unreachable');
    const started = Date.now();
    const error = await g.start().catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(error).toBeInstanceOf(GomesError);
    expect((error as GomesError).code).toBe('GOMES_CONNECTION_FAILED');
    expect((error as GomesError).message).toContain(UNREACHABLE);
    expect(g.state).toBe('failed');
    expect(connection.state).toBe('disconnected');
    expect(() => g.commandBusByChannel('start-unreachable').channelName).not.toThrow(); // buses exist, but
    await expect(
      g.eventBusByChannel('start-unreachable').publishRaw('start.somethingHappened', {}),
    ).rejects.toMatchObject({
      code: 'GOMES_ILLEGAL_STATE',
    });
    expect(() => g.eventDrivenConsumer('x')).toThrow(/failed; call start\(\) first/);
    await g.shutdown(); // still safe
  });

  it('rolls back what it connected when a later connection is unreachable: no socket to the broker is left open', async () => {
    const topic = await createTopic(uniqueTopic('start-rollback'), 1);
    await sleep(200);
    const before = brokerSockets();
    const good = new KafkaConnection('kafka', env.brokers, {
      driver: testDriverName(),
      socketConnectTimeoutMs: 3000,
    });
    const bad = new KafkaConnection('kafka-dr', [UNREACHABLE], {
      driver: testDriverName(),
      socketConnectTimeoutMs: 1000,
      connectBudgetMs: 5000,
    });
    const g = app([good, bad], topic);
    const error = await g.start().catch((e: unknown) => e);
    expect((error as GomesError).code).toBe('GOMES_CONNECTION_FAILED');
    expect((error as GomesError).message).toContain('kafka-dr');
    expect(g.state).toBe('failed');
    expect(good.state).toBe('disconnected'); // connected first, then rolled back
    expect(bad.state).toBe('disconnected');
    await expect(g.start()).rejects.toMatchObject({ code: 'GOMES_ILLEGAL_STATE' }); // a failed instance is not retried
    // The sockets opened to verify the good connection are closed again.
    const deadline = Date.now() + 5000;
    while (brokerSockets() > before && Date.now() < deadline) await sleep(50);
    expect(brokerSockets()).toBeLessThanOrEqual(before);
  });
});
