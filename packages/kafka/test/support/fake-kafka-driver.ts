// A fake KafkaDriver for unit tests of the Kafka channels: consumers are driven by the test (batches,
// group events, crashes); producers and admins record what they are asked and fail on demand.
import { noopLogger } from '@gomes/core';
import type {
  DriverAdmin,
  DriverBatchHandler,
  DriverConsumer,
  DriverConsumerListener,
  DriverInboundRecord,
  DriverProduceRequest,
  DriverProducer,
  DriverProducerOptions,
  DriverRecordMetadata,
  KafkaDriver,
  TopicPartitionOffset,
} from '../../src/driver/kafka-driver.js';
import { KafkaConsumerChannel } from '../../src/kafka-consumer-channel.js';
import {
  DEFAULT_KAFKA_CONSUMER_OPTIONS,
  type KafkaConsumerOptions,
} from '../../src/kafka-consumer-options.js';

export class FakeConsumer implements DriverConsumer {
  listener: DriverConsumerListener = {};
  handler: DriverBatchHandler | undefined;
  readonly paused = new Set<number>();
  readonly seeks: [number, string][] = [];
  readonly commits: TopicPartitionOffset[][] = [];
  resolved = new Map<number, string>();
  disconnected = false;
  runs = 0;
  /** What `commit` resolves (false: the client skipped the commit). */
  commitResult = true;
  memberId = 'member-1';
  /** Set to hold `connect` until the returned promise's resolver is called. */
  connectGate: Promise<void> | undefined;
  /** Set to make `connect` reject with it (a broker that cannot be reached). */
  connectError: Error | undefined;
  async connect(): Promise<void> {
    await this.connectGate;
    if (this.connectError) throw this.connectError;
  }
  async subscribe(): Promise<void> {}
  async run(handler: DriverBatchHandler): Promise<void> {
    this.runs++;
    this.handler = handler;
    this.listener.onGroupJoin?.([{ topic: 't', partitions: [0, 1] }], this.memberId);
  }
  pause(_t: string, partitions: readonly number[]): void {
    partitions.forEach((p) => this.paused.add(p));
  }
  resume(_t: string, partitions: readonly number[]): void {
    partitions.forEach((p) => this.paused.delete(p));
  }
  seek(_t: string, partition: number, offset: string): void {
    this.seeks.push([partition, offset]);
  }
  /** Seeks of `partition` so far: a batch delivered before one is stale (as the real drivers). */
  seeksOf(partition: number): number {
    return this.seeks.filter(([p]) => p === partition).length;
  }
  async commit(offsets: readonly TopicPartitionOffset[]): Promise<boolean> {
    this.commits.push([...offsets]);
    return this.commitResult;
  }
  listen(listener: DriverConsumerListener): () => void {
    this.listener = listener;
    return () => undefined;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
  /** Member ids removed through `removeMember`, in order. */
  readonly removedMembers: string[] = [];
  /** Set to make `removeMember` reject with it. */
  removeMemberError: Error | undefined;
  async removeMember(memberId: string): Promise<boolean> {
    if (this.removeMemberError) throw this.removeMemberError;
    this.removedMembers.push(memberId);
    return true;
  }
  /** The group (re)joined with `partitions` of topic `t`. */
  join(partitions: number[], memberId = this.memberId): void {
    this.memberId = memberId;
    this.listener.onGroupJoin?.([{ topic: 't', partitions }], memberId);
  }
  async deliver(
    partition: number,
    offsets: number[],
    heartbeat?: () => Promise<void>,
    value: (offset: number) => Buffer = (o) => Buffer.from(JSON.stringify({ o })),
  ): Promise<void> {
    const records: DriverInboundRecord[] = offsets.map((o) => ({
      topic: 't',
      partition,
      offset: String(o),
      key: Buffer.from(`k${partition}`),
      value: value(o),
      headers: { messageId: `m-${partition}-${o}` },
      timestamp: '0',
    }));
    // The batch is "fetched" now: a seek of its partition from here on makes it stale.
    const seeksAtFetch = this.seeksOf(partition);
    await this.handler!(
      { topic: 't', partition, records, highWatermark: String((offsets.at(-1) ?? -1) + 1) },
      {
        resolveOffset: (o) => this.resolved.set(partition, o),
        isRunning: () => true,
        isStale: () => this.seeksOf(partition) !== seeksAtFetch,
        ...(heartbeat ? { heartbeat } : {}),
      },
    );
  }
  lastCommit(partition: number): string | undefined {
    for (let i = this.commits.length - 1; i >= 0; i--) {
      const hit = this.commits[i]!.find((c) => c.partition === partition);
      if (hit) return hit.offset;
    }
    return undefined;
  }
}

export class FakeProducer implements DriverProducer {
  readonly sent: DriverProduceRequest[] = [];
  connected = false;
  closed = false;
  constructor(
    readonly options: DriverProducerOptions,
    /** Called for each send; throw (or reject) to fail it, return a promise to hold it. */
    readonly onSend: (request: DriverProduceRequest, producer: FakeProducer) => void | Promise<void> = () =>
      undefined,
  ) {}
  async connect(): Promise<void> {
    this.connected = true;
  }
  async send(request: DriverProduceRequest): Promise<DriverRecordMetadata[]> {
    this.sent.push(request);
    await this.onSend(request, this);
    return [{ topic: request.topic, partition: 0, baseOffset: '0' }];
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

export function fakeAdmin(counter: { created: number; disconnected: number }): DriverAdmin {
  counter.created++;
  return {
    connect: async () => undefined,
    describeCluster: async () => ({
      clusterId: 'c',
      controller: 1,
      brokers: [{ nodeId: 1, host: 'h', port: 1 }],
    }),
    describeTopics: async (topics) => topics.map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })),
    describeTopicConfigs: async () => ({}),
    createTopics: async () => undefined,
    fetchTopicOffsets: async () => [{ partition: 0, low: '0', high: '0' }],
    fetchTopicOffsetsByTimestamp: async () => [{ partition: 0, offset: '0' }],
    fetchCommittedOffsets: async () => [],
    fetchEndOffsets: async () => [{ partition: 0, offset: '0' }],
    listGroups: async () => [],
    disconnect: async () => void counter.disconnected++,
  };
}

