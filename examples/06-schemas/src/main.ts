/**
 * Example 06 — Avro events with a schema registry.
 *
 *   1. The orders service (v1) starts with the development preset: start() registers its OrderPlaced
 *      schema under the subject `<topic>-value`, then it publishes in the Confluent wire format.
 *   2. Version 2 of the service adds a field with a default (`channel`), registered as version 2.
 *   3. Billing still runs v1 of the event class, analytics runs v2: both read all four records —
 *      billing skips the new field, analytics gets the default for the old records.
 *   4. A v3 that changes a field's type is refused by start(), before anything connects, with the
 *      reason.
 *
 * Needs Kafka (KAFKA_BROKERS, default 127.0.0.1:19092; driver GOMES_KAFKA_DRIVER, default kafkajs,
 * read here and passed as the connection's `driver` option) and a Confluent-compatible registry
 * (SCHEMA_REGISTRY_URL, e.g. http://localhost:8081 or Apicurio's .../apis/ccompat/v7; optional
 * SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD for basic auth).
 *
 * Run: pnpm example:schemas   (= pnpm build && node scripts/run-with-kafka.mjs --with-schema-registry
 *      node examples/06-schemas/dist/main.js: a local broker and Apicurio Registry, stopped afterwards)
 */
import 'reflect-metadata';
import { Event, EventHandler, createGomes, isGomesError, ConfigurationError, type Gomes } from '@gomes/core';
import {
  KafkaConnection,
  KafkaConsumerChannelBuilder,
  KafkaPublisherChannelBuilder,
  type KafkaDriverName,
} from '@gomes/kafka';
import { AvroSchema, AvroSerializer, SchemaRegistryClient } from '@gomes/schema-registry';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',').map((b) => b.trim());
const DRIVER = kafkaDriver(process.env['GOMES_KAFKA_DRIVER']);
const REGISTRY_URL = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081';
const USERNAME = process.env['SCHEMA_REGISTRY_USERNAME'];
const PASSWORD = process.env['SCHEMA_REGISTRY_PASSWORD'] ?? '';
const TOPIC = `shop.orders.avro.${Date.now().toString(36)}`;

// ---------------------------------------------------------------- three versions of one event

const FIELDS_V1 = [
  { name: 'orderId', type: 'string' },
  { name: 'customerId', type: 'string' },
  { name: 'totalCents', type: 'long' },
];

@Event('orderPlaced')
@AvroSchema({ type: 'record', name: 'OrderPlaced', namespace: 'com.acme.shop', fields: FIELDS_V1 })
class OrderPlacedV1 {
  orderId!: string;
  customerId!: string;
  totalCents!: number;
}

@Event('orderPlaced')
@AvroSchema({
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.acme.shop',
  fields: [...FIELDS_V1, { name: 'channel', type: 'string', default: 'web' }],
})
class OrderPlacedV2 {
  orderId!: string;
  customerId!: string;
  totalCents!: number;
  channel!: string;
}

@Event('orderPlaced')
@AvroSchema({
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.acme.shop',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'totalCents', type: 'string' }, // long -> string: old records cannot be read any more
  ],
})
class OrderPlacedV3 {}

// ---------------------------------------------------------------- consumers

@EventHandler(OrderPlacedV1)
class Billing {
  readonly seen: string[] = [];
  handle(event: OrderPlacedV1): void {
    this.seen.push(event.orderId);
    console.log(`[billing v1]   ${event.orderId} ${event.customerId} ${event.totalCents} cents`);
  }
}

@EventHandler(OrderPlacedV2)
class Analytics {
  readonly seen: string[] = [];
  handle(event: OrderPlacedV2): void {
    this.seen.push(event.orderId);
    console.log(`[analytics v2] ${event.orderId} via ${event.channel}`);
  }
}

// ---------------------------------------------------------------- wiring

const registry = new SchemaRegistryClient({
  url: REGISTRY_URL,
  ...(USERNAME ? { auth: { username: USERNAME, password: PASSWORD } } : {}),
});

function app(name: string): Gomes {
  const gomes = createGomes({ name, shutdownTimeoutMs: 5000 });
  gomes.addChannelConnection(new KafkaConnection('kafka', BROKERS, { driver: DRIVER }));
  return gomes;
}

