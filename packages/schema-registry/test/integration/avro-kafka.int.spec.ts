// End to end against a real Apicurio Registry (Confluent API) and the real Kafka broker: register +
// produce + consume; schema evolution both ways (v1 -> v2 with a defaulted field, v2 -> v1); start()
// rejecting incompatible and unregistered schemas in one ConfigurationError; an unknown schema id and a
// non-Avro value dead-lettered as undecodable; a registry outage at read time retried, not dead-lettered.
import 'reflect-metadata';
import net from 'node:net';
import { ConfigurationError, Event, defineEventHandler, isGomesError, type Gomes } from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import {
  AvroSchema,
  AvroSerializer,
  SchemaRegistryClient,
  confluentSchemaId,
  type AvroSerializerInput,
} from '@gomes/schema-registry';
import { uniqueTopic } from '../../../kafka/test/support/kafka-test-env.js';
import { closeAll, createTopic, readRaw, track, waitFor } from '../../../kafka/test/support/kafka-harness.js';
import { consumerBuilder, kafkaGomes } from '../../../kafka/test/support/gomes-kafka.js';
import { rawDriver } from '../../../kafka/test/support/kafka-harness.js';
import { registryClient, registryTestEnv, type RegistryTestEnv } from '../support/registry-test-env.js';

let env: RegistryTestEnv;
let registry: SchemaRegistryClient;
beforeAll(() => {
  env = registryTestEnv();
  registry = registryClient(env);
}, 300_000);
afterAll(async () => registry?.close());
afterEach(closeAll);

const NAMESPACE = 'com.acme.shipping';
interface RecordSchema {
  type: 'record';
  name: string;
  namespace: string;
  fields: { name: string; type: string; default?: string }[];
}
const V1: RecordSchema = {
  type: 'record',
  name: 'ParcelShipped',
  namespace: NAMESPACE,
  fields: [
    { name: 'parcelId', type: 'string' },
    { name: 'weightGrams', type: 'int' },
  ],
};
const V2: RecordSchema = {
  ...V1,
  fields: [...V1.fields, { name: 'carrier', type: 'string', default: 'postal' }],
};
/** Breaks BACKWARD: weightGrams changes type and a field without default is added. */
const V3_BROKEN: RecordSchema = {
  ...V1,
  fields: [
    { name: 'parcelId', type: 'string' },
    { name: 'weightGrams', type: 'string' },
    { name: 'signedBy', type: 'string' },
  ],
};

@Event('parcelShipped')
@AvroSchema(V1)
class ParcelShippedV1 {
  parcelId!: string;
  weightGrams!: number;
}

@Event('parcelShipped')
@AvroSchema(V2)
class ParcelShippedV2 {
  parcelId!: string;
  weightGrams!: number;
  carrier!: string;
}

@Event('parcelShipped')
@AvroSchema(V3_BROKEN)
class ParcelShippedBroken {
  parcelId!: string;
  weightGrams!: string;
  signedBy!: string;
}

const parcel = <T extends object>(cls: new () => T, fields: Partial<T>): T =>
  Object.assign(new cls(), fields);

async function publisherApp(name: string, topic: string, serializer: AvroSerializer): Promise<Gomes> {
  const app = kafkaGomes(name);
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic).withSerializer(serializer));
  await app.start();
  return app;
}

/** A started consumer app recording the events it handles. */
async function consumerApp<T extends object>(
  name: string,
  topic: string,
  cls: new () => T,
  serializer: AvroSerializer,
  opts: { deadLetter?: boolean; errors?: Error[] } = {},
): Promise<{ app: Gomes; got: T[] }> {
  const got: T[] = [];
  const app = kafkaGomes(name);
  let builder = consumerBuilder(topic, name)
    .withGroupId(uniqueTopic(`g-${name}`))
    .withSerializer(serializer);
  if (opts.deadLetter) builder = builder.withDeadLetterTopic(`${topic}.DLQ`);
  app.addConsumerChannel(builder).addActionHandler(
    defineEventHandler(cls, (event) => {
      got.push(event);
    }),
  );
  if (opts.errors) app.onUnhandledError((e) => opts.errors!.push(e));
  await app.start();
  await app.eventDrivenConsumer(name).run();
  return { app, got };
}

