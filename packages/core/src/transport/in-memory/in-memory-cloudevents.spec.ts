// The CloudEvents envelope on the in-memory transport: records stored in binary mode (`ce_*` headers
// in the record's JSON) and structured mode (the event as the value), consumed back through the
// gomes API; CloudEvents written by another producer are mapped into routable messages; invalid
// ones fail with GOMES_TRANSLATION_FAILED. Plus the shared mapping helpers (message/cloudevents.ts).
import 'reflect-metadata';
import { Event } from '../../actions/action-decorators.js';
import { defineEventHandler } from '../../actions/handler-definition.js';
import type { HandlerContext } from '../../actions/handler-context.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { createGomes } from '../../gomes/create-gomes.js';
import type { Gomes } from '../../gomes/gomes.js';
import {
  cloudEventsModeOf,
  encodeStructuredCloudEvent,
  isJsonContentType,
  type CloudEventsMode,
} from '../../message/cloudevents.js';
import { MessageBuilder } from '../../message/message-builder.js';
import { waitFor } from '../../testing/wait-for.js';
import { InMemoryBroker, type InMemoryRecord } from './in-memory-broker.js';
import { inMemoryConnection } from './in-memory-connection.js';
import { inMemoryConsumer } from './in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from './in-memory-publisher-channel-builder.js';

@Event('memce.orderPlaced', { subject: (e: OrderPlaced) => e.orderId })
class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly total: number,
  ) {}
}

let apps: Gomes[] = [];
afterEach(async () => {
  await Promise.all(apps.map(async (a) => a.shutdown()));
  apps = [];
});

async function roundTrip(
  mode: CloudEventsMode,
): Promise<{ broker: InMemoryBroker; record: InMemoryRecord; seen: HandlerContext[]; id: string }> {
  const broker = new InMemoryBroker();
  const seen: HandlerContext[] = [];
  const app = createGomes({ origin: '/orders-service' })
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'orders').withEnvelope('cloudevents', { mode }))
    .addConsumerChannel(inMemoryConsumer('memory', 'orders', 'projection'))
    .addActionHandler(defineEventHandler(OrderPlaced, (_e, ctx) => void seen.push(ctx)));
  apps.push(app);
  await app.start();
  await app.eventDrivenConsumer('projection').run();
  const id = await app
    .eventBusByChannel('orders')
    .publish(new OrderPlaced('o-1', 12.5), { correlationId: 'conv-1', causationId: 'cmd-1' });
  await waitFor(() => seen.length === 1);
  return { broker, record: broker.records('orders', 0)[0]!, seen, id };
}

