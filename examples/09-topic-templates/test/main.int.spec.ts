// Runs examples/09-topic-templates (built with tsc) against the real broker as a child process, on the
// driver under test, and checks what it prints and what the broker holds afterwards: the DictaMesh
// standard topics created as declared, the drifted declarations reported with every difference (and
// refused with onMismatch 'fail'), and the topics left exactly as first created.
import { admin, closeAll, env, testDriverName } from '../../../packages/kafka/test/support/kafka-harness.js';
import { buildExample, runExample } from '../../test-support/run-example.js';

const DIR = '09-topic-templates';
const STANDARD = [
  'entity.changed',
  'relationship.changed',
  'schema.changed',
  'cache.invalidation',
  'system.events',
  'dead-letter',
];

beforeAll(() => buildExample(DIR), 120_000);
afterAll(closeAll);

describe('example 09-topic-templates', () => {
  it('creates the standard topics, reports the drifted declarations, refuses them with onMismatch fail', async () => {
    const { code, stdout, stderr } = await runExample(DIR, {
      timeoutMs: 90_000,
      env: { KAFKA_BROKERS: env.brokers.join(','), GOMES_KAFKA_DRIVER: testDriverName() },
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Kafka at ${env.brokers.join(',')}, driver ${testDriverName()} `);
    const prefix = /prefix (dictamesh\.\w+\.)/.exec(stdout)?.[1];
    expect(prefix).toBeDefined();

    const [first, second, third] = stdout.split(/\n(?=\d\. )/).slice(1);
    // 1. all six created at start(), then used by the publisher
    expect(first).toContain(`created:    ${STANDARD.join(', ')}`);
    expect(first).toContain(`published entityChanged to ${prefix}entity.changed`);
    // 2. three differences reported (logged as warnings too), start() went on
    expect(second).toContain('matching:   relationship.changed, cache.invalidation, dead-letter');
    expect(second).toContain('mismatched: entity.changed, schema.changed, system.events');
    for (const difference of [
      'entity.changed: partitions declared 24, broker has 12',
      'schema.changed: cleanup.policy declared delete, broker has compact',
      'system.events: retention.ms declared 86400000, broker has 604800000',
    ]) {
      expect(second).toContain(difference);
      expect(third).toContain(`${prefix}${difference}`);
    }
    expect(second?.match(/\[gomes warn\] Topic exists with other settings/g)).toHaveLength(3);
    expect(second).toContain('started; the topics were left as they are');
    // 3. onMismatch 'fail'
    expect(third).toContain('start() failed: GOMES_TOPIC_PROVISIONING_FAILED');
    expect(third).toContain('nothing was changed');
    expect(stdout).toContain('\ndone\n');

    // The broker holds the topics as first declared: nothing was changed by the drifted runs.
    const a = await admin();
    const names = STANDARD.map((n) => `${prefix}${n}`);
    const described = await a.describeTopics(names);
    const partitions = Object.fromEntries(
      described.map((t) => [t.topic.slice(prefix!.length), t.partitions]),
    );
    expect(partitions).toEqual({
      'entity.changed': 12,
      'relationship.changed': 12,
      'schema.changed': 6,
      'cache.invalidation': 12,
      'system.events': 3,
      'dead-letter': 6,
    });
    expect(described.every((t) => t.replicationFactor === 1)).toBe(true);
    expect(await a.describeTopicConfigs(`${prefix}schema.changed`, ['cleanup.policy'])).toEqual({
      'cleanup.policy': 'compact',
    });
    expect(await a.describeTopicConfigs(`${prefix}system.events`, ['retention.ms'])).toEqual({
      'retention.ms': '604800000',
    });
  });
});
