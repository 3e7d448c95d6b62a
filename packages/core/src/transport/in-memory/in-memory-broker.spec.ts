import { ConfigurationError } from '../../errors/configuration-error.js';
import { MessageBuilder } from '../../message/message-builder.js';
import { InMemoryBroker } from './in-memory-broker.js';
import type { GroupMemberListener } from './in-memory-consumer-group.js';
import { PARTITION_KEY_HEADER, partitionKeyOf } from '../../message/message-headers.js';
import { murmur2, partitionForKey } from './partition-key.js';

const msg = (payload: unknown, key?: string) => {
  const b = MessageBuilder.withPayload(payload);
  if (key !== undefined) b.header(PARTITION_KEY_HEADER, key);
  return b.build();
};

describe('partition keys', () => {
  it('murmur2 matches the Kafka Java client test vectors', () => {
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2('abc')).toBe(479470107);
  });

  it('is stable and spreads keys over partitions', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(`customer-${i}`, 4);
      expect(partitionForKey(`customer-${i}`, 4)).toBe(p);
      counts[p]!++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(150);
  });

  it('uses the partition key header, else correlationId, else messageId', () => {
    const m = MessageBuilder.withPayload(1).correlationId('c').header(PARTITION_KEY_HEADER, 'k').build();
    expect(partitionKeyOf(m.headers)).toBe('k');
    expect(partitionKeyOf(MessageBuilder.from(m).without(PARTITION_KEY_HEADER).build().headers)).toBe('c');
    const plain = MessageBuilder.withPayload(1).build();
    expect(partitionKeyOf(plain.headers)).toBe(plain.messageId);
    expect(partitionKeyOf({ correlationId: 'c2' })).toBe('c2');
    expect(partitionKeyOf({})).toBe('');
  });
});

describe('InMemoryBroker', () => {
  it('rejects invalid options, listing every problem', () => {
    expect(() => new InMemoryBroker({ defaultPartitions: 0, bogus: 1 } as never)).toThrow(ConfigurationError);
    try {
      new InMemoryBroker({ defaultPartitions: 0, bogus: 1 } as never);
    } catch (e) {
      expect((e as ConfigurationError).problems).toHaveLength(2);
    }
  });

  it('creates topics once; an existing topic keeps its partitions', () => {
    const broker = new InMemoryBroker({ defaultPartitions: 2 });
    expect(broker.createTopic('a')).toBe(2);
    expect(broker.createTopic('a', 5)).toBe(2);
    expect(broker.createTopic('b', 5)).toBe(5);
    expect(broker.topics().sort()).toEqual(['a', 'b']);
    expect(() => broker.createTopic('c', 0)).toThrow(ConfigurationError);
    expect(() => broker.partitionCount('missing')).toThrow(
      expect.objectContaining({ code: 'GOMES_NOT_FOUND' }),
    );
  });

  it('puts messages with equal keys in the same partition, in order, across broker instances', () => {
    const one = new InMemoryBroker();
    const two = new InMemoryBroker();
    one.createTopic('t', 8);
    two.createTopic('t', 8);
    for (let i = 0; i < 20; i++) {
      const a = one.publish('t', msg({ i }, 'order-42'));
      const b = two.publish('t', msg({ i }, 'order-42'));
      expect(a.partition).toBe(b.partition);
      expect(a.offset).toBe(BigInt(i));
      expect(a.key).toBe('order-42');
    }
    const p = partitionForKey('order-42', 8);
    expect(one.records('t', p).map((r) => (one.decode(r).payload as { i: number }).i)).toEqual([
      ...Array(20).keys(),
    ]);
    expect(one.endOffset('t', p)).toBe(20n);
  });

  it('stores messages serialised: consumers get fresh copies, later mutations do not leak', () => {
    const broker = new InMemoryBroker();
    const payload = { list: [1, 2], when: new Date('2024-01-01T00:00:00Z') };
    const original = msg(payload, 'k');
    const record = broker.publish('t', original);
    payload.list.push(3);
    const first = broker.decode(record);
    const second = broker.decode(record);
    expect(first.payload).toEqual({ list: [1, 2], when: '2024-01-01T00:00:00.000Z' });
    expect(first.payload).not.toBe(second.payload);
    expect(first.headers).toEqual(original.headers);
  });

  it.each([
    ['a BigInt', { n: 1n }],
    ['a function', { f: () => 1 }],
    ['a symbol', { s: Symbol('x') }],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {};
        o['self'] = o;
        return o;
      })(),
    ],
  ])('rejects %s payload with a non-retriable GOMES_PUBLISH_FAILED', (_, payload) => {
    const broker = new InMemoryBroker();
    expect(() => broker.publish('t', msg(payload))).toThrow(
      expect.objectContaining({ code: 'GOMES_PUBLISH_FAILED', retriable: false }),
    );
    expect(broker.hasTopic('t')).toBe(false);
  });

  it('notifies append listeners until removed', () => {
    const broker = new InMemoryBroker();
    const seen: bigint[] = [];
    const off = broker.onAppend('t', (r) => seen.push(r.offset));
    broker.publish('t', msg(1));
    off();
    broker.publish('t', msg(2));
    expect(seen).toEqual([0n]);
  });
});

