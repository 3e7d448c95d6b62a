// A rebalance moves a partition while its old owner still drains a slow handler: the new owner
// handles the partition to its end and commits the end; when the old owner's drain finishes, its
// revoke commit (the done prefix before the held record) must not move the group's committed
// offset back (docs/kafka.md, "Rebalances"). Kafka accepts any commit of a member of the current
// generation, so nothing but the source stops such a late commit.
import 'reflect-metadata';
import { holdsFor } from '@gomes/core/testing';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, waitFor } from '../support/kafka-harness.js';
import { committedOffsets, gate } from '../support/gomes-kafka.js';
import { PARTITIONS, consume, fixture, offsetsIn, range } from '../support/start-position-fixture.js';

afterEach(closeAll);

jest.setTimeout(180_000);

/** The record each partition's first owner holds (ignoring the revoke's abort) until released. */
const HELD_OFFSET = 50;

describe('a revoke commit after a rebalance (consume core)', () => {
  it("never moves the group's committed offset behind what the new owner committed", async () => {
    const f = await fixture();
    const group = uniqueTopic('g-revoke-commit');
    const release = gate();
    const holding = new Set<number>();
    const first = await consume(f, group, {
      startOffset: 'earliest',
      hold: (pos) => {
        if (pos.offset !== HELD_OFFSET) return undefined;
        holding.add(pos.partition);
        return release.promise;
      },
      // Nothing is committed before the rebalance: the revoke commit is the first one's only commit.
      channel: (b) => b.withCommitInterval(600_000),
      consumer: (c) => c.withAmountOfProcessors(PARTITIONS).withRevokeBudget(120_000),
    });
    await waitFor(() => holding.size === PARTITIONS, 30_000, {
      description: `the first member holds offset ${HELD_OFFSET} of every partition`,
    });

    const second = await consume(f, group, { startOffset: 'earliest' });
    const moved = (): number[] =>
      range(0, PARTITIONS).filter((p) => offsetsIn(second.seen, p).includes(f.ends[p]! - 1));
    await waitFor(() => moved().length > 0, 60_000, {
      description: 'the second member handles a moved partition to its end',
    });
    const partition = moved()[0]!;
    await waitFor(
      async () => (await committedOffsets(group, f.topic))[partition] === f.ends[partition],
      30_000,
      {
        description: `the second member commits the end of partition ${partition}`,
      },
    );

    release.open(); // the first member's drain of the moved partition finishes now
    await waitFor(
      () => first.seen.some((pos) => pos.partition === partition && pos.offset === HELD_OFFSET),
      30_000,
      { description: 'the held handler of the moved partition returned on the first member' },
    );
    await holdsFor(
      async () => (await committedOffsets(group, f.topic))[partition] === f.ends[partition],
      3_000,
      {
        description: `partition ${partition} stays committed at its end (${f.ends[partition]})`,
      },
    );
  });
});
