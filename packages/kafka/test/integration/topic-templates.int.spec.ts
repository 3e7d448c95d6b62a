// Topic templates on the real broker: the DictaMesh standard topics are created at start() with
// their partitions, replication factor and cleanup policy (checked against the broker's described
// topics and configs); declaring them again matches; a declaration that differs is reported and
// the topic left unchanged (or start() fails with onMismatch 'fail'); the production preset's
// replication factor 3 on a one-broker cluster fails start() with the broker's reason.
import { TopicPresets, TopicTemplates, type TopicTemplate } from '@gomes/core';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { admin, closeAll } from '../support/kafka-harness.js';
import { kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

const DICTAMESH: readonly TopicTemplate[] = [
  { name: 'entity.changed', partitions: 12 },
  { name: 'relationship.changed', partitions: 12 },
  { name: 'schema.changed', partitions: 6, cleanupPolicy: 'compact' },
  { name: 'cache.invalidation', partitions: 12 },
  { name: 'system.events', partitions: 3 },
  { name: 'dead-letter', partitions: 6 },
];

interface Described {
  topic: string;
  partitions: number;
  replicationFactor: number;
  [config: string]: string | number;
}

async function described(names: readonly string[]): Promise<Described[]> {
  const a = await admin();
  const topics = await a.describeTopics(names);
  return Promise.all(
    topics
      .sort((x, y) => names.indexOf(x.topic) - names.indexOf(y.topic))
      .map(async (t) => ({
        topic: t.topic,
        partitions: t.partitions,
        replicationFactor: t.replicationFactor,
        ...(await a.describeTopicConfigs(t.topic, ['cleanup.policy', 'retention.ms'])),
      })),
  );
}

async function provision(templates: TopicTemplates) {
  const app = kafkaGomes('topics');
  app.addTopics('kafka', templates);
  await app.start();
  const [report] = app.topicReports();
  await app.shutdown();
  return report!;
}

describe('topic templates on Kafka', () => {
  it('creates the DictaMesh standard topics as declared; declaring them again matches', async () => {
    const prefix = `${uniqueTopic('dictamesh')}.`;
    const templates = TopicTemplates.define({
      prefix,
      preset: 'development',
      topics: [
        ...DICTAMESH.slice(0, 5),
        { name: 'dead-letter', partitions: 6, retentionMs: 14 * 24 * 3600_000 },
      ],
    });
    const report = await provision(templates);
    const names = DICTAMESH.map((t) => templates.name(t.name));
    expect(report.created).toEqual(names);
    expect(report.mismatched).toEqual([]);
    expect(report.notApplied).toEqual([]);

    const topics = await described(names);
    expect(
      topics.map((t) => [
        t.topic.slice(prefix.length),
        t.partitions,
        t.replicationFactor,
        t['cleanup.policy'],
      ]),
    ).toEqual([
      ['entity.changed', 12, 1, 'delete'],
      ['relationship.changed', 12, 1, 'delete'],
      ['schema.changed', 6, 1, 'compact'],
      ['cache.invalidation', 12, 1, 'delete'],
      ['system.events', 3, 1, 'delete'],
      ['dead-letter', 6, 1, 'delete'],
    ]);
    expect(topics[5]?.['retention.ms']).toBe(String(14 * 24 * 3600_000));

    const again = await provision(templates);
    expect(again.created).toEqual([]);
    expect(again.matching).toEqual(names);
  }, 120_000);

  it('reports an existing topic that differs and leaves it unchanged; onMismatch fail fails start()', async () => {
    const prefix = `${uniqueTopic('mismatch')}.`;
    await provision(TopicTemplates.define({ prefix, topics: DICTAMESH }));
    const changed: TopicTemplate[] = [
      { name: 'entity.changed', partitions: 6 },
      { name: 'schema.changed', partitions: 6, cleanupPolicy: 'delete' },
      { name: 'system.events', partitions: 3, retentionMs: 3600_000 },
      { name: 'cache.invalidation', partitions: 12 },
    ];
    const report = await provision(TopicTemplates.define({ prefix, topics: changed }));
    expect(report.created).toEqual([]);
    expect(report.matching).toEqual([`${prefix}cache.invalidation`]);
    expect(report.mismatched).toEqual([
      {
        topic: `${prefix}entity.changed`,
        differences: [{ setting: 'partitions', declared: '6', actual: '12' }],
      },
      {
        topic: `${prefix}schema.changed`,
        differences: [{ setting: 'cleanup.policy', declared: 'delete', actual: 'compact' }],
      },
      {
        topic: `${prefix}system.events`,
        differences: [{ setting: 'retention.ms', declared: '3600000', actual: '604800000' }],
      },
    ]);
    const [entity, schema] = await described([`${prefix}entity.changed`, `${prefix}schema.changed`]);
    expect([entity?.partitions, schema?.['cleanup.policy']]).toEqual([12, 'compact']);

    const strict = kafkaGomes('topics-strict');
    strict.addTopics('kafka', TopicTemplates.define({ prefix, topics: changed, onMismatch: 'fail' }));
    const error = await strict.start().catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'GOMES_TOPIC_PROVISIONING_FAILED' });
    expect(error?.message).toContain(`${prefix}entity.changed: partitions declared 6, broker has 12`);
    expect(error?.message).toContain(
      `${prefix}schema.changed: cleanup.policy declared delete, broker has compact`,
    );
  }, 120_000);

  it('the production preset (replication 3) on a one-broker cluster fails start() with the broker’s reason', async () => {
    const prefix = `${uniqueTopic('prod')}.`;
    const app = kafkaGomes('topics-prod');
    app.addTopics(
      'kafka',
      TopicTemplates.define({ prefix, preset: 'production', topics: DICTAMESH.slice(0, 1) }),
    );
    const error = await app.start().catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'GOMES_TOPIC_PROVISIONING_FAILED' });
    expect(error?.message).toContain('entity.changed (12 partitions, replication factor 3)');
    // kafkajs: "Replication-factor is invalid"; platformatic: the broker's "Replication factor: 3 larger …".
    expect(error?.message).toMatch(/replication.factor/i);
    expect(error?.message).toMatch(/invalid|larger than/i);
    expect(await described([`${prefix}entity.changed`])).toEqual([]);
    expect(TopicPresets.production.replicationFactor).toBe(3);
  }, 120_000);
});
