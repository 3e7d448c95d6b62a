// The two Kafka drivers side by side on the real broker, whichever one the suite runs on: the same
// partitioning (Java's murmur2) whichever driver writes, and the consumer group protocols — KIP-848
// on the platformatic driver (a member joining and leaving mid-stream), a ConfigurationError at
// start() on kafkajs.
import 'reflect-metadata';
import { IsInt, IsString } from 'class-validator';
import { ConfigurationError, Event, EventHandler, type Gomes } from '@gomes/core';
import { KafkaPublisherChannelBuilder, type KafkaDriverName, type KafkaGroupProtocol } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { loadPlatformaticKafka } from '../../src/driver/platformatic-loader.js';
import { closeAll, createTopic, env, readRaw, testDriverName, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, consumerBuilder, kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('drivers.itemAdded')
class ItemAdded {
  @IsString() key: string;
  @IsInt() seq: number;
  constructor(key: string, seq: number) {
    this.key = key;
    this.seq = seq;
  }
}

@EventHandler(ItemAdded)
class Collector {
  readonly seqs: number[] = [];
  handle(event: ItemAdded): void {
    this.seqs.push(event.seq);
  }
}

/**
 * Partitions of a 12-partition topic, computed with Kafka's Java client 4.4.0:
 * `Utils.toPositive(Utils.murmur2(key.getBytes(UTF_8))) % 12`.
 */
const JAVA_PARTITION_OF_12: Readonly<Record<string, number>> = {
  'order-1': 10,
  'order-2': 3,
  'order-3': 3,
  'customer-42': 9,
  'αβγ-ключ': 1,
  k: 8,
  'a-much-longer-partition-key-with-some-length-0123456789': 11,
};

/** The type of a consumer group as the broker lists it: `classic` or `consumer` (KIP-848). */
async function groupType(groupId: string): Promise<string | undefined> {
  const { Admin } = await loadPlatformaticKafka();
  const admin = new Admin({ clientId: 'gomes-kafka-it', bootstrapBrokers: [...env.brokers] });
  try {
    return (await admin.listGroups({ types: ['classic', 'consumer'] })).get(groupId)?.groupType;
  } finally {
    await admin.close();
  }
}

async function publishKeyed(driver: KafkaDriverName, topic: string): Promise<void> {
  const app = kafkaGomes(`drivers-publisher-${driver}`, {}, { driver });
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await app.start();
  const bus = app.eventBusByChannel(topic);
  let seq = 0;
  for (const key of Object.keys(JAVA_PARTITION_OF_12))
    await bus.publish(new ItemAdded(key, seq++), { partitionKey: key });
  await app.shutdown();
}

/**
 * A steady stream of keyed records (about 100 a second, 24 keys) while members come and go: the
 * broker moves partitions with its heartbeats (KIP-848: group.consumer.heartbeat.interval.ms, 5 s).
 */
async function steadyStream(topic: string): Promise<{ stop: () => Promise<void>; published: () => number }> {
  const publisher = kafkaGomes(`drivers-stream-${topic}`, {}, { driver: 'platformatic' });
  publisher.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await publisher.start();
  const bus = publisher.eventBusByChannel(topic);
  let published = 0;
  let streaming = true;
  const loop = (async () => {
    while (streaming) {
      const key = `key-${published % 24}`;
      await bus.publish(new ItemAdded(key, published), { partitionKey: key });
      published++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    stop: async () => {
      streaming = false;
      await loop;
    },
    published: () => published,
  };
}

/** A group member: a gomes instance on `driver` consuming `topic` with the group protocol `protocol`. */
async function member(
  name: string,
  topic: string,
  group: string,
  driver: KafkaDriverName,
  protocol: KafkaGroupProtocol,
): Promise<{ app: Gomes; collector: Collector }> {
  const app = kafkaGomes(name, {}, { driver });
  const collector = new Collector();
  app.addConsumerChannel(consumerBuilder(topic, 'drivers').withGroupId(group).withGroupProtocol(protocol));
  app.addActionHandler(collector);
  await app.start();
  await app.eventDrivenConsumer('drivers').run();
  return { app, collector };
}

/** The partitions a member reads (health lists a partition once it fetched records from it). */
function reading(app: Gomes): number {
  return app.health().consumers[0]?.partitions.length ?? 0;
}

/** Every record 0..published-1 handled by some member (at least once), and the group committed them all. */
async function expectAllHandledAndCommitted(
  topic: string,
  group: string,
  published: number,
  collectors: readonly Collector[],
): Promise<void> {
  const handled = (): Set<number> => new Set(collectors.flatMap((c) => c.seqs));
  await waitFor(() => handled().size === published, 60_000, { description: `all ${published} handled` });
  expect([...handled()].sort((x, y) => x - y)).toEqual(Array.from({ length: published }, (_, i) => i));
  await waitFor(
    async () =>
      (await committedOffsets(group, topic)).reduce((sum, o) => sum + Math.max(0, o), 0) === published,
    30_000,
    { description: 'the group committed every record' },
  );
}

describe('Kafka drivers', () => {
  it.each<KafkaDriverName>(['kafkajs', 'platformatic'])(
    'a partition key lands where the Java client puts it, written by the %s driver',
    async (driver) => {
      const topic = await createTopic(uniqueTopic(`drivers-partitioning-${driver}`), 12);
      await publishKeyed(driver, topic);
      const records = await readRaw(topic, Object.keys(JAVA_PARTITION_OF_12).length);
      const placed = Object.fromEntries(records.map((r) => [r.key?.toString('utf8'), r.partition]));
      expect(placed).toEqual(JAVA_PARTITION_OF_12);
    },
    60_000,
  );

  it('the KIP-848 consumer group protocol on kafkajs fails start() with a ConfigurationError naming the driver', async () => {
    const topic = await createTopic(uniqueTopic('drivers-kip848-kafkajs'), 1);
    const app = kafkaGomes('drivers-kip848-kafkajs', {}, { driver: 'kafkajs' });
    app.addConsumerChannel(consumerBuilder(topic, 'kip848').withGroupProtocol('consumer'));
    app.addActionHandler(new Collector());
    const error = await app.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(
      'the consumer group protocol (withGroupProtocol) is not supported by the "kafkajs" driver',
    );
  }, 60_000);

  // Behaviour of the platformatic driver, in the suite's platformatic pass.
  if (testDriverName() !== 'platformatic') return;

  it('members of both drivers share one classic group (a rolling switch of drivers): partitions split, every record handled and committed', async () => {
    const partitions = 6;
    const topic = await createTopic(uniqueTopic('drivers-mixed'), partitions);
    const group = uniqueTopic('g-drivers-mixed');
    const stream = await steadyStream(topic);
    try {
      const js = await member('drivers-mixed-kafkajs', topic, group, 'kafkajs', 'classic');
      const plt = await member('drivers-mixed-platformatic', topic, group, 'platformatic', 'classic');
      await waitFor(
        () =>
          reading(js.app) > 0 && reading(plt.app) > 0 && reading(js.app) + reading(plt.app) === partitions,
        60_000,
        {
          description: 'the partitions split between the kafkajs and the platformatic member',
        },
      );
      await waitFor(() => js.collector.seqs.length > 0 && plt.collector.seqs.length > 0, 30_000, {
        description: 'both members handling records',
      });
      expect(await groupType(group)).toBe('classic');
      await stream.stop();
      await expectAllHandledAndCommitted(topic, group, stream.published(), [js.collector, plt.collector]);
    } finally {
      await stream.stop();
    }
  }, 180_000);

  // KIP-848 needs Kafka 4.0+ (on by default there).
  if (Number(env.version.split('.')[0]) < 4) return;

  it('KIP-848 on platformatic: a member joining and leaving mid-stream takes over partitions and gives them back; nothing is lost', async () => {
    const partitions = 6;
    const topic = await createTopic(uniqueTopic('drivers-kip848'), partitions);
    const group = uniqueTopic('g-drivers-kip848');
    const stream = await steadyStream(topic);
    try {
      const a = await member('drivers-kip848-a', topic, group, 'platformatic', 'consumer');
      await waitFor(() => reading(a.app) === partitions, 60_000, { description: 'A reads every partition' });
      expect(await groupType(group)).toBe('consumer'); // KIP-848, not a classic group

      // B joins mid-stream: the broker moves some of A's partitions to it.
      const b = await member('drivers-kip848-b', topic, group, 'platformatic', 'consumer');
      await waitFor(() => reading(b.app) > 0 && reading(a.app) + reading(b.app) === partitions, 60_000, {
        description: 'the partitions shared by A and B',
      });
      await waitFor(() => b.collector.seqs.length > 0, 30_000, { description: 'B consuming' });
      const handledByA = a.collector.seqs.length;

      // B leaves mid-stream: A gets its partitions back and goes on where B's commits end.
      await b.app.shutdown();
      await waitFor(() => reading(a.app) === partitions, 60_000, {
        description: 'A reads every partition again',
      });
      await waitFor(() => a.collector.seqs.length > handledByA + 50, 30_000, {
        description: 'A consuming on',
      });
      await stream.stop();
      await expectAllHandledAndCommitted(topic, group, stream.published(), [a.collector, b.collector]);
    } finally {
      await stream.stop();
    }
  }, 180_000);
});
