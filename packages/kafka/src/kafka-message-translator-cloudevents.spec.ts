// The CloudEvents envelope at the translator, checked against the `cloudevents` SDK's own Kafka
// binding (a test-only devDependency): records gomes writes (binary and structured) are read by the
// SDK into the event they mean, and records the SDK writes are read by gomes into messages that
// route. The same both ways on the real broker: test/integration/cloudevents-interop.int.spec.ts.
import { CloudEvent, Kafka, type CloudEventV1, type KafkaMessage } from 'cloudevents';
import { MessageBuilder, MessageHeaders, SUBJECT_HEADER, type Message } from '@gomes/core';
import {
  KafkaMessageTranslator,
  type KafkaInboundRecord,
  type KafkaOutboundRecord,
} from './kafka-message-translator.js';
import { KafkaPublisherChannelBuilder } from './kafka-publisher-channel-builder.js';
import { JsonMessageSerializer, type MessageSerializer } from './message-serializer.js';

const binary = new KafkaMessageTranslator(undefined, { envelope: { format: 'cloudevents', mode: 'binary' } });
const structured = new KafkaMessageTranslator(undefined, {
  envelope: { format: 'cloudevents', mode: 'structured' },
});
const plain = new KafkaMessageTranslator();

function orderPlaced(): Message {
  return MessageBuilder.withPayload({ orderId: 'o-1', total: 12.5 })
    .messageType('Event')
    .route('orders.orderPlaced')
    .origin('/orders-service')
    .subject('o-1')
    .correlationId('conv-1')
    .causationId('cmd-1')
    .timestamp(new Date('2026-03-01T08:00:00.125Z'))
    .header('tenant', 'acme')
    .header('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
    .build();
}

/** The record as a consumer gets it back from the broker. */
function inbound(record: KafkaOutboundRecord | SdkRecord, offset = '3'): KafkaInboundRecord {
  const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  const toBuffer = (v: unknown): Buffer | null =>
    v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(text(v));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(record.headers)) if (v !== undefined) headers[k] = text(v);
  return {
    topic: 'orders',
    partition: 0,
    offset,
    key: toBuffer(record.key),
    value: toBuffer(record.value),
    headers,
    timestamp: '1772352000000',
  };
}

interface SdkRecord {
  key: unknown;
  value: unknown;
  headers: Record<string, unknown>;
}

/** What the SDK's Kafka binding reads from a record gomes wrote. */
function sdkRead(record: KafkaOutboundRecord): CloudEventV1<unknown> {
  // The bytes the broker hands a consumer (a string value is written as UTF-8).
  const value = typeof record.value === 'string' ? Buffer.from(record.value, 'utf8') : record.value;
  const message: KafkaMessage<Buffer | null> = {
    key: record.key ?? '',
    value,
    headers: { ...record.headers },
    body: value,
  };
  const event = Kafka.toEvent(message);
  if (Array.isArray(event)) throw new Error('a batch');
  return event;
}

