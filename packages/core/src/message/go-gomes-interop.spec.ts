import { MessageBuilder } from './message-builder.js';
import { readGoGomesDeadLetter } from './go-gomes-dead-letter.js';
import { formatGoGomesTimestamp, parseTimestamp } from './timestamp.js';

describe('formatGoGomesTimestamp', () => {
  const at = new Date('2026-01-05T10:00:09.999Z');

  it("writes Go's layout 2006-01-02 15:04:05: the wall clock in the zone, seconds, no zone, no milliseconds", () => {
    expect(formatGoGomesTimestamp(at, 'UTC')).toBe('2026-01-05 10:00:09');
    expect(formatGoGomesTimestamp(at, 'America/Sao_Paulo')).toBe('2026-01-05 07:00:09');
    expect(formatGoGomesTimestamp(at, 'Asia/Kolkata')).toBe('2026-01-05 15:30:09');
    expect(formatGoGomesTimestamp(new Date('2026-12-31T23:30:00Z'), 'Asia/Tokyo')).toBe(
      '2027-01-01 08:30:00',
    );
    expect(formatGoGomesTimestamp(new Date('2026-03-01T00:00:00Z'), 'UTC')).toBe('2026-03-01 00:00:00'); // hour 00, not 24
    expect(formatGoGomesTimestamp(new Date('0099-03-01T23:59:59Z'), 'UTC')).toBe('0099-03-01 23:59:59');
  });

  it('defaults to the local time zone', () => {
    const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(formatGoGomesTimestamp(at)).toBe(formatGoGomesTimestamp(at, local));
  });

  it('is read back by parseTimestamp as UTC: written in UTC, the instant survives to the second', () => {
    expect(parseTimestamp(formatGoGomesTimestamp(at, 'UTC')).toISOString()).toBe('2026-01-05T10:00:09.000Z');
  });

  it('throws a RangeError for an unknown zone', () => {
    expect(() => formatGoGomesTimestamp(at, 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('readGoGomesDeadLetter', () => {
  const body = {
    ReasonError: 'stock service unavailable',
    Payload: { orderId: 'o-42' },
    Headers: { route: 'placeOrder', correlationId: 'c-1', messageType: 'Command' },
  };

  it('unwraps the reason, the original payload and the original headers', () => {
    const dead = readGoGomesDeadLetter(MessageBuilder.withPayload(body).build());
    expect(dead).toEqual({
      reason: 'stock service unavailable',
      payload: { orderId: 'o-42' },
      headers: { route: 'placeOrder', correlationId: 'c-1', messageType: 'Command' },
    });
    expect(Object.isFrozen(dead) && Object.isFrozen(dead?.headers)).toBe(true);
  });

  it('gives null for a missing Payload and keeps a "__proto__" header as a header', () => {
    const dead = readGoGomesDeadLetter(
      MessageBuilder.withPayload(
        JSON.parse('{"ReasonError":"x","Headers":{"__proto__":"p","route":"r"}}') as unknown,
      ).build(),
    );
    expect(dead?.payload).toBeNull();
    expect(Object.keys(dead!.headers)).toEqual(['__proto__', 'route']);
    expect(Object.getPrototypeOf(dead!.headers)).toBe(Object.prototype);
  });

  it('is undefined for anything that is not a Go gomes dead letter', () => {
    for (const payload of [
      { orderId: 'o-42' },
      'text',
      null,
      [body],
      { ...body, ReasonError: 42 },
      { ...body, Headers: undefined },
      { ...body, Headers: ['route'] },
      { ...body, Headers: { route: 7 } },
    ]) {
      expect(readGoGomesDeadLetter(MessageBuilder.withPayload(payload).build())).toBeUndefined();
    }
  });
});
