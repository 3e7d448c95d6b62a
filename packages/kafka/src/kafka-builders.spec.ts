import { KafkaConnection } from './kafka-connection.js';
import { KafkaConsumerChannelBuilder } from './kafka-consumer-channel-builder.js';
import { KafkaPublisherChannelBuilder } from './kafka-publisher-channel-builder.js';
import { Secret } from './internal/secret.js';
import { inspect } from 'node:util';

describe('KafkaPublisherChannelBuilder', () => {
  it('is immutable and has safe defaults', () => {
    const base = new KafkaPublisherChannelBuilder('kafka', 'orders');
    const changed = base.withAsync().withBatchSize(5);
    expect(base.options.async).toBe(false);
    expect(base.options.requiredAcks).toBe(-1);
    expect(base.options.idempotent).toBe(true);
    expect(changed.options).toMatchObject({ async: true, batchSize: 5 });
    expect(changed.withReplyChannelName('replies').replyChannelName).toBe('replies');
    expect(base.validate()).toEqual([]);
  });

  it('lists every problem at once', () => {
    const problems = new KafkaPublisherChannelBuilder('kafka', 'orders')
      .withCompression('brotli' as never)
      .withRequiredAcks(1)
      .withBatchSize(0)
      .withTopic({ partitions: 0 })
      .validate();
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/compression "brotli" is not one of none, gzip, snappy, lz4, zstd/);
    expect(problems.join('\n')).toMatch(/idempotent producer needs requiredAcks -1/);
  });

  it('accepts every codec, and acks 0/1 without idempotence', () => {
    const b = new KafkaPublisherChannelBuilder('kafka', 'orders').withIdempotent(false).withRequiredAcks(0);
    expect(b.withCompression('gzip').validate()).toEqual([]);
    expect(b.withCompression('snappy').validate()).toEqual([]);
    expect(b.withCompression('lz4').validate()).toEqual([]);
    expect(b.withCompression('zstd').validate()).toEqual([]);
  });
});

describe('KafkaConsumerChannelBuilder', () => {
  it('defaults the group id to the consumer name and the dead-letter topic to the DLQ channel or <topic>.DLQ', () => {
    const b = new KafkaConsumerChannelBuilder('kafka', 'orders', 'order-service');
    expect(b.groupId).toBe('order-service');
    expect(b.deadLetterTopic).toBe('orders.DLQ');
    expect(b.withDeadLetterChannelName().endpointOptions.deadLetterChannelName).toBe('orders.DLQ');
    expect(b.withDeadLetterChannelName().deadLetterTopic).toBe('orders.DLQ');
    expect(b.withDeadLetterChannelName('orders.dead').deadLetterTopic).toBe('orders.dead');
    expect(b.withGroupId('kafka:order-service').groupId).toBe('kafka:order-service');
    expect(b.validate()).toEqual([]);
  });

  it('rejects options kafkajs cannot honour and inconsistent timeouts, all at once', () => {
    const problems = new KafkaConsumerChannelBuilder('kafka', 'orders', 'svc')
      .withReadBatchTimeout(1000)
      .withHeartbeatInterval(10000)
      .withSessionTimeout(6000)
      .withQueueCapacity(0)
      .withPartition(-1)
      .validate();
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/withReadBatchTimeout is not supported/);
  });

  it('withMaxUnsettledPerPartition names the per-partition bound; the deprecated withQueueCapacity still sets it', () => {
    const b = new KafkaConsumerChannelBuilder('kafka', 'orders', 'svc');
    expect(b.withMaxUnsettledPerPartition(40).options.queueCapacity).toBe(40);
    expect(b.withQueueCapacity(30).options.queueCapacity).toBe(30);
  });

  it('maps every Go gomes option', () => {
    const b = new KafkaConsumerChannelBuilder('kafka', 'orders', 'svc')
      .withPartition(2)
      .withGroupTopics('a')
      .withQueueCapacity(7)
      .withMinBytes(10)
      .withMaxBytes(2048)
      .withMaxWait(250)
      .withHeartbeatInterval(1000)
      .withCommitInterval(0)
      .withPartitionWatchInterval(2000)
      .withWatchPartitionChanges(true)
      .withSessionTimeout(10000)
      .withRebalanceTimeout(20000)
      .withStartOffset('latest')
      .withIsolationLevel('read_uncommitted');
    expect(b.validate()).toEqual([]);
    expect(b.options).toMatchObject({
      partition: 2,
      groupTopics: ['a'],
      queueCapacity: 7,
      minBytes: 10,
      maxBytes: 2048,
      maxWaitMs: 250,
      heartbeatIntervalMs: 1000,
      commitIntervalMs: 0,
      partitionWatchIntervalMs: 2000,
      watchPartitionChanges: true,
      sessionTimeoutMs: 10000,
      rebalanceTimeoutMs: 20000,
      startOffset: 'latest',
      isolationLevel: 'read_uncommitted',
    });
  });
});

describe('KafkaConnection', () => {
  it('validates brokers, SASL and timeouts, listing every problem', () => {
    const c = new KafkaConnection('kafka', ['nohost', 'ok:9092', 'bad:99999'], {
      sasl: { mechanism: 'gssapi' as 'plain', username: '', password: '' },
      requestTimeoutMs: -1,
    });
    expect(c.validate()).toHaveLength(6);
  });

  it('never shows secrets', () => {
    const c = new KafkaConnection('kafka', ['h:1'], {
      sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' },
    });
    expect(JSON.stringify(c)).not.toContain('hunter2');
    expect(inspect(c, { depth: 5 })).not.toContain('hunter2');
    const s = Secret.of('hunter2');
    expect(`${String(s)} ${JSON.stringify({ s })} ${inspect(s)}`).not.toContain('hunter2');
    expect(s.reveal()).toBe('hunter2');
  });

  it('is not usable before connect()', () => {
    expect(() => new KafkaConnection('kafka', ['h:1']).driver).toThrow(/not connected/);
  });
});
