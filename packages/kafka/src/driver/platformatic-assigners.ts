/**
 * Classic-protocol partition assigners of the platformatic driver. Their protocol names and
 * assignments are those of the kafkajs driver, so members of both drivers can share a consumer
 * group (a rolling switch of drivers keeps the group working; see docs/kafka.md).
 *
 * @packageDocumentation
 */
import type { GroupPartitionsAssigner, GroupPartitionsAssignments } from '@platformatic/kafka';

/** A classic group protocol: the assignor's name and version, and its assigner. @internal */
export interface ClassicAssignor {
  readonly protocol: { name: string; version: number };
  readonly assign: GroupPartitionsAssigner;
}

/**
 * kafkajs' `RoundRobinAssigner` (kafkajs' default): members sorted by id, every partition of every
 * subscribed topic dealt out in turn.
 *
 * @internal
 */
export const roundRobinAssignor: ClassicAssignor = {
  protocol: { name: 'RoundRobinAssigner', version: 0 },
  assign: (_current, members, topics, metadata) => {
    const memberIds = [...members.keys()].sort();
    const result = memberIds.map((memberId) => ({ memberId, assignments: new Map() }));
    let turn = 0;
    for (const topic of topics) {
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      for (let partition = 0; partition < count; partition++) {
        const member = result[turn++ % result.length] as GroupPartitionsAssignments;
        const entry = member.assignments.get(topic) ?? { topic, partitions: [] as number[] };
        entry.partitions.push(partition);
        member.assignments.set(topic, entry);
      }
    }
    return result;
  },
};

/**
 * The kafkajs driver's fixed-partitions assigner (`withPartition(n)`): `partitions` of each subscribed
 * topic to the first member by id; the others stand by with nothing.
 *
 * @internal
 */
export function fixedPartitionsAssignor(partitions: readonly number[]): ClassicAssignor {
  const sorted = [...partitions].sort((a, b) => a - b);
  return {
    protocol: { name: `gomes-fixed-partitions-${sorted.join('_')}`, version: 1 },
    assign: (_current, members, topics) =>
      [...members.keys()].sort().map((memberId, index) => ({
        memberId,
        assignments: new Map(
          index === 0 ? [...topics].map((topic) => [topic, { topic, partitions: [...sorted] }]) : [],
        ),
      })),
  };
}
