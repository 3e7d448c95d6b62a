// close() racing a crash restart against the real broker: kafkajs lets a disconnected consumer
// connect, subscribe and run again, so a restart that finishes after close() must not leave a live
// group member behind.
import { noopLogger } from '@gomes/core';
import { holdsFor } from '@gomes/core/testing';
import kafkajs from 'kafkajs';
import { KafkaConnection } from '../../src/kafka-connection.js';
import type {
  DriverConsumer,
  DriverConsumerListener,
  KafkaDriverFactory,
} from '../../src/driver/kafka-driver.js';
import {
  closeAll,
  consumerBuilder,
  createTopic,
  env,
  testDriverFactory,
  testDriverName,
  track,
  waitFor,
} from '../support/kafka-harness.js';
import { uniqueTopic } from '../support/kafka-test-env.js';

afterEach(closeAll);

/**
 * The real driver under test; the connect of every consumer after the first completes for real but
 * is reported to the caller only once `openGate()` is called.
 */
async function gatedDriver() {
  const listeners: DriverConsumerListener[] = [];
  let created = 0;
  let connected = 0;
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
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
        const gated = ++created > 1;
        return {
          connect: async () => {
            await c.connect();
            connected++;
            if (gated) await gate;
          },
          subscribe: async (topics, fromBeginning) => c.subscribe(topics, fromBeginning),
          run: async (handler) => c.run(handler),
          pause: (topic, partitions) => c.pause(topic, partitions),
          resume: (topic, partitions) => c.resume(topic, partitions),
          seek: (topic, partition, offset) => c.seek(topic, partition, offset),
          commit: async (offsets) => c.commit(offsets),
          listen: (listener) => {
            listeners.push(listener);
            return c.listen(listener);
          },
          disconnect: async () => c.disconnect(),
          removeMember: async (memberId) => c.removeMember(memberId),
        };
      },
    };
  };
  return { factory, listeners, openGate, connected: () => connected };
}

async function groupMembers(groupId: string): Promise<number> {
  const admin = new kafkajs.Kafka({ brokers: env.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

describe('KafkaConsumerChannel close during a crash restart (real broker)', () => {
  it('leaves no group member behind when close() runs while the restarted member connects', async () => {
    const topic = await createTopic(uniqueTopic('con-close-restart'), 2);
    const group = uniqueTopic('g-close-restart');
    const driver = await gatedDriver();
    const conn = track(
      new KafkaConnection('kafka', env.brokers, {
        driver: testDriverName(),
        socketConnectTimeoutMs: 5000,
        driverFactory: driver.factory,
      }),
    );
    await conn.connect();
    const channel = track(
      await consumerBuilder(topic, group)
        .withRestartPolicy({ maxRestarts: 3, backoffMs: 10 })
        .build({ connection: conn, logger: noopLogger }),
    );
    const subscription = await channel.subscribe(async (d) => d.ack(), { onError: () => undefined });
    await waitFor(async () => (await groupMembers(group)) === 1, 20000, { description: 'one member' });

    driver.listeners[0]!.onCrash?.(new Error('injected crash'));
    await waitFor(() => driver.connected() === 2, 20000, { description: 'the restart connected' });
    const closing = subscription.close();
    await new Promise((r) => setTimeout(r, 200)); // close() disconnected the member meanwhile
    driver.openGate();
    await closing;

    expect(channel.state).toBe('stopped');
    // A member that subscribed and ran after close() would join the group within this time.
    await holdsFor(async () => (await groupMembers(group)) === 0, 5000, { intervalMs: 500 });
  }, 60000);
});
