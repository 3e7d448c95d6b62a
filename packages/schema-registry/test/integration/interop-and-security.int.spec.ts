// Interoperability with an independent implementation of the Confluent wire format
// (@kafkajs/confluent-schema-registry) in both directions through the real broker, and the registry
// client's TLS and basic auth against the real registry.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { ConfigurationError, Event, defineEventHandler, isGomesError } from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { AvroSchema, AvroSerializer, SchemaRegistryClient } from '@gomes/schema-registry';
import { uniqueTopic } from '../../../kafka/test/support/kafka-test-env.js';
import {
  closeAll,
  createTopic,
  rawDriver,
  readRaw,
  track,
  waitFor,
} from '../../../kafka/test/support/kafka-harness.js';
import { consumerBuilder, kafkaGomes } from '../../../kafka/test/support/gomes-kafka.js';
import { registryClient, registryTestEnv, type RegistryTestEnv } from '../support/registry-test-env.js';

let env: RegistryTestEnv;
beforeAll(() => {
  env = registryTestEnv();
}, 300_000);
afterEach(closeAll);

const INVOICE = {
  type: 'record' as const,
  name: 'InvoiceIssued',
  namespace: 'com.acme.billing',
  fields: [
    { name: 'invoiceId', type: 'string' },
    { name: 'amountCents', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

@Event('invoiceIssued')
@AvroSchema(INVOICE)
class InvoiceIssued {
  invoiceId!: string;
  amountCents!: number;
  note!: string | null;
}

const confluentClient = (): SchemaRegistry =>
  new SchemaRegistry({ host: env.url, auth: { username: env.username, password: env.password } });

describe('interoperability with @kafkajs/confluent-schema-registry', () => {
  it('a record written by gomes is decoded by the independent client', async () => {
    const topic = await createTopic(uniqueTopic('interop-out'));
    const registry = track(registryClient(env));
    const app = kafkaGomes('interop-writer');
    app.addPublisherChannel(
      new KafkaPublisherChannelBuilder('kafka', topic).withSerializer(
        new AvroSerializer(registry, { actions: [InvoiceIssued], preset: 'development' }),
      ),
    );
    await app.start();
    await app.eventBusByChannel(topic).publish(
      Object.assign(new InvoiceIssued(), {
        invoiceId: 'inv-1',
        amountCents: 12_345_678_901,
        note: 'net 30',
      }),
    );
    const [record] = await readRaw(topic, 1);
    const decoded = (await confluentClient().decode(record!.value!)) as Record<string, unknown>;
    expect({ ...decoded }).toEqual({ invoiceId: 'inv-1', amountCents: 12_345_678_901, note: 'net 30' });
  });

  it('a record written by the independent client is consumed by gomes', async () => {
    const topic = await createTopic(uniqueTopic('interop-in'));
    const confluent = confluentClient();
    const { id } = await confluent.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(INVOICE) },
      { subject: `${topic}-value` },
    );
    const value = await confluent.encode(id, { invoiceId: 'inv-2', amountCents: 99, note: null });
    const producer = track(
      rawDriver().createProducer({
        idempotent: false,
        maxAttempts: 3,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        produceTimeoutMs: 10_000,
      }),
    );
    await producer.connect();
    // A non-gomes producer names the action with the `route` header.
    await producer.send({
      topic,
      acks: -1,
      compression: 'none',
      timeoutMs: 10_000,
      records: [{ key: 'inv-2', value, headers: { route: 'invoiceIssued' } }],
    });

    const got: InvoiceIssued[] = [];
    const app = kafkaGomes('interop-reader');
    app
      .addConsumerChannel(
        consumerBuilder(topic, 'interop-reader').withSerializer(
          new AvroSerializer(track(registryClient(env)), { actions: [InvoiceIssued] }),
        ),
      )
      .addActionHandler(defineEventHandler(InvoiceIssued, (e) => void got.push(e)));
    await app.start();
    await app.eventDrivenConsumer('interop-reader').run();
    await waitFor(() => got.length === 1, 30_000);
    expect({ ...got[0] }).toEqual({ invoiceId: 'inv-2', amountCents: 99, note: null });
  });
});

describe('registry client security', () => {
  it('talks TLS with a private CA and basic auth', async () => {
    const client = track(
      new SchemaRegistryClient({
        url: env.tlsUrl,
        tls: { ca: readFileSync(env.ca) },
        auth: { username: env.username, password: env.password },
      }),
    );
    const subject = `${uniqueTopic('tls')}-value`;
    const id = await client.register(subject, JSON.stringify(INVOICE));
    expect((await client.schemaById(id)).schema).toContain('InvoiceIssued');
    expect((await client.latest(subject))?.id).toBe(id);
  });

  it('rejects an untrusted certificate and wrong credentials with non-retriable errors', async () => {
    const untrusted = track(
      new SchemaRegistryClient({ url: env.tlsUrl, auth: { username: env.username, password: env.password } }),
    );
    const tlsError = await untrusted.schemaById(1).catch((e: unknown) => e);
    expect(isGomesError(tlsError) && [tlsError.code, tlsError.retriable]).toEqual([
      'GOMES_SCHEMA_REGISTRY_FAILED',
      false,
    ]);
    expect((tlsError as Error).message).toMatch(/certificate/i);

    const topic = uniqueTopic('bad-credentials');
    const wrong = track(
      new SchemaRegistryClient({ url: env.url, auth: { username: env.username, password: 'wrong' } }),
    );
    const authError = await wrong.latest(`${topic}-value`).catch((e: unknown) => e);
    expect(isGomesError(authError) && [authError.code, authError.retriable]).toEqual([
      'GOMES_SCHEMA_REGISTRY_FAILED',
      false,
    ]);

    const app = kafkaGomes('bad-credentials');
    app.addPublisherChannel(
      new KafkaPublisherChannelBuilder('kafka', topic).withSerializer(
        new AvroSerializer(wrong, { actions: [InvoiceIssued] }),
      ),
    );
    const error = await app.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^publisher "${topic}": schema com.acme.billing.InvoiceIssued of action "invoiceIssued" on subject "${topic}-value": Schema registry http://127.0.0.1:\\d+ answered POST .* with HTTP 401: Unauthorized \\(check the registry credentials\\)$`,
        ),
      ),
    ]);
  });
});