describe('gomes writes CloudEvents the SDK reads', () => {
  it.each([
    ['binary', binary],
    ['structured', structured],
  ] as const)('%s mode: every mapped attribute, the extensions and the data', (_mode, translator) => {
    const message = orderPlaced();
    const record = translator.toRecord(message);
    expect(record.key).toBe('conv-1'); // partition key unchanged
    const event = sdkRead(record);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: message.messageId,
      type: 'orders.orderPlaced',
      source: '/orders-service',
      subject: 'o-1',
      time: '2026-03-01T08:00:00.125Z',
      datacontenttype: 'application/json',
      correlationid: 'conv-1',
      causationid: 'cmd-1',
      data: { orderId: 'o-1', total: 12.5 },
    });
    // The SDK validates what it reads (required attributes, extension names) when asked to.
    expect(new CloudEvent({ ...event }, true).validate()).toBe(true);
  });

  it('binary mode keeps every gomes header next to the ce_* ones (Go-compatible) and the value as is', () => {
    const message = orderPlaced();
    const record = binary.toRecord(message);
    const gomesOnly = plain.toRecord(message);
    expect(record.value).toEqual(gomesOnly.value);
    expect(record.headers).toEqual({
      ...gomesOnly.headers,
      ce_specversion: '1.0',
      ce_id: message.messageId,
      ce_source: '/orders-service',
      ce_type: 'orders.orderPlaced',
      ce_time: '2026-03-01T08:00:00.125Z',
      ce_subject: 'o-1',
      ce_correlationid: 'conv-1',
      ce_causationid: 'cmd-1',
      'content-type': 'application/json',
    });
  });

  it('structured mode: the value is the event; content-type names the format; gomes headers stay', () => {
    const message = orderPlaced();
    const record = structured.toRecord(message);
    expect(record.headers['content-type']).toBe('application/cloudevents+json; charset=UTF-8');
    expect(record.headers['contentType']).toBeUndefined();
    expect(record.headers[MessageHeaders.MESSAGE_ID]).toBe(message.messageId);
    expect(JSON.parse(record.value!.toString('utf8'))).toEqual({
      specversion: '1.0',
      id: message.messageId,
      source: '/orders-service',
      type: 'orders.orderPlaced',
      time: '2026-03-01T08:00:00.125Z',
      subject: 'o-1',
      correlationid: 'conv-1',
      causationid: 'cmd-1',
      datacontenttype: 'application/json',
      data: { orderId: 'o-1', total: 12.5 },
    });
  });

  it('structured mode with a non-JSON serializer carries the bytes as data_base64, and reads them back', () => {
    const text: MessageSerializer = {
      contentType: 'text/plain',
      serialize: (m) => Buffer.from(String(m.payload)),
      deserialize: (v) => v?.toString('utf8') ?? null,
    };
    const translator = new KafkaMessageTranslator(text, {
      envelope: { format: 'cloudevents', mode: 'structured' },
    });
    const message = MessageBuilder.withPayload('héllo').route('greet').build();
    const record = translator.toRecord(message);
    const event = sdkRead(record);
    expect([event.datacontenttype, event.data_base64]).toEqual([
      'text/plain',
      Buffer.from('héllo').toString('base64'),
    ]);
    const back = translator.fromRecord(inbound(record));
    expect([back.payload, back.messageId, back.route]).toEqual(['héllo', message.messageId, 'greet']);
  });

  it("composes with withWireFormat('go-gomes'): Go's timestamp header, an RFC 3339 ce_time", () => {
    const builder = new KafkaPublisherChannelBuilder('kafka', 'orders')
      .withWireFormat('go-gomes', { timeZone: 'UTC' })
      .withEnvelope('cloudevents');
    const message = orderPlaced();
    const record = builder.options.translator.toRecord(message);
    expect([record.headers['timestamp'], record.headers['ce_time']]).toEqual([
      '2026-03-01 08:00:00',
      '2026-03-01T08:00:00.125Z',
    ]);
    expect(record.headers['Traceparent']).toBeDefined();
    // Both orders of the builder calls give the same translator.
    const other = new KafkaPublisherChannelBuilder('kafka', 'orders')
      .withEnvelope('cloudevents')
      .withWireFormat('go-gomes', { timeZone: 'UTC' });
    expect(other.options.translator.toRecord(message).headers).toEqual(record.headers);
  });
});

