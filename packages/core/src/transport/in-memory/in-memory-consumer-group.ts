/**
 * Told by the broker when partitions move to or away from a group member. Calls are synchronous and
 * happen inside `joinGroup` / `leave` (the whole rebalance is atomic): every revocation of a
 * rebalance is reported before any assignment, so a member commits what it acked before another
 * member reads from the committed offset.
 *
 * @public
 */
export interface GroupMemberListener {
  /**
   * These partitions are no longer this member's: commit what is acked and stop reading them. A
   * returned promise delays handing them to their new owner until it settles (revoke drain); the
   * member still owns them (and may commit) meanwhile.
   */
  onPartitionsRevoked(partitions: readonly number[]): void | Promise<void>;
  /** These partitions are now this member's: read them from their committed offset. */
  onPartitionsAssigned(partitions: readonly number[]): void;
}

/**
 * A member's handle on its consumer group (for one topic), returned by `InMemoryBroker.joinGroup`.
 *
 * @public
 */
export interface GroupMembership {
  /** Unique member id (`<groupId>-<n>`). */
  readonly memberId: string;
  /** The consumer group. */
  readonly groupId: string;
  /** The topic consumed. */
  readonly topic: string;
  /** Partitions currently assigned to this member, ascending. Empty after `leave()`. */
  readonly assignment: readonly number[];
  /** The group's committed offset (next offset to read) of `partition`, if any. */
  committed(partition: number): bigint | undefined;
  /**
   * Commits `offset` (the next offset to read) for `partition`. Ignored, returning `false`, when the
   * partition is not assigned to this member any more (a stale member after a rebalance).
   */
  commit(partition: number, offset: bigint): boolean;
  /**
   * Counts one more delivery of `offset` in this group and returns its delivery attempt (1 on first
   * delivery). Counts survive restarts and rebalances until the offset is committed.
   */
  countDelivery(partition: number, offset: bigint): number;
  /** Leaves the group (its partitions go to the remaining members). Idempotent. */
  leave(): void;
}

interface Member {
  readonly id: string;
  readonly listener: GroupMemberListener;
  assignment: number[];
}

/**
 * The state of one consumer group on one topic: committed offsets, delivery counts and members,
 * with partitions split evenly (and stickily) between members and rebalanced on every join and
 * leave. Only moved partitions are revoked.
 *
 * @internal
 */
export class ConsumerGroupState {
  readonly #groupId: string;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #committed = new Map<number, bigint>();
  /** Per partition, delivery counts of uncommitted offsets, in increasing offset order. */
  readonly #deliveries = new Map<number, Map<bigint, number>>();
  readonly #onEmpty: (() => void) | undefined;
  #members: Member[] = [];
  #nextMember = 1;

  /** `onEmpty`: called when the last member left (ephemeral groups are then forgotten). */
  constructor(groupId: string, topic: string, partitions: number, onEmpty?: () => void) {
    this.#groupId = groupId;
    this.#topic = topic;
    this.#partitions = partitions;
    this.#onEmpty = onEmpty;
  }

  /** Committed offsets by partition. */
  get committedOffsets(): ReadonlyMap<number, bigint> {
    return this.#committed;
  }

  /** Assignment of every member, by member id. */
  assignments(): ReadonlyMap<string, readonly number[]> {
    return new Map(this.#members.map((m) => [m.id, [...m.assignment]]));
  }

  /** Adds a member and rebalances. */
  join(listener: GroupMemberListener): GroupMembership {
    const member: Member = { id: `${this.#groupId}-${this.#nextMember++}`, listener, assignment: [] };
    this.#members.push(member);
    this.#rebalance();
    return this.#membership(member);
  }

  #membership(member: Member): GroupMembership {
    const owns = (p: number): boolean => this.#members.includes(member) && member.assignment.includes(p);
    return {
      memberId: member.id,
      groupId: this.#groupId,
      topic: this.#topic,
      get assignment() {
        return [...member.assignment];
      },
      committed: (partition) => this.#committed.get(partition),
      commit: (partition, offset) => {
        if (!owns(partition)) return false;
        this.#commit(partition, offset);
        return true;
      },
      countDelivery: (partition, offset) => {
        let counts = this.#deliveries.get(partition);
        if (!counts) this.#deliveries.set(partition, (counts = new Map<bigint, number>()));
        const attempt = (counts.get(offset) ?? 0) + 1;
        counts.set(offset, attempt);
        return attempt;
      },
      leave: () => {
        const index = this.#members.indexOf(member);
        if (index < 0) return;
        // Revoke while still the owner, so the listener can commit what it acked.
        if (member.assignment.length > 0) void member.listener.onPartitionsRevoked([...member.assignment]);
        member.assignment = [];
        this.#members.splice(index, 1);
        this.#rebalance();
        if (this.#members.length === 0) this.#onEmpty?.();
      },
    };
  }

  #commit(partition: number, offset: bigint): void {
    this.#committed.set(partition, offset);
    const counts = this.#deliveries.get(partition);
    if (!counts) return;
    // Keys were inserted in increasing offset order, so the committed ones are at the front.
    for (const key of counts.keys()) {
      if (key >= offset) break;
      counts.delete(key);
    }
  }

  /**
   * Sticky assignment: member i (in join order) gets a quota of floor(n/m) partitions, +1 for the
   * first n mod m members; each keeps what it owns up to its quota, and free partitions go, lowest
   * first, to members under quota. Only moved partitions are revoked and assigned.
   */
  #rebalance(): void {
    const n = this.#partitions;
    const m = this.#members.length;
    const quota = (i: number): number => Math.floor(n / m) + (i < n % m ? 1 : 0);
    const target = new Map<Member, number[]>();
    const taken = new Set<number>();
    this.#members.forEach((member, i) => {
      const kept = [...member.assignment].sort((x, y) => x - y).slice(0, quota(i));
      kept.forEach((p) => taken.add(p));
      target.set(member, kept);
    });
    const free = Array.from({ length: n }, (_, p) => p).filter((p) => !taken.has(p));
    this.#members.forEach((member, i) => {
      const mine = target.get(member) as number[];
      while (mine.length < quota(i) && free.length > 0) mine.push(free.shift() as number);
      mine.sort((x, y) => x - y);
    });
    const changes = this.#members.map((member) => {
      const next = target.get(member) ?? [];
      return {
        member,
        next,
        revoked: member.assignment.filter((p) => !next.includes(p)),
        assigned: next.filter((p) => !member.assignment.includes(p)),
      };
    });
    const draining: Promise<void>[] = [];
    for (const c of changes) {
      if (c.revoked.length === 0) continue;
      const drained = c.member.listener.onPartitionsRevoked(c.revoked);
      if (drained instanceof Promise) draining.push(drained);
      else c.member.assignment = c.member.assignment.filter((p) => !c.revoked.includes(p));
    }
    const assign = (): void => {
      for (const c of changes) {
        if (!this.#members.includes(c.member)) continue;
        c.member.assignment = c.next;
        if (c.assigned.length > 0) c.member.listener.onPartitionsAssigned(c.assigned);
      }
    };
    if (draining.length === 0) assign();
    // The new owners get the partitions once every revoking member drained them.
    else void Promise.allSettled(draining).then(assign);
  }
}
