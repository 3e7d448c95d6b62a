import { MessageBuilder } from './message-builder.js';
import { newMessageId } from './message-id.js';
import { MessageHeaders, PARTITION_KEY_HEADER, partitionKeyOf } from './message-headers.js';
import { formatTimestamp, parseTimestamp } from './timestamp.js';
import { isGomesError } from '../errors/gomes-error.js';
import { Message } from './message.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('MessageBuilder', () => {
  it('fills messageId (uuid v7), ISO timestamp, origin, version and type on build', () => {
    const before = Date.now();
    const m = MessageBuilder.withPayload({ a: 1 }).build();
    expect(m.messageId).toMatch(UUID_V7);
    expect(m.headers[MessageHeaders.TIMESTAMP]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(m.timestamp!.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(m.origin).toBe('gomes');
    expect(m.version).toBe('1.0');
    expect(m.messageType).toBe('Document');
    expect(m.payload).toEqual({ a: 1 });
  });

  it('creates distinct, time-ordered ids', () => {
    const ids = Array.from({ length: 50 }, () => newMessageId());
    expect(new Set(ids).size).toBe(50);
    expect([...ids].sort()).toEqual(ids);
  });

  it('preserves the messageId and every header when rebuilding from a message', () => {
    const original = MessageBuilder.withPayload('x')
      .route('r')
      .correlationId('c')
      .header('tenant', 't1')
      .build();
    const copy = MessageBuilder.from(original).channelName('orders').build();
    expect(copy.messageId).toBe(original.messageId);
    expect(copy.headers[MessageHeaders.TIMESTAMP]).toBe(original.headers[MessageHeaders.TIMESTAMP]);
    expect(copy.route).toBe('r');
    expect(copy.correlationId).toBe('c');
    expect(copy.header('tenant')).toBe('t1');
    expect(copy.channelName).toBe('orders');
    expect(original.channelName).toBeUndefined();
  });

  it('sets every reserved header through its own method', () => {
    const ts = new Date('2026-01-02T03:04:05.006Z');
    const m = MessageBuilder.withPayload(null)
      .messageId('id-1')
      .correlationId('corr')
      .causationId('cause')
      .messageType('Command')
      .route('createOrder')
      .channelName('orders')
      .replyTo('orders.replies')
      .timestamp(ts)
      .origin('svc')
      .version('2')
      .build();
    expect(m.headers).toEqual({
      messageId: 'id-1',
      correlationId: 'corr',
      causationId: 'cause',
      messageType: 'Command',
      route: 'createOrder',
      channelName: 'orders',
      replyTo: 'orders.replies',
      timestamp: '2026-01-02T03:04:05.006Z',
      origin: 'svc',
      version: '2',
    });
    expect(m.messageType).toBe('Command');
    expect(m.replyTo).toBe('orders.replies');
    expect(m.causationId).toBe('cause');
  });

  it.each(Object.values(MessageHeaders))('refuses the reserved name %s as a custom header', (name) => {
    let caught: unknown;
    try {
      MessageBuilder.withPayload(1).header(name, 'v');
    } catch (e) {
      caught = e;
    }
    expect(isGomesError(caught) && caught.code).toBe('GOMES_INVALID_HEADER');
  });

  it('produces frozen messages and headers', () => {
    const m = MessageBuilder.withPayload(1).header('a', 'b').build();
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.headers)).toBe(true);
    expect(() => {
      (m.headers as Record<string, string>)['a'] = 'c';
    }).toThrow(TypeError);
  });

  it('reads raw headers: keeps custom ones, skips empty values, normalises Go timestamps', () => {
    const m = MessageBuilder.fromHeaders(
      { v: 1 },
      {
        messageId: 'go-id',
        route: 'createOrder',
        timestamp: '2025-03-04 05:06:07',
        replyTo: '',
        custom: 'yes',
        messageType: 'Command',
      },
    ).build();
    expect(m.messageId).toBe('go-id');
    expect(m.replyTo).toBeUndefined();
    expect(m.header('custom')).toBe('yes');
    expect(m.headers[MessageHeaders.TIMESTAMP]).toBe('2025-03-04T05:06:07.000Z');
  });

  it('rejects an unparsable timestamp header', () => {
    expect(() => MessageBuilder.fromHeaders(1, { timestamp: 'yesterday' })).toThrow(
      /Invalid timestamp header/,
    );
  });

  it('maps unknown messageType values to Document like Go gomes', () => {
    expect(MessageBuilder.fromHeaders(1, { messageType: 'Weird' }).build().messageType).toBe('Document');
  });
});

describe('timestamps', () => {
  it('round-trips ISO and reads the Go format as UTC', () => {
    const d = new Date('2024-12-31T23:59:58.123Z');
    expect(parseTimestamp(formatTimestamp(d)).getTime()).toBe(d.getTime());
    expect(parseTimestamp('2024-12-31 23:59:58').toISOString()).toBe('2024-12-31T23:59:58.000Z');
  });

  it('normalises received timestamps: canonical text kept, anything else parsed and re-formatted or rejected', () => {
    const read = (timestamp: string): string | undefined =>
      MessageBuilder.fromHeaders(1, { timestamp }).build().headers['timestamp'];
    expect(read('2026-01-02T03:04:05.006Z')).toBe('2026-01-02T03:04:05.006Z');
    // Values Date.parse rolls over (no fast path may keep them as they are).
    expect(read('2025-02-30T00:00:00.000Z')).toBe('2025-03-02T00:00:00.000Z');
    expect(read('2025-01-01T24:00:00.000Z')).toBe('2025-01-02T00:00:00.000Z');
    expect(read('2024-02-29T23:59:59.999Z')).toBe('2024-02-29T23:59:59.999Z');
    expect(read('2026-01-02T03:04:05Z')).toBe('2026-01-02T03:04:05.000Z');
    expect(read('2026-01-02T05:04:05.006+02:00')).toBe('2026-01-02T03:04:05.006Z');
    expect(() => read('2025-13-01T00:00:00.000Z')).toThrow(/Invalid timestamp header/);
    expect(() => read('2025-01-01T23:59:60.000Z')).toThrow(/Invalid timestamp header/);
  });
});

describe('partitionKeyOf', () => {
  it('prefers the partition-key header, then correlationId, then messageId', () => {
    expect(partitionKeyOf({ [PARTITION_KEY_HEADER]: 'k', correlationId: 'c', messageId: 'm' })).toBe('k');
    expect(partitionKeyOf({ correlationId: 'c', messageId: 'm' })).toBe('c');
    expect(partitionKeyOf({ messageId: 'm' })).toBe('m');
  });

  it('buildFromOwnedHeaders adopts its header object; the constructor and the builder copy theirs', () => {
    const owned: Record<string, string> = { route: 'r', empty: '' };
    const adopted = MessageBuilder.buildFromOwnedHeaders(1, owned);
    expect(adopted.headers).toBe(owned);
    expect(Object.isFrozen(owned)).toBe(true);
    expect(owned).not.toHaveProperty('empty');

    const mine: Record<string, string> = { route: 'r' };
    const copied = new Message(1, mine);
    expect(copied.headers).not.toBe(mine);
    expect(Object.isFrozen(mine)).toBe(false);
    // A message built inside another build (e.g. by a header getter) does not inherit adoption.
    const built = MessageBuilder.fromHeaders(2, mine).build();
    expect(built.headers).not.toBe(mine);
    expect(Object.isFrozen(mine)).toBe(false);
  });
});