describe('in-memory CloudEvents envelope', () => {
  it('binary: ce_* and content-type join the gomes headers in the record; the consumer gets the message as sent', async () => {
    const { record, seen, id } = await roundTrip('binary');
    const stored = JSON.parse(record.value) as { payload: unknown; headers: Record<string, string> };
    expect(record.headers).toBeUndefined();
    expect(stored.payload).toEqual({ orderId: 'o-1', total: 12.5 });
    expect(stored.headers).toMatchObject({
      messageId: id,
      route: 'memce.orderPlaced',
      ce_specversion: '1.0',
      ce_id: id,
      ce_type: 'memce.orderPlaced',
      ce_source: '/orders-service',
      ce_subject: 'o-1',
      ce_correlationid: 'conv-1',
      ce_causationid: 'cmd-1',
      ce_time: stored.headers['timestamp'],
      'content-type': 'application/json',
    });
    const m = seen[0]!.message;
    expect([m.messageId, m.route, m.subject, m.origin, m.correlationId, m.causationId]).toEqual([
      id,
      'memce.orderPlaced',
      'o-1',
      '/orders-service',
      'conv-1',
      'cmd-1',
    ]);
    expect(Object.keys(m.headers).filter((h) => h.startsWith('ce_') || h === 'content-type')).toEqual([]);
  });

  it('structured: the value is the event (JSON format), the headers sit beside it; the consumer gets the message as sent', async () => {
    const { broker, record, seen, id } = await roundTrip('structured');
    expect(JSON.parse(record.value)).toEqual({
      specversion: '1.0',
      id,
      source: '/orders-service',
      type: 'memce.orderPlaced',
      time: record.headers!['timestamp'],
      subject: 'o-1',
      correlationid: 'conv-1',
      causationid: 'cmd-1',
      datacontenttype: 'application/json',
      data: { orderId: 'o-1', total: 12.5 },
    });
    expect(record.headers).toMatchObject({
      'content-type': 'application/cloudevents+json; charset=UTF-8',
      messageId: id,
    });
    const m = seen[0]!.message;
    expect([m.messageId, m.route, m.subject, m.payload]).toEqual([
      id,
      'memce.orderPlaced',
      'o-1',
      { orderId: 'o-1', total: 12.5 },
    ]);
    // Every decode of the record (each delivery of it) gives the same messageId.
    expect(broker.decode(record).messageId).toBe(id);
    expect(broker.decode(record).messageId).toBe(id);
  });

  it("maps another producer's CloudEvents (binary and structured): id, type, source, time, subject, the ids, extensions", () => {
    const broker = new InMemoryBroker();
    const base = { topic: 'orders', partition: 0, offset: 0n, key: 'o-7', timestampMs: 0 };
    const attributes = {
      specversion: '1.0',
      id: 'evt-7',
      source: 'urn:acme:shop',
      type: 'memce.orderPlaced',
      time: '2026-03-01t08:00:00.5z',
      subject: 'o-7',
      correlationid: 'conv-7',
      causationid: 'cause-7',
      tenant: 'acme',
    };
    const structured: InMemoryRecord = {
      ...base,
      value: JSON.stringify({ ...attributes, datacontenttype: 'application/json', data: { orderId: 'o-7' } }),
      headers: { 'content-type': 'application/cloudevents+json' },
    };
    const binary: InMemoryRecord = {
      ...base,
      value: JSON.stringify({
        payload: { orderId: 'o-7' },
        headers: {
          ...Object.fromEntries(Object.entries(attributes).map(([k, v]) => [`ce_${k}`, v])),
          'content-type': 'application/json',
        },
      }),
    };
    for (const record of [structured, binary]) {
      const m = broker.decode(record);
      expect(m.payload).toEqual({ orderId: 'o-7' });
      expect([m.messageId, m.route, m.origin, m.subject, m.correlationId, m.causationId]).toEqual([
        'evt-7',
        'memce.orderPlaced',
        'urn:acme:shop',
        'o-7',
        'conv-7',
        'cause-7',
      ]);
      expect([m.messageType, m.timestamp?.toISOString(), m.header('ce_tenant')]).toEqual([
        'Event',
        '2026-03-01T08:00:00.500Z',
        'acme',
      ]);
    }
  });

  it('rejects an invalid CloudEvent with GOMES_TRANSLATION_FAILED naming what is missing', () => {
    const broker = new InMemoryBroker();
    const record: InMemoryRecord = {
      topic: 'orders',
      partition: 0,
      offset: 4n,
      key: '',
      timestampMs: 0,
      value: JSON.stringify({ specversion: '1.0', source: 's', type: 't' }),
      headers: { 'content-type': 'application/cloudevents+json' },
    };
    expect(() => broker.decode(record)).toThrow(
      'Cannot decode record orders/0@4: Not a valid CloudEvent: required attribute "id" is missing',
    );
  });

  it('an invalid envelope is a start() problem', async () => {
    const app = createGomes()
      .addChannelConnection(inMemoryConnection('memory'))
      .addPublisherChannel(
        inMemoryPublisher('memory', 'orders').withEnvelope('cloudevents', { mode: 'batch' as 'binary' }),
      );
    apps.push(app);
    const error = await app.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).message).toContain(
      'CloudEvents mode "batch" is not one of binary, structured',
    );
  });
});

describe('CloudEvents mapping helpers', () => {
  it('detects the content mode from the headers', () => {
    expect(cloudEventsModeOf({ 'content-type': 'Application/CloudEvents+json; charset=UTF-8' })).toBe(
      'structured',
    );
    expect(cloudEventsModeOf({ 'content-type': 'application/cloudevents-batch+json' })).toBe('batch');
    expect(cloudEventsModeOf({ 'content-type': 'application/json', ce_specversion: '1.0' })).toBe('binary');
    expect(cloudEventsModeOf({ 'content-type': 'application/json', messageId: 'x' })).toBeUndefined();
  });

  it('recognises JSON content types; writes bytes that are not JSON as data_base64', () => {
    expect(
      ['application/json', 'text/json; charset=utf-8', 'application/vnd.acme+json'].map(isJsonContentType),
    ).toEqual([true, true, true]);
    expect(isJsonContentType('application/avro')).toBe(false);
    const headers = MessageBuilder.withPayload(null).route('r').build().headers;
    const event = JSON.parse(
      encodeStructuredCloudEvent(headers, Buffer.from([0xde, 0xad]), 'application/json'),
    ) as Record<string, unknown>;
    expect([event['data'], event['data_base64']]).toEqual([undefined, '3q0=']);
    expect(JSON.parse(encodeStructuredCloudEvent(headers, null, undefined))).not.toHaveProperty('data');
  });
});
