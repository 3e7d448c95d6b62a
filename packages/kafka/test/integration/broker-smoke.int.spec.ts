// Smoke test of the real broker with raw kafkajs (no gomes code): proves that the broker started by
// scripts/kafka-broker.mjs (or the one named by KAFKA_* variables) serves PLAINTEXT, SASL (PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512) and SSL, and that kafkajs 2.2.4 can produce, consume, commit offsets
// and run transactions against it (Kafka 4.x removed old protocol versions, KIP-896).
import { readFileSync } from 'node:fs';
import {
  type Admin,
  type Consumer,
  type EachMessagePayload,
  Kafka,
  type KafkaConfig,
  Partitioners,
  type Producer,
  type SASLOptions,
  logLevel,
} from 'kafkajs';
import { KAFKA_TEST_USERS, kafkaTestEnv, uniqueTopic } from '../support/kafka-test-env.js';

const env = kafkaTestEnv();

type Client = Producer | Consumer | Admin;
const clients: Client[] = [];

function kafka(config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'gomes-broker-smoke',
    brokers: env.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 15000,
    ...config,
  });
}

function track<T extends Client>(client: T): T {
  clients.push(client);
  return client;
}

function producer(k: Kafka, config: Parameters<Kafka['producer']>[0] = {}): Producer {
  return track(k.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config }));
}

/** Resolves when `predicate` holds for the messages seen so far; rejects on consumer crash or deadline. */
function collect(consumer: Consumer, predicate: (seen: EachMessagePayload[]) => boolean, timeoutMs = 60_000) {
  const seen: EachMessagePayload[] = [];
  let resolveDone!: () => void;
  let rejectDone!: (err: Error) => void;
  const done = new Promise<EachMessagePayload[]>((resolve, reject) => {
    resolveDone = () => resolve(seen);
    rejectDone = reject;
  });
  const timer = setTimeout(
    () => rejectDone(new Error(`condition not met within ${timeoutMs} ms; saw ${seen.length} message(s)`)),
    timeoutMs,
  );
  // kafkajs reports retriable failures as a crash followed by a restart; only a final crash is fatal.
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) rejectDone(e.payload.error);
  });
  const onMessage = async (payload: EachMessagePayload): Promise<void> => {
    seen.push(payload);
    if (predicate(seen)) resolveDone();
  };
  return {
    onMessage,
    done: done.finally(() => clearTimeout(timer)),
  };
}

async function createTopic(k: Kafka, topic: string): Promise<void> {
  const admin = track(k.admin());
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
  });
}

afterEach(async () => {
  const all = clients.splice(0);
  await Promise.all(all.map((c) => c.disconnect().catch(() => undefined)));
});

