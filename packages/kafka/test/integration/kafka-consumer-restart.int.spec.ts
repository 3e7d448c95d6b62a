// A consumer restarted after a crash removes the crashed member from the group before it joins
// again. A member whose process died without leaving (SIGKILL, or a broker outage that made its
// LeaveGroup impossible) otherwise stays in the group until its session times out, and the group
// waits for it before it assigns any partition. kafkajs has no API for this (and no static
// membership): the driver sends LeaveGroup on the member's behalf through kafkajs' cluster client,
// which this test pins (kafkajs is pinned to an exact version).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TopicPartitions } from '../../src/driver/kafka-driver.js';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, env, rawDriver, track, waitFor } from '../support/kafka-harness.js';

afterEach(closeAll);

const SESSION_TIMEOUT_MS = 60_000;

/** A kafkajs group member in a child process; resolves with its pid and member id once it joined. */
async function memberInChildProcess(
  group: string,
  topic: string,
): Promise<{ pid: number; memberId: string }> {
  const kafkajs = createRequire(join(__dirname, '../../package.json')).resolve('kafkajs');
  const script = `
    const { Kafka, logLevel } = require(${JSON.stringify(kafkajs)});
    const kafka = new Kafka({ brokers: ${JSON.stringify(env.brokers)}, clientId: 'doomed', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: ${JSON.stringify(group)}, sessionTimeout: ${SESSION_TIMEOUT_MS}, rebalanceTimeout: 60000, heartbeatInterval: 1000 });
    consumer.on(consumer.events.GROUP_JOIN, (e) => process.stdout.write(e.payload.memberId + '\\n'));
    (async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [${JSON.stringify(topic)}] });
      await consumer.run({ eachMessage: async () => undefined });
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  track({ close: async () => void child.kill('SIGKILL') });
  const memberId = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`member process exited with ${code}`)));
  });
  return { pid: child.pid!, memberId };
}

describe('Kafka consumer restart: the crashed member is removed from the group', () => {
  it('LeaveGroup on behalf of a member killed without leaving: a new member gets every partition long before that member’s session timed out', async () => {
    const topic = await createTopic(uniqueTopic('restart-stale'), 2);
    const group = uniqueTopic('g-restart-stale');
    const doomed = await memberInChildProcess(group, topic);
    process.kill(doomed.pid, 'SIGKILL'); // no LeaveGroup: the group keeps it for SESSION_TIMEOUT_MS

    const consumer = track(
      rawDriver().createConsumer({
        groupProtocol: 'classic',
        groupId: group,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: 60_000,
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
    let assignment: readonly TopicPartitions[] | undefined;
    consumer.listen({ onGroupJoin: (a) => (assignment = a) });
    const t0 = Date.now();
    await consumer.connect();
    await expect(consumer.removeMember(doomed.memberId)).resolves.toBe(true);
    await expect(consumer.removeMember(doomed.memberId)).resolves.toBe(false); // gone already
    await consumer.subscribe([topic], true);
    await consumer.run(async () => undefined);
    await waitFor(() => assignment !== undefined, 20_000, { description: 'the group join' });
    expect(assignment).toEqual([{ topic, partitions: [0, 1] }]);
    // Without the LeaveGroup the join would have waited for the killed member's 60 s session.
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
