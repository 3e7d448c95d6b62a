// Test helpers for the @gomes/kafka integration tests: connections, channels and raw clients against
// the real broker named by kafka-test-env.ts, with every client closed by `closeAll()`.
import { noopLogger, type Delivery } from '@gomes/core';
import type { Subscription } from '@gomes/core/transport';
import { waitFor } from '@gomes/core/testing';
import {
  KafkaConnection,
  KafkaConsumerChannelBuilder,
  KafkaPublisherChannelBuilder,
  type KafkaConnectionOptions,
  type KafkaConsumerChannel,
  type KafkaPublisherChannel,
} from '@gomes/kafka';
import { createKafkajsDriver } from '../../src/driver/kafkajs-driver.js';
import type {
  DriverAdmin,
  DriverInboundRecord,
  KafkaDriver,
  KafkaDriverFactory,
  KafkaDriverName,
} from '../../src/driver/kafka-driver.js';
import { platformaticDriverFactory } from '../../src/driver/platformatic-loader.js';
import { kafkaTestEnv } from './kafka-test-env.js';

export const env = kafkaTestEnv();

/**
 * The driver under test: `GOMES_KAFKA_DRIVER` (the test runner runs the integration suite once per
 * driver), else kafkajs. The library reads no environment: every test connection passes it as its
 * `driver` option (`connection()`, `kafkaGomes()`, or `driver: testDriverName()` by hand).
 */
export function testDriverName(): KafkaDriverName {
  const name = process.env['GOMES_KAFKA_DRIVER']?.trim() || 'kafkajs';
  if (name !== 'kafkajs' && name !== 'platformatic')
    throw new Error(`GOMES_KAFKA_DRIVER=${name} is no driver`);
  return name;
}

/** The factory of the driver under test (for tests that wrap it). */
export async function testDriverFactory(): Promise<KafkaDriverFactory> {
  return testDriverName() === 'kafkajs' ? createKafkajsDriver : platformaticDriverFactory();
}

type Closable = { close(): Promise<void> } | { disconnect(): Promise<void> };
const open: Closable[] = [];

export function track<T extends Closable>(closable: T): T {
  open.push(closable);
  return closable;
}

/** Closes everything created since the last call, newest first. */
export async function closeAll(): Promise<void> {
  while (open.length > 0) {
    const c = open.pop() as Closable;
    await ('close' in c ? c.close() : c.disconnect()).catch(() => undefined);
  }
}

/** A connected connection to the PLAINTEXT listener, on the driver under test. */
export async function connection(
  options: KafkaConnectionOptions = {},
  brokers = env.brokers,
): Promise<KafkaConnection> {
  const c = new KafkaConnection('kafka', brokers, {
    driver: testDriverName(),
    socketConnectTimeoutMs: 5000,
    ...options,
  });
  await c.connect();
  return track(c);
}

export const ctx = (conn: KafkaConnection) => ({ connection: conn, logger: noopLogger });

/** A raw driver on the PLAINTEXT listener (for test-only admin/produce/consume). */
export function rawDriver(): KafkaDriver {
  return createKafkajsDriver({
    brokers: env.brokers,
    clientId: 'gomes-kafka-it',
    tls: undefined,
    sasl: undefined,
    connectionTimeoutMs: 5000,
    requestTimeoutMs: 30000,
    authenticationTimeoutMs: 10000,
    retries: 5,
    initialRetryTimeMs: 100,
    maxRetryTimeMs: 2000,
    logger: noopLogger,
  });
}

export async function admin(): Promise<DriverAdmin> {
  const a = rawDriver().createAdmin();
  await a.connect();
  return track(a);
}

export async function createTopic(topic: string, partitions = 1): Promise<string> {
  const a = await admin();
  await a.createTopics([{ topic, partitions, replicationFactor: 1, configs: {} }]);
  return topic;
}

/** Builds a publisher; the topic must exist (or use withTopic). */
export async function publisher(
  conn: KafkaConnection,
  topic: string,
  configure: (b: KafkaPublisherChannelBuilder) => KafkaPublisherChannelBuilder = (b) => b,
): Promise<KafkaPublisherChannel> {
  return track(await configure(new KafkaPublisherChannelBuilder('kafka', topic)).build(ctx(conn)));
}

/** Fast consumer defaults for tests (short session, heartbeat, fetch wait and commit interval). */
export function consumerBuilder(
  topic: string,
  name: string,
  connectionName = 'kafka',
): KafkaConsumerChannelBuilder {
  return new KafkaConsumerChannelBuilder(connectionName, topic, name)
    .withSessionTimeout(6000)
    .withHeartbeatInterval(500)
    .withRebalanceTimeout(10000)
    .withMaxWait(100)
    .withCommitInterval(100);
}

export async function consumer(
  conn: KafkaConnection,
  builder: KafkaConsumerChannelBuilder,
): Promise<KafkaConsumerChannel> {
  return track(await builder.build(ctx(conn)));
}

/** Subscribes with `onDelivery` and records every delivery. */
export async function collect(
  channel: KafkaConsumerChannel,
  onDelivery: (d: Delivery) => Promise<void> | void = (d) => d.ack(),
  errors: Error[] = [],
): Promise<{ deliveries: Delivery[]; subscription: Subscription; errors: Error[] }> {
  const deliveries: Delivery[] = [];
  const subscription = track(
    await channel.subscribe(
      async (d) => {
        deliveries.push(d);
        await onDelivery(d);
      },
      { onError: (e) => errors.push(e) },
    ),
  );
  return { deliveries, subscription, errors };
}

/** Reads every record of `topic` from the beginning until `count` are seen (raw, no gomes). */
export async function readRaw(
  topic: string,
  count: number,
  timeoutMs = 20000,
): Promise<DriverInboundRecord[]> {
  const records: DriverInboundRecord[] = [];
  const c = rawDriver().createConsumer({
    groupProtocol: 'classic',
    groupId: `raw-reader-${topic}-${Date.now()}`,
    sessionTimeoutMs: 6000,
    rebalanceTimeoutMs: 10000,
    heartbeatIntervalMs: 500,
    minBytes: 1,
    maxBytes: 10485760,
    maxBytesPerPartition: 1048576,
    maxWaitTimeMs: 100,
    readCommitted: true,
    metadataMaxAgeMs: 300000,
    onlyPartitions: undefined,
    allowAutoTopicCreation: false,
  });
  track(c);
  await c.connect();
  await c.subscribe([topic], true);
  await c.run(async (batch, control) => {
    for (const r of batch.records) {
      records.push(r);
      control.resolveOffset(r.offset);
    }
  });
  await waitFor(() => records.length >= count, timeoutMs, {
    description: `${count} raw records on ${topic}`,
  });
  await c.disconnect();
  return records;
}

export { waitFor };
