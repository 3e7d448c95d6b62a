import { createRecordsBatch, type MessageRecord } from '@platformatic/kafka';
import type { DriverOutboundRecord } from './kafka-driver.js';
import { encodeRecord, HeaderEncoder, PreparedPlatformaticRecord } from './platformatic-outbound.js';

const gomesRecord = (i: number): DriverOutboundRecord => ({
  key: `order-${i}`,
  value: JSON.stringify({ i, note: 'é€😀' }),
  headers: {
    messageType: 'Event',
    route: 'orderPlaced',
    messageId: `0193d1c2-7e7b-7c1a-9a7e-${String(i).padStart(12, '0')}`,
    timestamp: `2026-12-02T11:38:0${i % 10}.000Z`,
    origin: 'gomes',
    version: '1',
    contentType: 'application/json',
    'ünïcode-name': 'välue',
  },
});

/** What the driver handed the library before records were prepared: every string encoded anew. */
function plainMessage(record: DriverOutboundRecord, topic: string): MessageRecord {
  const headers = new Map<Buffer, Buffer>();
  for (const name in record.headers) headers.set(Buffer.from(name), Buffer.from(record.headers[name]!));
  return {
    topic,
    key: typeof record.key === 'string' ? Buffer.from(record.key) : (record.key ?? undefined),
    value: typeof record.value === 'string' ? Buffer.from(record.value) : (record.value as Buffer),
    headers,
  };
}

/** The record batch the library writes for `messages` (records with a value). */
const wire = (
  messages: readonly {
    topic: string;
    key?: Buffer | undefined;
    value?: Buffer | undefined;
    headers?: Map<Buffer, Buffer> | undefined;
  }[],
): Buffer => {
  // A fixed timestamp: the batch bytes then depend on the records only.
  const stamped: MessageRecord[] = messages.map((m) => ({
    topic: m.topic,
    ...(m.key === undefined ? {} : { key: m.key }),
    value: m.value as Buffer,
    ...(m.headers === undefined ? {} : { headers: m.headers }),
    partition: 0,
    timestamp: 1_700_000_000_000n,
  }));
  return createRecordsBatch(stamped).buffer;
};

describe('platformatic outbound records', () => {
  it('encodes key, value and headers as UTF-8, byte for byte the record batch the library wrote before', () => {
    const records = [1, 2, 3].map(gomesRecord);
    const prepared = records.map((r) => ({ topic: 't', ...encodeRecord(r) }));
    expect(wire(prepared)).toEqual(wire(records.map((r) => plainMessage(r, 't'))));
    const first = prepared[0]!;
    expect(first.key).toEqual(Buffer.from('order-1'));
    expect(first.value?.toString('utf8')).toBe(records[0]!.value);
    expect([...first.headers].map(([n, v]) => [n.toString('utf8'), v.toString('utf8')])).toEqual(
      Object.entries(records[0]!.headers),
    );
  });

  it('takes Buffer keys and values as they are, null as absent, and keeps the partition', () => {
    const value = Buffer.from([0, 1, 2]);
    const key = Buffer.from('k');
    expect(encodeRecord({ key, value, headers: {}, partition: 2 })).toEqual({
      key,
      value,
      headers: new Map(),
      partition: 2,
    });
    const tombstone = encodeRecord({ key: null, value: null, headers: {} });
    expect(tombstone.key).toBeUndefined();
    expect(tombstone.value).toBeUndefined();
    expect(tombstone.headers.size).toBe(0);
    expect('partition' in tombstone).toBe(false);
  });

  it('encodes a header name once, and a value once while the header keeps it', () => {
    const a = [...encodeRecord(gomesRecord(1)).headers];
    const b = [...encodeRecord(gomesRecord(2)).headers];
    // Names: the same Buffer for every record.
    a.forEach(([name], i) => expect(b[i]![0]).toBe(name));
    const value = (entries: [Buffer, Buffer][], name: string): Buffer =>
      entries.find(([n]) => n.toString() === name)![1];
    // Unchanged values (messageType, route, contentType…) are shared; changed ones are not.
    expect(value(b, 'route')).toBe(value(a, 'route'));
    expect(value(b, 'contentType')).toBe(value(a, 'contentType'));
    expect(value(b, 'messageId')).not.toBe(value(a, 'messageId'));
    // A new value never rewrites the bytes an earlier record holds.
    expect(value(a, 'messageId').toString()).toBe(gomesRecord(1).headers['messageId']);
    expect(value(b, 'messageId').toString()).toBe(gomesRecord(2).headers['messageId']);
    const other = encodeRecord({ ...gomesRecord(3), headers: { route: 'other' } });
    expect([...other.headers][0]![1].toString()).toBe('other');
    expect(value(a, 'route').toString()).toBe('orderPlaced');
  });

  it('keeps at most maxNames names; names past the bound are encoded for each record', () => {
    const encoder = new HeaderEncoder(2);
    expect(encoder.of('a')).toBe(encoder.of('a'));
    encoder.of('b');
    const c1 = encoder.of('c');
    const c2 = encoder.of('c');
    expect(encoder.size).toBe(2);
    expect(c1).not.toBe(c2);
    expect(c2.name).toEqual(Buffer.from('c'));
    expect(c2.value('v')).toEqual(Buffer.from('v'));
  });

  it('a prepared record holds its key and value encoded (same bytes), its headers as given, and its encoded form, which encodeRecord returns as it is', () => {
    const record = { ...gomesRecord(4), partition: 1 };
    const prepared = new PreparedPlatformaticRecord(record);
    expect(prepared.key).toEqual(Buffer.from(record.key as string));
    expect(prepared.value).toEqual(Buffer.from(record.value as string));
    expect(prepared.headers).toBe(record.headers);
    expect(prepared.partition).toBe(1);
    expect(encodeRecord(prepared)).toBe(prepared.message);
    expect(prepared.message.partition).toBe(1);
    expect(prepared.message.value).toBe(prepared.value);
    expect(wire([{ topic: 't', ...prepared.message }])).toEqual(wire([plainMessage(record, 't')]));
    const tombstone = new PreparedPlatformaticRecord({ key: 'k', value: null, headers: {} });
    expect(tombstone.value).toBeNull();
  });
});