async function ordersService(version: 'v1' | 'v2'): Promise<Gomes> {
  const event = version === 'v1' ? OrderPlacedV1 : OrderPlacedV2;
  const service = app(`orders-${version}`);
  service.addPublisherChannel(
    new KafkaPublisherChannelBuilder('kafka', TOPIC)
      .withTopic({ partitions: 1 })
      .withSerializer(new AvroSerializer(registry, { actions: [event], preset: 'development' })),
  );
  await service.start(); // registers the schema (development preset)
  return service;
}

async function consumer(
  name: string,
  handler: Billing | Analytics,
  event: typeof OrderPlacedV1 | typeof OrderPlacedV2,
): Promise<Gomes> {
  const service = app(name);
  service
    .addConsumerChannel(
      new KafkaConsumerChannelBuilder('kafka', TOPIC, name)
        .withGroupId(`${name}-${TOPIC}`)
        .withSerializer(new AvroSerializer(registry, { actions: [event] })),
    )
    .addActionHandler(handler);
  await service.start(); // checks the reader schema against the latest registered version
  await service.eventDrivenConsumer(name).run();
  return service;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const subject = `${TOPIC}-value`;
  console.log(
    `Kafka at ${BROKERS.join(',')} (driver ${DRIVER}), schema registry at ${REGISTRY_URL}, topic ${TOPIC}`,
  );
  // What a platform team sets once per subject: both directions of evolution must stay possible.
  await registry.setCompatibility('FULL', subject);

  console.log('\n1. orders service v1 registers its schema at start and publishes');
  const v1 = await ordersService('v1');
  const v1Bus = v1.eventBusByChannel(TOPIC);
  await v1Bus.publish(
    Object.assign(new OrderPlacedV1(), { orderId: 'o-1', customerId: 'alice', totalCents: 1999 }),
  );
  await v1Bus.publish(
    Object.assign(new OrderPlacedV1(), { orderId: 'o-2', customerId: 'bob', totalCents: 4500 }),
  );
  await v1.shutdown();
  console.log(`   ${subject} version ${(await registry.latest(subject))?.version}`);

  console.log('\n2. orders service v2 adds "channel" (default "web") and publishes');
  const v2 = await ordersService('v2');
  const v2Bus = v2.eventBusByChannel(TOPIC);
  await v2Bus.publish(
    Object.assign(new OrderPlacedV2(), {
      orderId: 'o-3',
      customerId: 'carol',
      totalCents: 1250,
      channel: 'mobile',
    }),
  );
  await v2Bus.publish(
    Object.assign(new OrderPlacedV2(), {
      orderId: 'o-4',
      customerId: 'dave',
      totalCents: 300,
      channel: 'store',
    }),
  );
  await v2.shutdown();
  console.log(`   ${subject} version ${(await registry.latest(subject))?.version}`);

  console.log('\n3. billing (reads as v1) and analytics (reads as v2) consume all four');
  const billing = new Billing();
  const analytics = new Analytics();
  const readers = [
    await consumer('billing', billing, OrderPlacedV1),
    await consumer('analytics', analytics, OrderPlacedV2),
  ];
  await until(() => billing.seen.length === 4 && analytics.seen.length === 4, 'both consumers');
  for (const reader of readers) await reader.shutdown();

  console.log('\n4. a v3 that turns totalCents into a string is refused by start()');
  const v3 = app('orders-v3');
  v3.addPublisherChannel(
    new KafkaPublisherChannelBuilder('kafka', TOPIC).withSerializer(
      new AvroSerializer(registry, { actions: [OrderPlacedV3], preset: 'development' }),
    ),
  );
  try {
    await v3.start();
    console.log('   unexpected: v3 started');
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    for (const problem of error.problems) console.log(`   refused: ${problem}`);
  }
  await registry.close();
  console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(isGomesError(error) ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});

/** The application's driver setting (unset: kafkajs); an unknown name stops the example. */
function kafkaDriver(value: string | undefined): KafkaDriverName {
  const name = value?.trim() || 'kafkajs';
  if (name !== 'kafkajs' && name !== 'platformatic')
    throw new Error(`GOMES_KAFKA_DRIVER=${name}: expected kafkajs or platformatic`);
  return name;
}
