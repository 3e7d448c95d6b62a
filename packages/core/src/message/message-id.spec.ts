import crypto from 'node:crypto';
import { messageIdAt, newMessageId } from './message-id.js';

/** RFC 9562 uuid: version 7 in the 13th hex digit, variant 10 in the 17th. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit `unix_ts_ms` field of a uuid v7. */
const timeOf = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
/** The 26-bit counter: rand_a (12 bits) and the 14 bits of rand_b after the variant. */
const counterOf = (id: string): number =>
  (parseInt(id.slice(15, 18), 16) << 14) | (parseInt(id.slice(19, 23), 16) & 0x3fff);

describe('message ids (uuid v7 from a pooled random source)', () => {
  it('are RFC 9562 version 7, variant 10, with the given time in unix_ts_ms', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 6) + 1_000_000; // a fresh millisecond
    const id = messageIdAt(now);
    expect(id).toMatch(UUID_V7);
    expect(timeOf(id)).toBe(now);
    expect(timeOf(newMessageId())).toBeGreaterThanOrEqual(Date.now() - 1000);
  });

  it('are unique and strictly increasing within one millisecond (a counter, not random order)', () => {
    const now = Date.now() + 10_000;
    // More ids than one pool of random bytes serves, so refills are crossed too.
    const ids = Array.from({ length: 5000 }, () => messageIdAt(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (let i = 1; i < ids.length; i++) expect(counterOf(ids[i]!)).toBe(counterOf(ids[i - 1]!) + 1);
    expect(ids.every((id) => UUID_V7.test(id) && timeOf(id) === now)).toBe(true);
    // The random tail differs between ids of one millisecond.
    expect(new Set(ids.map((id) => id.slice(24))).size).toBe(ids.length);
  });

  it('start each millisecond at a random counter below 2^25 (the top bit guards against overflow)', () => {
    const base = Date.now() + 20_000;
    const firsts = Array.from({ length: 200 }, (_, i) => counterOf(messageIdAt(base + i)));
    expect(firsts.every((c) => c < 2 ** 25)).toBe(true);
    expect(new Set(firsts).size).toBeGreaterThan(190);
  });

  it('never go backwards when the clock does: the last time is kept and the counter goes on', () => {
    const now = Date.now() + 30_000;
    const later = messageIdAt(now);
    const afterClockStep = messageIdAt(now - 5000);
    expect(timeOf(afterClockStep)).toBe(now);
    expect(afterClockStep > later).toBe(true);
    expect(afterClockStep).toMatch(UUID_V7);
  });

  it('draw their random bits from a pool: one crypto call serves thousands of ids', () => {
    const fill = jest.spyOn(crypto, 'randomFillSync');
    try {
      const now = Date.now() + 40_000;
      for (let i = 0; i < 8000; i++) messageIdAt(now); // 6 random bytes each: about 3 pools
      expect(fill.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(fill.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      fill.mockRestore();
    }
  });
});
