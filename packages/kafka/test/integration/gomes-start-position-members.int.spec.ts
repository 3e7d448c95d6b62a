// A start position with several members of one group (each driver of the run), over committed
// offsets: docs/replay.md says each member applies it at the first assignment of each partition it
// gets after `run()`. Two members join one after the other (a rebalance moves partitions from the
// first to the second); no record is handled before both applied it. Every record at or after the
// timestamp must be handled again, none before it, and every member must start each partition it
// handled at the start position (the committed offset, the end, must not win on the second member).
import 'reflect-metadata';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, waitFor } from '../support/kafka-harness.js';
import { gate } from '../support/gomes-kafka.js';
import {
  PARTITIONS,
  PER_PHASE,
  committedAt,
  consume,
  fixture,
  groupAtEnd,
  offsetsIn,
  type Running,
} from '../support/start-position-fixture.js';

afterEach(closeAll);

jest.setTimeout(180_000);

const applied = (run: Running): boolean => run.logger.messages.includes('Start position applied');

describe('a start position with several members (consume core)', () => {
  it('every member applies it to the partitions it gets: all records from the timestamp again, none before', async () => {
    const f = await fixture();
    const group = uniqueTopic('g-sps-members');
    await groupAtEnd(f, group);

    const bothApplied = gate();
    const hold = (): Promise<void> => bothApplied.promise;
    const start = { kind: 'timestamp', timestamp: f.at } as const;
    const first = await consume(f, group, { start, hold });
    await waitFor(() => applied(first), 30_000, { description: 'first member applied the start position' });
    const second = await consume(f, group, { start, hold });
    await waitFor(() => applied(second), 60_000, { description: 'second member applied the start position' });
    bothApplied.open();

    const phaseB = (run: Running): string[] => run.ids.filter((id) => f.byId.get(id)?.phase === 'b');
    await waitFor(() => new Set([...phaseB(first), ...phaseB(second)]).size === PER_PHASE, 60_000, {
      description: `${PER_PHASE} phase-b records handled by the two members`,
    });
    await committedAt(group, f.topic, f.ends);

    for (const run of [first, second]) {
      const seen = run.seen;
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((x) => x.phase === 'a')).toEqual([]);
      for (let p = 0; p < PARTITIONS; p++) {
        const offsets = offsetsIn(seen, p);
        if (offsets.length > 0) expect(Math.min(...offsets)).toBe(f.firstB[p]);
      }
    }
  });
});
