// Unit tests of the parts of @gomes/schema-registry that need no registry: the Confluent framing,
// subject names, option validation and the serializer's errors before any schema is loaded. The
// registry round trips are integration tests (test/integration) against a real Apicurio Registry.
import 'reflect-metadata';
import { ConfigurationError, Event, MessageBuilder } from '@gomes/core';
import { AvroSchema } from './avro-schema.js';
import { AvroSerializer } from './avro-serializer.js';
import { resolveAvroSerializerOptions } from './avro-serializer-options.js';
import { confluentSchemaId, encodeConfluentFrame } from './confluent-wire-format.js';
import { SchemaRegistryClient } from './schema-registry-client.js';
import { subjectName } from './subject-name-strategy.js';

const RECORD = {
  type: 'record' as const,
  name: 'Refunded',
  namespace: 'com.acme.pay',
  fields: [{ name: 'amount', type: 'int' }],
};

@Event('refunded')
@AvroSchema(RECORD)
class Refunded {
  amount!: number;
}

@Event('charged')
class Charged {}

@Event('broken')
@AvroSchema({ type: 'record', name: 'Broken', fields: [{ name: 'x', type: 'no-such-type' }] })
class Broken {}

class NotAnAction {}

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  return [];
};

describe('Confluent wire format', () => {
  it('frames a payload as magic byte 0, a 4-byte big-endian schema id, then the bytes, and reads the id back', () => {
    const framed = encodeConfluentFrame(0x01020304, Buffer.from([9, 8]));
    expect([...framed]).toEqual([0, 1, 2, 3, 4, 9, 8]);
    expect(confluentSchemaId(framed)).toBe(0x01020304);
  });

  it('refuses values that are too short or lack the magic byte', () => {
    expect(() => confluentSchemaId(Buffer.from([0, 1]))).toThrow(/2 bytes long, shorter than the 5-byte/);
    expect(() => confluentSchemaId(Buffer.from('{"a":1}'))).toThrow(/magic byte 0 \(got 0x7b\)/);
  });
});

describe('subject name strategies', () => {
  it('names subjects like Confluent: topic, record, topic-record, or a function', () => {
    const input = { topic: 'payments', recordName: 'com.acme.pay.Refunded' };
    expect(subjectName('topic', input)).toBe('payments-value');
    expect(subjectName('record', input)).toBe('com.acme.pay.Refunded');
    expect(subjectName('topic-record', input)).toBe('payments-com.acme.pay.Refunded');
    expect(subjectName(({ topic }) => `${topic}.v1`, input)).toBe('payments.v1');
    expect(() => subjectName('record', { topic: 'payments', recordName: undefined })).toThrow(
      /needs a record name/,
    );
  });
});

describe('options', () => {
  const registry = new SchemaRegistryClient({ url: 'http://127.0.0.1:9' });

  it('presets: production (default) does not register, development does; explicit options win', () => {
    expect(resolveAvroSerializerOptions({}).options.autoRegister).toBe(false);
    expect(resolveAvroSerializerOptions({ preset: 'development' }).options.autoRegister).toBe(true);
    expect(
      resolveAvroSerializerOptions({ preset: 'development', autoRegister: false }).options.autoRegister,
    ).toBe(false);
  });

  it('lists every problem of the serializer options in one ConfigurationError', () => {
    const problems = problemsOf(
      () =>
        new AvroSerializer(registry, {
          actions: [Refunded, Refunded, Charged, Broken, NotAnAction as never],
          subjectNameStrategy: 'record',
          autoRegiser: true,
        } as never),
    );
    expect(problems).toEqual([
      'unknown option "autoRegiser"',
      'action "refunded" is listed twice',
      'action "charged" needs a named Avro schema (@AvroSchema with a record) for the "record" subject name strategy',
      expect.stringMatching(
        /^the @AvroSchema of action "broken" \(Broken\) is not a valid Avro schema: .*no-such-type/,
      ),
      'NotAnAction is not an action class: decorate it with @Command, @Query or @Event',
    ]);
  });

  it('lists every problem of the registry options', () => {
    expect(
      problemsOf(
        () =>
          new SchemaRegistryClient({
            url: 'ftp://user:pw@registry',
            tls: { cert: 'x' },
            requestTimeoutMs: 0,
          }),
      ),
    ).toEqual([
      'url must use http or https, got ftp:',
      'url must not contain credentials: use the auth option (they would end up in logs)',
      'tls options need an https:// url',
      'tls.cert and tls.key go together (mutual TLS needs both)',
      'requestTimeoutMs must be an integer >= 1, got 0',
    ]);
  });
});

describe('AvroSerializer before any schema is loaded', () => {
  const serializer = new AvroSerializer(new SchemaRegistryClient({ url: 'http://127.0.0.1:9' }), {
    actions: [Refunded],
  });

  it('refuses to encode without a prepared writer schema, naming the action and topic', () => {
    const message = MessageBuilder.withPayload(Object.assign(new Refunded(), { amount: 1 }))
      .route('refunded')
      .build();
    expect(() => serializer.serialize(message, { topic: 'payments' })).toThrow(
      'no writer schema is loaded for action "refunded" on topic "payments" (prepareSerialize was not awaited)',
    );
    expect(serializer.serialize(MessageBuilder.withPayload(null).build(), { topic: 'payments' })).toBeNull();
  });

  it('needs no registry for tombstones and values that are not Confluent-framed (deserialize says why)', () => {
    expect(serializer.prepareDeserialize(null)).toBeUndefined();
    expect(serializer.prepareDeserialize(Buffer.from('{"amount":1}'))).toBeUndefined();
    expect(serializer.deserialize(null, {})).toBeNull();
    expect(() => serializer.deserialize(Buffer.from('{"amount":1}'), {})).toThrow(/Confluent magic byte/);
  });
});