describe('gomes reads CloudEvents the SDK writes', () => {
  function sdkEvent(extra: Record<string, unknown> = {}): CloudEvent<{ orderId: string }> {
    return new CloudEvent({
      id: 'evt-1',
      source: 'urn:acme:shop',
      type: 'orders.orderPlaced',
      subject: 'o-7',
      time: '2026-03-01T08:00:00.5+01:00',
      datacontenttype: 'application/json',
      correlationid: 'conv-7',
      causationid: 'cause-7',
      tenant: 'acme',
      data: { orderId: 'o-7' },
      ...extra,
    });
  }

  it.each([
    ['binary', (e: CloudEvent<{ orderId: string }>) => Kafka.binary(e)],
    ['structured', (e: CloudEvent<{ orderId: string }>) => Kafka.structured(e)],
  ] as const)('%s mode: id, type, source, time, subject, the ids, data and extensions', (mode, write) => {
    const sdk = write(sdkEvent());
    // The SDK's binary message carries the data as the object: the producer serialises it.
    const value = mode === 'binary' ? JSON.stringify(sdk.value) : sdk.value;
    const m = plain.fromRecord(inbound({ key: sdk.key, value, headers: sdk.headers }));
    expect(m.payload).toEqual({ orderId: 'o-7' });
    expect([m.messageId, m.route, m.origin, m.subject, m.correlationId, m.causationId]).toEqual([
      'evt-1',
      'orders.orderPlaced',
      'urn:acme:shop',
      'o-7',
      'conv-7',
      'cause-7',
    ]);
    expect(m.timestamp?.toISOString()).toBe('2026-03-01T07:00:00.500Z');
    expect([m.messageType, m.channelName]).toEqual(['Event', 'orders']);
    expect(m.header('ce_tenant')).toBe('acme'); // an unmapped extension stays, as a ce_ header
    for (const gone of ['content-type', 'ce_id', 'ce_type', 'ce_specversion', 'ce_time'])
      expect(m.header(gone)).toBeUndefined();
  });

  it("structured JSON data goes through a custom serializer's own decoding", () => {
    class Reviving extends JsonMessageSerializer {
      override deserialize(value: Buffer | null): unknown {
        return { ...(super.deserialize(value) as object), revived: true };
      }
    }
    const sdk = Kafka.structured(sdkEvent());
    const m = new KafkaMessageTranslator(new Reviving()).fromRecord(
      inbound({ key: sdk.key, value: sdk.value, headers: sdk.headers }),
    );
    expect(m.payload).toEqual({ orderId: 'o-7', revived: true });
  });

  it('the messageId is the event id on every read (redeliveries share it), not the record position', () => {
    const sdk = Kafka.binary(sdkEvent());
    const record = { key: sdk.key, value: JSON.stringify(sdk.value), headers: sdk.headers };
    expect(plain.fromRecord(inbound(record, '3')).messageId).toBe('evt-1');
    expect(plain.fromRecord(inbound(record, '9')).messageId).toBe('evt-1');
  });

  it('a record gomes wrote is read by its gomes headers: the same message in both modes', () => {
    const message = orderPlaced();
    for (const translator of [binary, structured]) {
      const back = plain.fromRecord(inbound(translator.toRecord(message)));
      expect(back.payload).toEqual(message.payload);
      expect(back.headers).toEqual({ ...message.headers, channelName: 'orders' });
      expect(back.subject).toBe('o-1');
      expect(back.header(SUBJECT_HEADER)).toBe('o-1');
    }
  });

  it('rejects what is not a valid CloudEvent with GOMES_TRANSLATION_FAILED (the consumer dead-letters it)', () => {
    const base = { key: null, value: '{}' };
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ ce_specversion: '1.0', ce_id: 'x', ce_source: 's' }, '{}', 'required attribute "type" is missing'],
      [
        { ce_specversion: '0.3', ce_id: 'x', ce_source: 's', ce_type: 't' },
        '{}',
        'specversion "0.3" is not 1.x',
      ],
      [{ 'content-type': 'application/cloudevents+json' }, 'not json', 'the value is not JSON'],
      [{ 'content-type': 'application/cloudevents+json' }, '[1]', 'the value is not a JSON object'],
      [
        { 'content-type': 'application/cloudevents-batch+json' },
        '[]',
        'Batched CloudEvents (application/cloudevents-batch+json) are not supported',
      ],
    ];
    for (const [headers, value, reason] of cases) {
      let error: unknown;
      try {
        plain.fromRecord(inbound({ ...base, value, headers }));
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'GOMES_TRANSLATION_FAILED', retriable: false });
      expect((error as Error).message).toContain(reason);
      expect((error as Error).message).toContain('orders/0@3');
    }
  });
});

describe('withEnvelope configuration', () => {
  it('lists invalid envelopes and structured records for Go gomes as problems', () => {
    const problems = (b: KafkaPublisherChannelBuilder): string[] =>
      b.validate().map((p) => p.replace('publisher "orders": ', ''));
    const base = new KafkaPublisherChannelBuilder('kafka', 'orders');
    expect(problems(base.withEnvelope('cloudevents', { mode: 'binary' }))).toEqual([]);
    expect(problems(base.withEnvelope('cloudevents', { mode: 'batch' as 'binary' }))).toEqual([
      'CloudEvents mode "batch" is not one of binary, structured',
    ]);
    expect(problems(base.withEnvelope('avro' as 'gomes'))).toEqual([
      'envelope "avro" is not one of gomes, cloudevents',
    ]);
    expect(
      problems(base.withEnvelope('cloudevents', { mode: 'structured' }).withWireFormat('go-gomes')),
    ).toEqual([
      "structured CloudEvents records cannot be read by Go gomes (the value is the event, not the payload): use withEnvelope('cloudevents', { mode: 'binary' }) with withWireFormat('go-gomes')",
    ]);
    expect(base.withEnvelope('cloudevents').options.translator.envelope).toEqual({
      format: 'cloudevents',
      mode: 'binary',
    });
    expect(base.withEnvelope('cloudevents').withEnvelope('gomes').options.translator.envelope).toEqual({
      format: 'gomes',
    });
  });
});
