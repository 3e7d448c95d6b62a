// Unit tests of resolveSourceOffsets (KafkaSource.resolveOffsets) with a fake admin: which
// list-offsets answer each position takes, and what a partial or failed answer does.
import { isGomesError } from '@gomes/core';
import type { DriverAdmin, DriverPartitionOffsets, KafkaDriver } from './driver/kafka-driver.js';
import { fakeAdmin, fakeDriver } from '../test/support/fake-kafka-driver.js';
import { resolveSourceOffsets } from './source-offset-resolver.js';

/** A driver whose admins answer `offsets` (low/high) and `byTime` (per asked timestamp). */
function driverWith(
  offsets: DriverPartitionOffsets[],
  byTime: (timestampMs: number) => { partition: number; offset: string }[] = () => [],
  fail?: Error,
) {
  const calls: string[] = [];
  const counter = { created: 0, disconnected: 0 };
  const base = fakeDriver().driver;
  const driver: KafkaDriver = {
    ...base,
    createAdmin: (): DriverAdmin => ({
      ...fakeAdmin(counter),
      connect: async () => {
        if (fail) throw fail;
      },
      fetchTopicOffsets: async (topic) => {
        calls.push(`offsets ${topic}`);
        return offsets;
      },
      fetchTopicOffsetsByTimestamp: async (topic, ms) => {
        calls.push(`byTime ${topic} ${ms}`);
        return byTime(ms);
      },
    }),
  };
  return { driver, calls, counter };
}

const OFFSETS: DriverPartitionOffsets[] = [
  { partition: 0, low: '5', high: '40' },
  { partition: 1, low: '0', high: '12' },
  { partition: 2, low: '7', high: '7' },
];

describe('resolveSourceOffsets', () => {
  it('earliest is each partition`s earliest stored offset, latest its end (only the partitions asked)', async () => {
    const { driver, calls, counter } = driverWith(OFFSETS);
    expect(await resolveSourceOffsets(driver, 't', [0, 2], { kind: 'earliest' })).toEqual(
      new Map([
        [0, 5n],
        [2, 7n],
      ]),
    );
    expect(await resolveSourceOffsets(driver, 't', [1, 0], { kind: 'latest' })).toEqual(
      new Map([
        [1, 12n],
        [0, 40n],
      ]),
    );
    expect(calls).toEqual(['offsets t', 'offsets t']);
    // One admin per call, always disconnected.
    expect(counter).toEqual({ created: 2, disconnected: 2 });
  });

  it('a timestamp is the broker`s offset for it; a partition with no record at or after it resolves to its end', async () => {
    const at = new Date('2026-12-02T10:00:00Z');
    const { driver, calls } = driverWith(OFFSETS, () => [
      { partition: 0, offset: '21' },
      { partition: 1, offset: '12' }, // the driver's answer for "none": the end
      { partition: 2, offset: '-1' }, // a client that passed Kafka's -1 through
    ]);
    expect(await resolveSourceOffsets(driver, 't', [0, 1, 2], { kind: 'timestamp', timestamp: at })).toEqual(
      new Map([
        [0, 21n],
        [1, 12n],
        [2, 7n],
      ]),
    );
    expect(calls).toEqual([`byTime t ${at.getTime()}`, 'offsets t']);
  });

  it('asks the broker nothing for no partition', async () => {
    const { driver, counter } = driverWith(OFFSETS);
    expect(await resolveSourceOffsets(driver, 't', [], { kind: 'latest' })).toEqual(new Map());
    expect(counter.created).toBe(0);
  });

  it('rejects when a partition asked is missing from the answer (nothing is moved then)', async () => {
    const { driver, counter } = driverWith(OFFSETS);
    const error: unknown = await resolveSourceOffsets(driver, 't', [1, 3], { kind: 'earliest' }).catch(
      (e: unknown) => e,
    );
    expect(isGomesError(error) && error.code).toBe('GOMES_ILLEGAL_STATE');
    expect((error as Error).message).toMatch(/no partition 3/);
    expect(counter.disconnected).toBe(1);
  });

  it('a broker that cannot be reached rejects with GOMES_CONNECTION_FAILED naming the topic', async () => {
    const { driver, counter } = driverWith(OFFSETS, undefined, new Error('ECONNREFUSED'));
    const error: unknown = await resolveSourceOffsets(driver, 'orders', [0], { kind: 'latest' }).catch(
      (e: unknown) => e,
    );
    expect(isGomesError(error) && error.code).toBe('GOMES_CONNECTION_FAILED');
    expect((error as Error).message).toMatch(/"latest" offsets of "orders".*ECONNREFUSED/);
    expect(counter.disconnected).toBe(1);
  });
});