/** A fake driver; `onSend` decides what each producer send does. */
export function fakeDriver(
  onSend?: (request: DriverProduceRequest, producer: FakeProducer) => void | Promise<void>,
) {
  const consumers: FakeConsumer[] = [];
  const producers: FakeProducer[] = [];
  const admins = { created: 0, disconnected: 0 };
  const driver: KafkaDriver = {
    name: 'kafkajs',
    supportedCompression: new Set(['none']),
    supportedGroupProtocols: new Set(['classic']),
    createConsumer: () => {
      const c = new FakeConsumer();
      consumers.push(c);
      return c;
    },
    createProducer: (options) => {
      const p = new FakeProducer(options, onSend);
      producers.push(p);
      return p;
    },
    createAdmin: () => fakeAdmin(admins),
  };
  return { driver, consumers, producers, admins };
}

/** A consumer channel on a fake driver (commit on every ack, restart at once). */
export function setup(
  options: Partial<KafkaConsumerOptions> = {},
  onSend?: (request: DriverProduceRequest, producer: FakeProducer) => void | Promise<void>,
) {
  const fake = fakeDriver(onSend);
  const channel = new KafkaConsumerChannel({
    driver: fake.driver,
    consumerName: 'svc',
    topic: 't',
    groupId: 'g',
    deadLetterTopic: 't.dlq',
    options: { ...DEFAULT_KAFKA_CONSUMER_OPTIONS, commitIntervalMs: 0, restartBackoffMs: 0, ...options },
    logger: noopLogger,
  });
  return { channel, ...fake };
}

export const tick = async (): Promise<void> => new Promise((r) => setImmediate(r));