describe(`real Kafka broker ${process.env['KAFKA_VERSION'] ?? '(version unknown)'}`, () => {
  it('reports one broker and a controller', async () => {
    const admin = track(kafka().admin());
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(1);
    expect(cluster.brokers[0]).toMatchObject({ host: '127.0.0.1' });
    expect(cluster.controller).toBe(cluster.brokers[0]?.nodeId);
  });

  it('produces and consumes on PLAINTEXT, committing offsets in a consumer group', async () => {
    const k = kafka();
    const topic = uniqueTopic('smoke-plaintext');
    const groupId = uniqueTopic('smoke-group');
    await createTopic(k, topic);

    const p = producer(k);
    await p.connect();
    const sent = await p.send({
      topic,
      messages: [
        { key: 'k1', value: 'hello', headers: { 'x-trace': 't1' } },
        { key: 'k2', value: 'world' },
      ],
    });
    expect(sent[0]).toMatchObject({ topicName: topic, errorCode: 0 });

    const consumer = track(k.consumer({ groupId, maxWaitTimeInMs: 100 }));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const { onMessage, done } = collect(consumer, (seen) => seen.length >= 2);
    await consumer.run({
      autoCommit: false,
      eachMessage: async (payload) => {
        await consumer.commitOffsets([
          { topic, partition: payload.partition, offset: String(Number(payload.message.offset) + 1) },
        ]);
        await onMessage(payload);
      },
    });
    const seen = await done;
    expect(seen.map((m) => m.message.value?.toString())).toEqual(['hello', 'world']);
    expect(seen[0]?.message.key?.toString()).toBe('k1');
    expect(seen[0]?.message.headers?.['x-trace']?.toString()).toBe('t1');

    const admin = track(k.admin());
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(offsets[0]?.partitions[0]).toMatchObject({ partition: 0, offset: '2' });
  });

  it('auto-creates a topic on first produce', async () => {
    const p = producer(kafka());
    await p.connect();
    const [meta] = await p.send({ topic: uniqueTopic('smoke-autocreate'), messages: [{ value: 'x' }] });
    expect(meta).toMatchObject({ errorCode: 0, baseOffset: '0' });
  });

  it('runs a transaction: read_committed consumers see committed records, not aborted ones', async () => {
    const k = kafka();
    const topic = uniqueTopic('smoke-txn');
    await createTopic(k, topic);
    const p = producer(k, {
      transactionalId: uniqueTopic('smoke-txn-id'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await p.connect();

    const aborted = await p.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted' }] });
    await aborted.abort();
    const committed = await p.transaction();
    await committed.send({ topic, messages: [{ value: 'committed' }] });
    await committed.commit();

    const consumer = track(
      k.consumer({ groupId: uniqueTopic('smoke-txn-group'), readUncommitted: false, maxWaitTimeInMs: 100 }),
    );
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const { onMessage, done } = collect(consumer, (seen) =>
      seen.some((m) => m.message.value?.toString() === 'committed'),
    );
    await consumer.run({ eachMessage: onMessage });
    const seen = await done;
    expect(seen.map((m) => m.message.value?.toString())).toEqual(['committed']);
  });

  const saslCases: Array<[string, SASLOptions]> = [
    ['PLAIN', { mechanism: 'plain', ...KAFKA_TEST_USERS.plain }],
    ['SCRAM-SHA-256', { mechanism: 'scram-sha-256', ...KAFKA_TEST_USERS.scram }],
    ['SCRAM-SHA-512', { mechanism: 'scram-sha-512', ...KAFKA_TEST_USERS.scram }],
  ];

  it.each(saslCases)('authenticates with SASL %s and produces', async (_name, sasl) => {
    const p = producer(kafka({ brokers: env.saslBrokers, sasl }));
    await p.connect();
    const [meta] = await p.send({ topic: uniqueTopic('smoke-sasl'), messages: [{ value: 'authenticated' }] });
    expect(meta).toMatchObject({ errorCode: 0 });
  });

  it.each([
    ['PLAIN', 'plain'],
    ['SCRAM-SHA-256', 'scram-sha-256'],
    ['SCRAM-SHA-512', 'scram-sha-512'],
  ] as const)('rejects a wrong password with SASL %s', async (_name, mechanism) => {
    const p = producer(
      kafka({
        brokers: env.saslBrokers,
        sasl: { mechanism, username: 'alice', password: 'wrong-password' } as SASLOptions,
        retry: { retries: 0 },
      }),
    );
    await expect(p.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
  });

  it('produces over SSL, verifying the broker certificate against KAFKA_SSL_CA', async () => {
    const p = producer(
      kafka({
        brokers: env.sslBrokers,
        ssl: { ca: [readFileSync(env.sslCa, 'utf8')], rejectUnauthorized: true },
      }),
    );
    await p.connect();
    const [meta] = await p.send({ topic: uniqueTopic('smoke-ssl'), messages: [{ value: 'encrypted' }] });
    expect(meta).toMatchObject({ errorCode: 0 });
  });

  it('refuses the SSL listener when the CA is not trusted', async () => {
    const p = producer(
      kafka({ brokers: env.sslBrokers, ssl: { rejectUnauthorized: true }, retry: { retries: 0 } }),
    );
    await expect(p.connect()).rejects.toThrow();
  });
});
