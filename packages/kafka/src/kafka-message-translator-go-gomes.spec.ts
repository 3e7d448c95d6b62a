// Interop with Go gomes at the translator: records exactly as Go gomes writes them are read into the
// messages they mean, and records written with `wireFormat: 'go-gomes'` are what Go's parser reads
// (checked field by field with readAsGoGomes, the Go contract in test/support/go-gomes-wire.ts).
import {
  MessageBuilder,
  PARTITION_KEY_HEADER,
  readDeadLetterEnvelope,
  type Message,
  type MessageType,
} from '@gomes/core';
import { readGoGomesDeadLetter } from '@gomes/core/transport';
import {
  GO_GOMES_HEADER_NAMES,
  GO_TRACEPARENT,
  goCommandRecord,
  goDeadLetterRecord,
  goEventRecord,
  readAsGoGomes,
  wireRecord,
  type WireRecord,
} from '../test/support/go-gomes-wire.js';
import { KafkaMessageTranslator, type KafkaInboundRecord } from './kafka-message-translator.js';
import { KafkaPublisherChannelBuilder } from './kafka-publisher-channel-builder.js';
import type { MessageSerializer } from './message-serializer.js';

const gomesFormat = new KafkaMessageTranslator();
const goFormat = new KafkaMessageTranslator(undefined, { wireFormat: 'go-gomes' });
const goIn = (timeZone: string): KafkaMessageTranslator =>
  new KafkaMessageTranslator(undefined, { wireFormat: 'go-gomes', timeZone });

function inbound(topic: string, record: WireRecord, offset = '7'): KafkaInboundRecord {
  return {
    topic,
    partition: 0,
    offset,
    key: record.key === null ? null : Buffer.from(record.key),
    value: record.value === null ? null : Buffer.from(record.value),
    headers: record.headers,
    timestamp: '1771323072000',
  };
}

function command(type: MessageType = 'Command'): Message {
  return MessageBuilder.withPayload({ orderId: 'o-42', quantity: 2 })
    .messageType(type)
    .route('goInterop.placeOrder')
    .correlationId('corr-42')
    .channelName('go.orders')
    .timestamp(new Date('2026-01-05T10:00:00.250Z'))
    .header('traceparent', GO_TRACEPARENT)
    .header('tracestate', 'vendor=1')
    .header('tenant', 'acme')
    .build();
}

describe('reading records exactly as Go gomes writes them', () => {
  it('a command: payload, route, type, Go ids, timestamp (read as UTC), Traceparent; the empty replyTo is skipped', () => {
    const record = goCommandRecord('go.orders');
    const m = gomesFormat.fromRecord(inbound('go.orders', record));
    expect(m.payload).toEqual({ orderId: 'o-42', quantity: 2 });
    expect(m.route).toBe('goInterop.placeOrder');
    expect(m.messageType).toBe('Command');
    expect(m.messageId).toBe(record.headers['messageId']);
    expect(m.correlationId).toBe(record.headers['correlationId']);
    expect(m.timestamp?.toISOString()).toBe('2026-02-17T10:11:12.000Z');
    expect(m.header('traceparent')).toBe(GO_TRACEPARENT);
    expect(m.header('Traceparent')).toBeUndefined();
    expect(m.replyTo).toBeUndefined();
    expect(m.channelName).toBe('go.orders');
    expect([m.origin, m.version]).toEqual(['Gomes', '1.0']);
  });

  it('an event without trace context or replyTo', () => {
    const record = goEventRecord('go.events');
    const m = gomesFormat.fromRecord(inbound('go.events', record));
    expect(m.payload).toEqual({ orderId: 'o-42', total: 99.5 });
    expect([m.route, m.messageType, m.messageId]).toEqual([
      'goInterop.orderPlaced',
      'Event',
      record.headers['messageId'],
    ]);
    expect(m.timestamp?.toISOString()).toBe('2026-02-17T10:11:13.000Z');
    expect(m.header('traceparent')).toBeUndefined();
  });

  it('a dead letter: a Document without route whose body readGoGomesDeadLetter unwraps', () => {
    const original = goCommandRecord('go.orders');
    const record = goDeadLetterRecord('go.orders.dlq', original, 'stock service unavailable');
    const m = gomesFormat.fromRecord(inbound('go.orders.dlq', record));
    expect([m.messageType, m.route, m.correlationId]).toEqual([
      'Document',
      undefined,
      original.headers['correlationId'],
    ]);
    expect(readDeadLetterEnvelope(m)).toBeUndefined(); // not a gomes dead letter
    const dead = readGoGomesDeadLetter(m);
    expect(dead?.reason).toBe('stock service unavailable');
    expect(dead?.payload).toEqual({ orderId: 'o-42', quantity: 2 });
    expect(dead?.headers).toMatchObject({
      route: 'goInterop.placeOrder',
      messageType: 'Command',
      correlationId: original.headers['correlationId'],
      timestamp: '2026-02-17 10:11:12',
      Traceparent: GO_TRACEPARENT,
    });
    expect(dead?.headers['replyTo']).toBeUndefined();
    expect(readGoGomesDeadLetter(gomesFormat.fromRecord(inbound('go.orders', original)))).toBeUndefined();
  });
});

