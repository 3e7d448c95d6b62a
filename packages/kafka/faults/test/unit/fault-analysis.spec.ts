// The fault suite's judge: counts lost, duplicated and out-of-order deliveries, and resumption times,
// from record lines. Its verdicts are what docs/reliability.md reports, so they are tested here.
import { kindOf, parseRecordLine } from '../../src/app-config.js';
import {
  countDeliveries,
  longestKeyPause,
  resumptionAfter,
  type HandledEvent,
  type ScenarioRecords,
} from '../support/fault-analysis.js';

const KEYS = 2; // n even → k0, n odd → k1; seq = floor(n / 2)

function records(
  handled: [n: number, t: number][],
  acked: number[],
  extra: Partial<ScenarioRecords> = {},
): ScenarioRecords {
  return {
    total: 10,
    keys: KEYS,
    poison: false,
    acked: new Map(acked.map((n) => [n, 0])),
    failedSends: new Map(),
    handled: handled.map(([n, t]) => ({ n, t, proc: 'c1' })),
    deadLettered: new Set(),
    ...extra,
  };
}

describe('countDeliveries', () => {
  it('finds nothing wrong in an in-order, complete, duplicate-free run', () => {
    const c = countDeliveries(
      records(
        [
          [0, 1],
          [1, 2],
          [2, 3],
          [3, 4],
        ],
        [0, 1, 2, 3],
      ),
    );
    expect(c).toMatchObject({ acked: 4, handled: 4, lost: 0, duplicates: 0, orderViolations: 0 });
  });

  it('counts an acknowledged message never handled as lost, and a failed send that was handled as delivered anyway', () => {
    const c = countDeliveries(
      records(
        [
          [0, 1],
          [2, 2],
          [5, 3],
        ],
        [0, 1, 2, 3],
        { failedSends: new Map([[5, 'GOMES_PUBLISH_OUTCOME_UNKNOWN']]) },
      ),
    );
    expect(c.lost).toBe(2);
    expect(c.lostSample).toEqual([1, 3]);
    expect(c.failedButDelivered).toBe(1);
    expect(c.sendFailures).toEqual({ GOMES_PUBLISH_OUTCOME_UNKNOWN: 1 });
  });

  it('counts redeliveries as duplicates, not as order violations (a rewind re-handles from the committed offset)', () => {
    // k0: 0, 2, 4, then a restart re-handles 2 and 4, then 6
    const c = countDeliveries(
      records(
        [
          [0, 1],
          [2, 2],
          [4, 3],
          [2, 4],
          [4, 5],
          [6, 6],
        ],
        [0, 2, 4, 6],
      ),
    );
    expect(c).toMatchObject({ duplicates: 2, orderViolations: 0, lost: 0 });
  });

  it('counts a first handling that skips an acknowledged earlier message of its key as an order violation, even if the skipped one comes later', () => {
    const c = countDeliveries(
      records(
        [
          [0, 1],
          [4, 2], // k0 seq 2 before k0 seq 1 (n 2)
          [2, 3],
          [1, 4], // k1 is unaffected
        ],
        [0, 1, 2, 4],
      ),
    );
    expect(c.orderViolations).toBe(1);
    expect(c.orderViolationSample).toEqual(['k0: seq 2 handled (by c1) before seq 1']);
    expect(c.lost).toBe(0);
  });

  it('does not require a message whose send failed (not acknowledged) before later ones', () => {
    const c = countDeliveries(
      records(
        [
          [0, 1],
          [4, 2],
        ],
        [0, 4],
        { failedSends: new Map([[2, 'GOMES_PUBLISH_FAILED']]) },
      ),
    );
    expect(c).toMatchObject({ orderViolations: 0, lost: 0, failedButDelivered: 0 });
  });

  it('settles poison messages by the dead-letter topic, not by the handler, and never requires them in order', () => {
    expect(kindOf(37, true)).toBe('undecodable');
    expect(kindOf(73, true)).toBe('throwing');
    const acked = [35, 37, 39, 71, 73, 75];
    const handled: [number, number][] = [
      [35, 1],
      [39, 2],
      [71, 3],
      [75, 4],
    ];
    const keys = { keys: 2, poison: true };
    const missing = countDeliveries(records(handled, acked, { ...keys, deadLettered: new Set([37]) }));
    expect(missing).toMatchObject({ lost: 1, lostSample: [73], poisonAcked: 2, poisonDeadLettered: 1 });
    const all = countDeliveries(records(handled, acked, { ...keys, deadLettered: new Set([37, 73]) }));
    expect(all).toMatchObject({ lost: 0, orderViolations: 0, poisonDeadLettered: 2 });
  });
});

describe('resumption and pauses', () => {
  const handled: HandledEvent[] = [
    { n: 0, t: 100, proc: 'a' },
    { n: 1, t: 110, proc: 'a' },
    { n: 2, t: 1500, proc: 'b' }, // k0 resumes 1400 ms after 100... measured from 1000
    { n: 3, t: 4000, proc: 'b' }, // k1 resumes last
  ];

  it('resumptionAfter: the first completion after the fault, and when every key with work left resumed', () => {
    expect(resumptionAfter(handled, KEYS, 1000)).toEqual({ firstMs: 500, allKeysMs: 3000 });
    expect(resumptionAfter(handled, KEYS, 5000)).toEqual({ firstMs: undefined, allKeysMs: undefined });
  });

  it('longestKeyPause: the longest gap of any key that began before the end of the fault window', () => {
    expect(longestKeyPause(handled, KEYS, 50, 200)).toBe(4000 - 110);
    expect(longestKeyPause(handled, KEYS, 2000, 2100)).toBe(2000); // k1: 2000 → 4000
  });
});

describe('parseRecordLine', () => {
  it('reads every line type and skips a torn last line', () => {
    expect(parseRecordLine('h\t12.5\t7\t2')).toEqual({ type: 'h', t: 12.5, n: 7, deliveryAttempt: 2 });
    expect(parseRecordLine('a\t1\t3')).toEqual({ type: 'a', t: 1, n: 3 });
    expect(parseRecordLine('f\t1\t3\tGOMES_PUBLISH_FAILED')).toEqual({
      type: 'f',
      t: 1,
      n: 3,
      code: 'GOMES_PUBLISH_FAILED',
    });
    expect(parseRecordLine('health\t1\t0\t1\tconsumer crashed')).toEqual({
      type: 'health',
      t: 1,
      ready: false,
      live: true,
      reasons: 'consumer crashed',
    });
    expect(parseRecordLine('h\t12')).toBeUndefined();
    expect(parseRecordLine('')).toBeUndefined();
  });
});
