import 'reflect-metadata';
import { ConfigurationError } from '../errors/configuration-error.js';
import { isGomesError } from '../errors/gomes-error.js';
import { createGomes } from '../gomes/create-gomes.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { TopicPresets, TopicTemplates, type TopicTemplate } from './topic-templates.js';

/** DictaMesh's standard topics (events package README). */
const DICTAMESH: readonly TopicTemplate[] = [
  { name: 'entity.changed', partitions: 12 },
  { name: 'relationship.changed', partitions: 12 },
  { name: 'schema.changed', partitions: 6, cleanupPolicy: 'compact' },
  { name: 'cache.invalidation', partitions: 12 },
  { name: 'system.events', partitions: 3 },
  { name: 'dead-letter', partitions: 6 },
];

describe('TopicTemplates', () => {
  it('applies the prefix and the development preset: replication 1, the broker’s retention', () => {
    const t = TopicTemplates.define({ prefix: 'dictamesh.', topics: DICTAMESH });
    expect(t.validate()).toEqual([]);
    expect(t.name('schema.changed')).toBe('dictamesh.schema.changed');
    expect(t.topics.map((x) => [x.name, x.partitions, x.replicationFactor, x.configs])).toEqual([
      ['dictamesh.entity.changed', 12, 1, { 'cleanup.policy': 'delete' }],
      ['dictamesh.relationship.changed', 12, 1, { 'cleanup.policy': 'delete' }],
      ['dictamesh.schema.changed', 6, 1, { 'cleanup.policy': 'compact' }],
      ['dictamesh.cache.invalidation', 12, 1, { 'cleanup.policy': 'delete' }],
      ['dictamesh.system.events', 3, 1, { 'cleanup.policy': 'delete' }],
      ['dictamesh.dead-letter', 6, 1, { 'cleanup.policy': 'delete' }],
    ]);
  });

  it('production preset: replication 3, min.insync.replicas 2, 30-day retention on delete topics only; templates override it', () => {
    const t = TopicTemplates.define({
      preset: 'production',
      topics: [
        { name: 'a', partitions: 12 },
        { name: 'b', partitions: 6, cleanupPolicy: 'compact' },
        {
          name: 'c',
          partitions: 1,
          retentionMs: -1,
          replicationFactor: 5,
          configs: { 'min.insync.replicas': '3' },
        },
      ],
    });
    const [a, b, c] = t.topics;
    expect(a).toMatchObject({
      replicationFactor: 3,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': '2592000000', 'min.insync.replicas': '2' },
    });
    expect(b?.configs).toEqual({ 'cleanup.policy': 'compact', 'min.insync.replicas': '2' });
    expect(c).toMatchObject({
      replicationFactor: 5,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'min.insync.replicas': '3' },
    });
    expect(TopicPresets.production.retentionMs).toBe(30 * 24 * 3600 * 1000);
  });

  it('lists every problem of the declarations', () => {
    const t = TopicTemplates.define({
      prefix: 'x/',
      preset: 'staging' as never,
      topics: [
        { name: 'ok', partitions: 0 },
        { name: 'ok', partitions: 1, cleanupPolicy: 'forever' as never, retentionMs: -5 },
        { name: 'dup', partitions: 1, cleanupPolicy: 'compact', configs: { 'cleanup.policy': 'delete' } },
      ],
    });
    const problems = t.validate();
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('unknown topic preset "staging"'),
        expect.stringContaining('topic "x/ok": a topic name is'),
        expect.stringContaining('partitions must be an integer >= 1 (got 0)'),
        expect.stringContaining('"x/ok" is declared more than once'),
        expect.stringContaining('cleanupPolicy must be one of'),
        expect.stringContaining('retentionMs must be an integer >= -1'),
        expect.stringContaining('set cleanup.policy once'),
      ]),
    );
    expect(() => t.name('missing')).toThrow(/No topic template "missing"/);
  });
});

describe('gomes.addTopics on the in-memory transport', () => {
  it('creates the declared topics with their partitions and reports the configs it cannot honour', async () => {
    const broker = new InMemoryBroker();
    const topics = TopicTemplates.define({ prefix: 'dictamesh.', topics: DICTAMESH });
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addTopics('memory', topics)
      .addPublisherChannel(inMemoryPublisher('memory', topics.name('entity.changed')));
    await app.start();
    expect(DICTAMESH.map((t) => broker.partitionCount(`dictamesh.${t.name}`))).toEqual([12, 12, 6, 12, 3, 6]);
    const [report] = app.topicReports();
    expect(report?.created).toHaveLength(6);
    expect(report?.mismatched).toEqual([]);
    expect(report?.notApplied.find((n) => n.topic === 'dictamesh.schema.changed')?.settings).toEqual([
      'replication.factor',
      'cleanup.policy',
    ]);
    await app.shutdown();
  });

  it('reports an existing topic with other partitions and leaves it unchanged; onMismatch fail fails start()', async () => {
    const broker = new InMemoryBroker();
    broker.createTopic('entity.changed', 4);
    const declared = [
      { name: 'entity.changed', partitions: 12 },
      { name: 'system.events', partitions: 3 },
    ];
    const warn = createGomes()
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addTopics('memory', TopicTemplates.define({ topics: declared }));
    await warn.start();
    expect(warn.topicReports()[0]).toMatchObject({
      created: ['system.events'],
      matching: [],
      mismatched: [
        { topic: 'entity.changed', differences: [{ setting: 'partitions', declared: '12', actual: '4' }] },
      ],
    });
    expect(broker.partitionCount('entity.changed')).toBe(4);
    await warn.shutdown();

    const strict = createGomes()
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addTopics('memory', TopicTemplates.define({ topics: declared, onMismatch: 'fail' }));
    const error = await strict.start().catch((e: unknown) => e);
    expect(isGomesError(error) && error.code).toBe('GOMES_TOPIC_PROVISIONING_FAILED');
    expect((error as Error).message).toContain('entity.changed: partitions declared 12, broker has 4');
    expect(strict.state).toBe('failed');
  });

  it('start() rejects invalid declarations and unknown connections with the other problems', async () => {
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('memory'))
      .addTopics('memory', TopicTemplates.define({ topics: [{ name: 'a', partitions: -1 }] }))
      .addTopics('nowhere', TopicTemplates.define({ topics: [{ name: 'b', partitions: 1 }] }));
    const error = await app.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toEqual([
      'topics on connection "memory": topic "a": partitions must be an integer >= 1 (got -1)',
      'topics on connection "nowhere": unknown connection "nowhere"',
    ]);
  });
});