const avro = (input: AvroSerializerInput, client = registry): AvroSerializer =>
  new AvroSerializer(client, input);

describe('Avro over Kafka with a real schema registry', () => {
  it('registers the schema at start (development preset), writes the Confluent wire format and consumes it back into the action class', async () => {
    const topic = await createTopic(uniqueTopic('avro-roundtrip'));
    const serializer = avro({ actions: [ParcelShippedV1], preset: 'development' });
    const producer = await publisherApp('avro-producer', topic, serializer);
    const id = (await registry.lookup(`${topic}-value`, JSON.stringify(V1)))?.id;
    expect(id).toEqual(expect.any(Number)); // registered by start(), before anything was sent

    const events = producer.eventBusByChannel(topic);
    await events.publish(parcel(ParcelShippedV1, { parcelId: 'p-1', weightGrams: 1200 }));
    await events.publish(parcel(ParcelShippedV1, { parcelId: 'p-2', weightGrams: 80 }));

    // A payload that does not fit the schema fails the publish, naming the field (never its value).
    const invalid = await events
      .publish(parcel(ParcelShippedV1, { parcelId: 'p-3', weightGrams: 'heavy' as unknown as number }))
      .catch((e: unknown) => e);
    expect((invalid as Error).message).toContain(
      'the payload of action "parcelShipped" does not match its Avro schema: weightGrams: expected "int", got a string',
    );
    expect((invalid as Error).message).not.toContain('heavy');

    const [raw] = await readRaw(topic, 2);
    expect(raw!.value![0]).toBe(0); // magic byte
    expect(confluentSchemaId(raw!.value!)).toBe(id);
    expect(raw!.headers['contentType']).toBe('application/vnd.confluent.avro');
    expect(raw!.value!.length).toBeLessThan(20); // Avro binary, not JSON

    const { got } = await consumerApp(
      'avro-consumer',
      topic,
      ParcelShippedV1,
      avro({ actions: [ParcelShippedV1] }),
    );
    await waitFor(() => got.length === 2, 30_000);
    expect(got.map((e) => ({ ...e }))).toEqual([
      { parcelId: 'p-1', weightGrams: 1200 },
      { parcelId: 'p-2', weightGrams: 80 },
    ]);
    expect(got[0]).toBeInstanceOf(ParcelShippedV1);
  });

  it('evolves both ways: a v2 consumer reads v1 records with the default, a v1 consumer reads v2 records', async () => {
    const topic = await createTopic(uniqueTopic('avro-evolution'));
    await registry.setCompatibility('FULL', `${topic}-value`);
    const v1 = await publisherApp(
      'v1-producer',
      topic,
      avro({ actions: [ParcelShippedV1], preset: 'development' }),
    );
    await v1.eventBusByChannel(topic).publish(parcel(ParcelShippedV1, { parcelId: 'old', weightGrams: 1 }));
    const v2 = await publisherApp(
      'v2-producer',
      topic,
      avro({ actions: [ParcelShippedV2], preset: 'development' }),
    );
    await v2
      .eventBusByChannel(topic)
      .publish(parcel(ParcelShippedV2, { parcelId: 'new', weightGrams: 2, carrier: 'drone' }));
    const ids = (await readRaw(topic, 2)).map((r) => confluentSchemaId(r.value!));
    expect(ids[0]).not.toBe(ids[1]); // two versions on one topic

    const readers = [
      await consumerApp('v2-reader', topic, ParcelShippedV2, avro({ actions: [ParcelShippedV2] })),
      await consumerApp('v1-reader', topic, ParcelShippedV1, avro({ actions: [ParcelShippedV1] })),
    ];
    await waitFor(() => readers.every((r) => r.got.length === 2), 30_000);
    expect(readers[0]!.got.map((e) => ({ ...e }))).toEqual([
      { parcelId: 'old', weightGrams: 1, carrier: 'postal' }, // v1 record, v2 default applied
      { parcelId: 'new', weightGrams: 2, carrier: 'drone' },
    ]);
    expect(readers[1]!.got.map((e) => ({ ...e }))).toEqual([
      { parcelId: 'old', weightGrams: 1 },
      { parcelId: 'new', weightGrams: 2 }, // v2 record, new field skipped
    ]);
  });

  it('start() fails with one ConfigurationError naming each incompatible or unregistered schema and why, before connecting', async () => {
    const topic = await createTopic(uniqueTopic('avro-incompatible'));
    const subject = `${topic}-value`;
    await registry.setCompatibility('BACKWARD', subject);
    await registry.register(subject, JSON.stringify(V1));
    const other = uniqueTopic('avro-unregistered');

    const app = kafkaGomes('avro-bad-start');
    app
      .addPublisherChannel(
        new KafkaPublisherChannelBuilder('kafka', topic).withSerializer(
          avro({ actions: [ParcelShippedBroken], preset: 'development' }),
        ),
      )
      .addPublisherChannel(
        new KafkaPublisherChannelBuilder('kafka', other).withSerializer(avro({ actions: [ParcelShippedV1] })),
      )
      .addConsumerChannel(
        consumerBuilder(topic, 'broken-reader').withSerializer(avro({ actions: [ParcelShippedBroken] })),
      )
      .addActionHandler(defineEventHandler(ParcelShippedBroken, () => undefined));

    const error = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      new RegExp(
        `^publisher "${topic}": schema ${NAMESPACE}.ParcelShipped of action "parcelShipped" is incompatible with subject "${subject}": compatibility BACKWARD, latest version 1 \\(id \\d+\\): it cannot read data written with the latest version \\(cannot read "int" as "string"\\)$`,
      ),
    );
    expect(problems[1]).toBe(
      `publisher "${other}": schema ${NAMESPACE}.ParcelShipped of action "parcelShipped" is not registered under subject "${other}-value"; register it before deploying, or use the development preset, which registers at start`,
    );
    expect(problems[2]).toMatch(
      new RegExp(
        `^consumer "broken-reader": schema ${NAMESPACE}.ParcelShipped of action "parcelShipped" cannot read the latest version \\(1, id \\d+\\) of subject "${subject}": cannot read "int" as "string"$`,
      ),
    );
    expect(app.state).toBe('failed');
    expect(app.health().connections.map((c) => c.state)).toEqual(['disconnected']);
    // Nothing was registered for the incompatible schema, and the registry itself refuses it.
    expect(await registry.lookup(subject, JSON.stringify(V3_BROKEN))).toBeUndefined();
    await expect(registry.register(subject, JSON.stringify(V3_BROKEN))).rejects.toMatchObject({
      code: 'GOMES_SCHEMA_INCOMPATIBLE',
      retriable: false,
    });

    // Production preset, a class not listed in `actions`: its unregistered schema fails the send.
    const lenient = await publisherApp('avro-first-use', other, avro({}));
    const sendError = await lenient
      .eventBusByChannel(other)
      .publish(parcel(ParcelShippedV1, { parcelId: 'p', weightGrams: 1 }))
      .catch((e: unknown) => e);
    expect(isGomesError(sendError) && [sendError.code, sendError.retriable]).toEqual([
      'GOMES_SCHEMA_NOT_FOUND',
      false,
    ]);
    expect((sendError as Error).message).toContain(`is not registered under subject "${other}-value"`);
  });

  it('dead-letters a record with an unknown schema id, and one that is not Avro, as undecodable (not retried), and goes on', async () => {
    const topic = await createTopic(uniqueTopic('avro-unknown-id'));
    const serializer = avro({ actions: [ParcelShippedV1], preset: 'development' });
    const producer = await publisherApp('avro-dl-producer', topic, serializer);
    const raw = track(
      rawDriver().createProducer({
        idempotent: false,
        maxAttempts: 3,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        produceTimeoutMs: 10_000,
      }),
    );
    await raw.connect();
    const unknownId = 2_000_000_000;
    const headers = { route: 'parcelShipped', messageType: 'Event' };
    await raw.send({
      topic,
      acks: -1,
      compression: 'none',
      timeoutMs: 10_000,
      records: [
        { key: null, value: Buffer.from([0, 0x77, 0x35, 0x94, 0x00, 2, 0x61, 0x02]), headers },
        { key: null, value: Buffer.from('{"parcelId":"json"}'), headers },
      ],
    });
    await producer
      .eventBusByChannel(topic)
      .publish(parcel(ParcelShippedV1, { parcelId: 'ok', weightGrams: 5 }));

    const errors: Error[] = [];
    const { app, got } = await consumerApp(
      'avro-dl-consumer',
      topic,
      ParcelShippedV1,
      avro({ actions: [ParcelShippedV1] }),
      {
        deadLetter: true,
        errors,
      },
    );
    await waitFor(() => got.length === 1, 30_000);
    expect(got[0]!.parcelId).toBe('ok');
    // The dead-letter publishes run without the processor, so the good record may be handled first:
    // the dead-letter topic may not exist yet.
    let dead: Awaited<ReturnType<typeof readRaw>> = [];
    await waitFor(
      async () => {
        dead = await readRaw(`${topic}.DLQ`, 2, 10_000);
        return dead.length === 2;
      },
      30_000,
      { description: 'both undecodable records are dead-lettered' },
    );
    expect(dead.map((d) => d.headers['gomes.dlq.errorCode'])).toEqual([
      'GOMES_TRANSLATION_FAILED',
      'GOMES_TRANSLATION_FAILED',
    ]);
    expect(dead[0]!.headers['gomes.dlq.reason']).toBe(
      `Cannot decode record ${topic}/0@0: Schema id ${unknownId} is not in the registry (${registry.url})`,
    );
    expect(dead[1]!.headers['gomes.dlq.reason']).toMatch(/does not start with the Confluent magic byte 0/);
    expect(dead[0]!.value).toEqual(Buffer.from([0, 0x77, 0x35, 0x94, 0x00, 2, 0x61, 0x02])); // the original bytes
    expect(errors).toEqual([]);
    await app.shutdown();
  });

  it('retries while the registry is unreachable at read time (nothing dead-lettered or lost), then decodes', async () => {
    const topic = await createTopic(uniqueTopic('avro-outage'));
    const producer = await publisherApp(
      'avro-outage-producer',
      topic,
      avro({ actions: [ParcelShippedV1], preset: 'development' }),
    );
    await producer
      .eventBusByChannel(topic)
      .publish(parcel(ParcelShippedV1, { parcelId: 'late', weightGrams: 7 }));

    // The consumer reaches the registry through a TCP forwarder that is closed at first (an outage).
    const target = new URL(env.url);
    const forwarder = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      const end = (): void => void (client.destroy(), upstream.destroy());
      client.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
    const port = (forwarder.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    const outageClient = new SchemaRegistryClient({
      url: `http://127.0.0.1:${port}${target.pathname}`,
      auth: { username: env.username, password: env.password },
      requestTimeoutMs: 2000,
    });

    const errors: Error[] = [];
    const { app, got } = await consumerApp(
      'avro-outage-consumer',
      topic,
      ParcelShippedV1,
      avro({ actions: [ParcelShippedV1], checkAtStart: false }, outageClient),
      { deadLetter: true, errors },
    );
    await waitFor(() => errors.length >= 2, 30_000, {
      description: 'two retriable registry failures reported',
    });
    expect(got).toHaveLength(0);
    expect(
      errors.every((e) => isGomesError(e) && e.code === 'GOMES_SCHEMA_REGISTRY_FAILED' && e.retriable),
    ).toBe(true);
    expect(errors[0]!.message).toMatch(
      new RegExp(`Record ${topic}/0@0 cannot be decoded yet \\(attempt 1\\).*ECONNREFUSED`),
    );

    forwarder.listen(port, '127.0.0.1'); // the registry is back
    track({ close: async () => new Promise<void>((resolve) => forwarder.close(() => resolve())) });
    await waitFor(() => got.length === 1, 30_000);
    expect({ ...got[0] }).toEqual({ parcelId: 'late', weightGrams: 7 });
    await app.shutdown();
    await expect(readRaw(`${topic}.DLQ`, 1, 1000)).rejects.toThrow(); // nothing was dead-lettered
    await outageClient.close();
  });
});