describe("wireFormat 'go-gomes': records Go gomes parses", () => {
  it('writes every header Go reads under its exact name, in the format Go parses, with key = correlationId', () => {
    const m = command();
    const record = goIn('America/Sao_Paulo').toRecord(m);
    const go = readAsGoGomes(wireRecord(record));
    expect(go.problems).toEqual([]);
    expect(record.key).toBe('corr-42');
    expect(record.headers).toEqual({
      origin: 'gomes',
      route: 'goInterop.placeOrder',
      messageType: 'Command',
      timestamp: '2026-01-05 07:00:00', // local time (UTC-3), seconds, no zone: Go's layout
      correlationId: 'corr-42',
      channelName: 'go.orders',
      messageId: m.messageId,
      version: '1.0',
      Traceparent: GO_TRACEPARENT,
      Tracestate: 'vendor=1',
      tenant: 'acme',
      contentType: 'application/json',
    });
    const goNames: readonly string[] = GO_GOMES_HEADER_NAMES;
    expect(Object.keys(record.headers).filter((n) => !goNames.includes(n))).toEqual([
      'tenant',
      'contentType',
    ]);
    expect(go.payload).toEqual({ orderId: 'o-42', quantity: 2 });
    expect(go.traceparent).toBe(GO_TRACEPARENT);
    expect(go.custom).toEqual({ tenant: 'acme', contentType: 'application/json' });
  });

  it("writes the timestamp's wall clock in the chosen time zone, by default the local one as Go does", () => {
    const m = command();
    for (const [tz, expected] of [
      ['UTC', '2026-01-05 10:00:00'],
      ['Asia/Kolkata', '2026-01-05 15:30:00'],
      ['America/Sao_Paulo', '2026-01-05 07:00:00'],
    ] as const) {
      expect([tz, goIn(tz).toRecord(m).headers['timestamp']]).toEqual([tz, expected]);
    }
    const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(goFormat.toRecord(m).headers['timestamp']).toBe(goIn(local).toRecord(m).headers['timestamp']);
  });

  it('writes the four message types as the strings Go maps', () => {
    for (const type of ['Command', 'Query', 'Event', 'Document'] as const) {
      const go = readAsGoGomes(wireRecord(goFormat.toRecord(command(type))));
      expect([type, go.messageType, go.problems]).toEqual([type, type, []]);
    }
  });

  it('keeps a partition key as the record key (Go does not read keys)', () => {
    const m = MessageBuilder.from(command()).header(PARTITION_KEY_HEADER, 'customer-9').build();
    const record = goFormat.toRecord(m);
    expect(record.key).toBe('customer-9');
    expect(readAsGoGomes(wireRecord(record)).problems).toEqual([]);
  });

  it("is read back by gomes (written in UTC, the time survives to the second); the default 'gomes' format is not readable by Go", () => {
    const m = command();
    const record = goIn('UTC').toRecord(m);
    const back = gomesFormat.fromRecord(inbound('go.orders', wireRecord(record)));
    expect(back.messageId).toBe(m.messageId);
    expect(back.timestamp?.toISOString()).toBe('2026-01-05T10:00:00.000Z');
    expect(back.header('traceparent')).toBe(GO_TRACEPARENT);

    const iso = readAsGoGomes(wireRecord(gomesFormat.toRecord(m)));
    expect(iso.problems).toEqual([
      'header "traceparent": Go reads "Traceparent" (header names are case-sensitive)',
      'header "tracestate": Go reads "Tracestate" (header names are case-sensitive)',
      'timestamp "2026-01-05T10:00:00.250Z" does not parse with Go layout "2006-01-02 15:04:05" (Go skips the record)',
    ]);
  });
});

describe('KafkaPublisherChannelBuilder.withWireFormat', () => {
  const text: MessageSerializer = {
    contentType: 'text/plain',
    serialize: (m) => Buffer.from(String(m.payload)),
    deserialize: (v) => v?.toString('utf8') ?? null,
  };

  it('sets the wire format and keeps it across withSerializer, and the serializer across withWireFormat', () => {
    const base = new KafkaPublisherChannelBuilder('kafka', 'go.orders');
    expect(base.options.translator.wireFormat).toBe('gomes');
    const a = base.withWireFormat('go-gomes', { timeZone: 'UTC' }).withSerializer(text);
    const b = base.withSerializer(text).withWireFormat('go-gomes', { timeZone: 'UTC' });
    for (const builder of [a, b]) {
      const { wireFormat, timeZone, serializer } = builder.options.translator;
      expect([wireFormat, timeZone, serializer]).toEqual(['go-gomes', 'UTC', text]);
    }
    expect(base.options.translator.wireFormat).toBe('gomes'); // immutable
  });

  it('rejects an unknown wire format or time zone in validate()', () => {
    const builder = new KafkaPublisherChannelBuilder('kafka', 'go.orders');
    expect(builder.withWireFormat('go' as never).validate()).toContainEqual(
      expect.stringContaining('wireFormat "go" is not one of gomes, go-gomes'),
    );
    expect(builder.withWireFormat('go-gomes', { timeZone: 'Mars/Olympus' }).validate()).toContainEqual(
      expect.stringContaining('wireFormat timeZone "Mars/Olympus" is not an IANA time zone (e.g. "UTC")'),
    );
    expect(builder.withWireFormat('go-gomes', { timeZone: 'Europe/Lisbon' }).validate()).toEqual([]);
  });
});
