import { MessageBuilder, PARTITION_KEY_HEADER, isGomesError } from '@gomes/core';
import { KafkaHeaders } from './kafka-headers.js';
import { KafkaMessageTranslator, type KafkaInboundRecord } from './kafka-message-translator.js';

const translator = new KafkaMessageTranslator();

function inbound(record: Partial<KafkaInboundRecord>): KafkaInboundRecord {
  return {
    topic: 'orders',
    partition: 2,
    offset: '41',
    key: null,
    value: null,
    headers: {},
    timestamp: '1700000000000',
    ...record,
  };
}

describe('KafkaMessageTranslator', () => {
  it('writes every header as a string, the payload as JSON and the correlationId as key', () => {
    const m = MessageBuilder.withPayload({ a: 1 })
      .correlationId('corr')
      .route('r')
      .header('tenant', 'acme')
      .build();
    const r = translator.toRecord(m);
    expect(r.key).toBe('corr');
    expect(JSON.parse(r.value!.toString())).toEqual({ a: 1 });
    expect(r.headers).toMatchObject({ ...m.headers, [KafkaHeaders.CONTENT_TYPE]: 'application/json' });
  });

  it('prefers the partition-key header for the key', () => {
    const m = MessageBuilder.withPayload(1)
      .correlationId('corr')
      .header(PARTITION_KEY_HEADER, 'customer-1')
      .build();
    expect(translator.toRecord(m).key).toBe('customer-1');
  });

  it('writes trace headers lowercase and reads Go gomes canonical case', () => {
    const m = MessageBuilder.withPayload(1).header('Traceparent', 'tp').header('Tracestate', 'ts').build();
    const r = translator.toRecord(m);
    expect(r.headers['traceparent']).toBe('tp');
    expect(r.headers['tracestate']).toBe('ts');
    expect(r.headers['Traceparent']).toBeUndefined();
    const back = translator.fromRecord(
      inbound({ headers: { Traceparent: 'go-tp', messageId: 'id-1' }, value: Buffer.from('1') }),
    );
    expect(back.header('traceparent')).toBe('go-tp');
    expect(back.header('Traceparent')).toBeUndefined();
  });

  it('round-trips payload and headers, keeping the messageId and setting channelName to the topic', () => {
    const m = MessageBuilder.withPayload({ x: [1, 2] })
      .messageType('Event')
      .correlationId('c')
      .header('h', 'v')
      .build();
    const r = translator.toRecord(m);
    expect(r.value).toBe('{"x":[1,2]}'); // the JSON text itself: the client writes it as UTF-8
    const back = translator.fromRecord(
      inbound({ value: Buffer.from(r.value!), headers: r.headers, key: Buffer.from(r.key!) }),
    );
    expect(back.payload).toEqual({ x: [1, 2] });
    // The id, the timestamp and every header read the same after the round trip (plus the topic).
    expect(back.headers).toEqual({ ...m.headers, channelName: 'orders' });
    expect(back.timestamp).toEqual(m.timestamp);
    expect(back.messageId).toBe(m.messageId);
    expect(back.messageType).toBe('Event');
    expect(back.header('h')).toBe('v');
    expect(back.channelName).toBe('orders');
    expect(back.header(KafkaHeaders.CONTENT_TYPE)).toBeUndefined();
  });

  it('gives a record without messageId a stable id and the record timestamp', () => {
    const back = translator.fromRecord(inbound({ value: Buffer.from('{}') }));
    expect(back.messageId).toBe('kafka:orders:2:41');
    expect(back.timestamp?.getTime()).toBe(1700000000000);
  });

  it('reads Go gomes timestamps', () => {
    const back = translator.fromRecord(
      inbound({ value: Buffer.from('{}'), headers: { timestamp: '2026-02-17 10:11:12' } }),
    );
    expect(back.timestamp?.toISOString()).toBe('2026-02-17T10:11:12.000Z');
  });

  it('throws GOMES_TRANSLATION_FAILED for an undecodable value or header', () => {
    for (const record of [
      inbound({ value: Buffer.from('{nope') }),
      inbound({ value: Buffer.from('1'), headers: { timestamp: 'yesterday' } }),
    ]) {
      let error: unknown;
      try {
        translator.fromRecord(record);
      } catch (e) {
        error = e;
      }
      expect(isGomesError(error) && error.code).toBe('GOMES_TRANSLATION_FAILED');
    }
  });

  it('never quotes the payload in a decode error: a JSON SyntaxError is reduced to its name and position', () => {
    for (const value of ['secret-ssn-123-45-6789', '{"ssn": "123-45-6789" "card": 4111}']) {
      let error: unknown;
      try {
        translator.fromRecord(inbound({ value: Buffer.from(value) }));
      } catch (e) {
        error = e;
      }
      expect(isGomesError(error) && error.code).toBe('GOMES_TRANSLATION_FAILED');
      const message = (error as Error).message;
      expect(message).not.toMatch(/ssn|6789|4111|secret/);
      expect(message).toMatch(/^Cannot decode record orders\/2@41: SyntaxError( at position \d+)?$/);
    }
  });

  it('throws GOMES_TRANSLATION_FAILED for a payload JSON cannot encode', () => {
    expect(() => translator.toRecord(MessageBuilder.withPayload({ big: 10n }).build())).toThrow(
      /Cannot serialize/,
    );
  });
});