describe('InMemoryBroker consumer groups', () => {
  const recorder = (log: string[], name: string): GroupMemberListener => ({
    onPartitionsAssigned: (ps) => void log.push(`${name}+${ps.join(',')}`),
    onPartitionsRevoked: (ps) => void log.push(`${name}-${ps.join(',')}`),
  });

  it('splits partitions between members and rebalances on join and leave, revoking before assigning', () => {
    const broker = new InMemoryBroker();
    broker.createTopic('t', 4);
    const log: string[] = [];
    const a = broker.joinGroup('g', 't', recorder(log, 'a'));
    expect(a.assignment).toEqual([0, 1, 2, 3]);
    const b = broker.joinGroup('g', 't', recorder(log, 'b'));
    expect(a.assignment).toEqual([0, 1]);
    expect(b.assignment).toEqual([2, 3]);
    expect(log).toEqual(['a+0,1,2,3', 'a-2,3', 'b+2,3']);
    log.length = 0;
    const c = broker.joinGroup('g', 't', recorder(log, 'c'));
    expect([...broker.groupAssignments('g', 't').values()]).toEqual([[0, 1], [2], [3]]);
    expect(log).toEqual(['b-3', 'c+3']); // sticky: only the moved partition is revoked
    log.length = 0;
    a.leave();
    a.leave();
    expect(a.assignment).toEqual([]);
    expect(b.assignment).toEqual([0, 2]);
    expect(c.assignment).toEqual([1, 3]);
    expect(log).toEqual(['a-0,1', 'b+0', 'c+1']);
  });

  it('lets a revoked member commit, and ignores commits of partitions it no longer owns', () => {
    const broker = new InMemoryBroker();
    broker.createTopic('t', 2);
    let a = undefined as unknown as ReturnType<InMemoryBroker['joinGroup']>;
    a = broker.joinGroup('g', 't', {
      onPartitionsAssigned: () => undefined,
      onPartitionsRevoked: (ps) => ps.forEach((p) => expect(a.commit(p, 7n)).toBe(true)),
    });
    broker.joinGroup('g', 't', {
      onPartitionsAssigned: () => undefined,
      onPartitionsRevoked: () => undefined,
    });
    expect(broker.committedOffset('g', 't', 1)).toBe(7n);
    expect(a.commit(1, 9n)).toBe(false);
    expect(broker.committedOffset('g', 't', 1)).toBe(7n);
  });

  it('keeps committed offsets and delivery counts per group, across members', () => {
    const broker = new InMemoryBroker();
    broker.createTopic('t', 1);
    const listener = { onPartitionsAssigned: () => undefined, onPartitionsRevoked: () => undefined };
    const m1 = broker.joinGroup('g', 't', listener);
    expect(m1.countDelivery(0, 0n)).toBe(1);
    expect(m1.countDelivery(0, 1n)).toBe(1);
    m1.leave();
    const m2 = broker.joinGroup('g', 't', listener);
    expect(m2.countDelivery(0, 0n)).toBe(2);
    m2.commit(0, 1n);
    expect(m2.committed(0)).toBe(1n);
    expect(m2.countDelivery(0, 1n)).toBe(2);
    expect(broker.committedOffset('other', 't', 0)).toBeUndefined();
    const other = broker.joinGroup('other', 't', listener);
    expect(other.countDelivery(0, 0n)).toBe(1);
  });
});
