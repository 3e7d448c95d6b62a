// Unit tests of KafkaConsumerChannel.subscribe (core SourceSubscription on a KafkaSource): rebalance, commit, restart and dead-letter rules with a fake
// driver (what a broker cannot be made to do on demand: a rebalance at an exact point, an eviction,
// a crash during a restart, a dead-letter topic that refuses records).
import { isGomesError, type Delivery } from '@gomes/core';
import { waitFor } from '@gomes/core/testing';
import type { KafkaDriver } from './driver/kafka-driver.js';
import { setup, tick, type FakeConsumer } from '../test/support/fake-kafka-driver.js';

const at = (d: Delivery): string => `${d.position.partition}:${d.position.offset}`;
const sleep = async (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('KafkaConsumerChannel.subscribe (fake driver): rebalance, restart, dead letters', () => {
  it('hands over a record skipped at its turn because a rebalance started once the rebalance keeps its partition, and commits past it', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    let release!: () => void;
    await channel.subscribe(async (d) => {
      got.push(d);
      if (got.length === 1) await new Promise<void>((r) => (release = r)); // the handler is busy
    });
    const c = consumers[0]!;
    await c.deliver(0, [0, 1, 2]); // 0:0 handed over, the handler blocks
    await c.deliver(1, [100, 101, 102]); // 1:100 taken, waits for its turn
    await tick();
    c.listener.onRebalancing?.(); // 1:100 is no longer wanted when its turn comes
    release();
    await tick();
    await tick();
    c.join([0, 1]); // the rebalance keeps both partitions
    await waitFor(() => got.length === 6, 2000, {
      description: `6 deliveries, got ${got.map(at).join(' ')}`,
    });
    expect(got.filter((d) => d.position.partition === 1).map(at)).toEqual(['1:100', '1:101', '1:102']);
    for (const d of got) await d.ack();
    await waitFor(() => c.lastCommit(1) === '103' && c.lastCommit(0) === '3');
    expect(channel.consumerLag()).toEqual([
      { channel: 't', partition: 0, group: 'g', lag: 0 },
      { channel: 't', partition: 1, group: 'g', lag: 0 },
    ]);
    await channel.close();
  });

  it('close() during a crash restart disconnects the restarting member (never runs it), ends stopped and can subscribe again', async () => {
    const { channel, consumers, driver } = setup();
    await channel.subscribe(async () => undefined, { onError: () => undefined });
    let openGate!: () => void;
    const create = driver.createConsumer.bind(driver);
    (driver as { createConsumer: KafkaDriver['createConsumer'] }).createConsumer = (o) => {
      const c = create(o) as FakeConsumer;
      c.connectGate = new Promise<void>((r) => (openGate = r));
      return c;
    };
    consumers[0]!.listener.onCrash?.(new Error('boom'));
    await waitFor(() => consumers.length === 2);
    const closing = channel.close();
    await sleep(10);
    openGate(); // the restart's connect completes after close()
    await closing;
    await sleep(10);
    const restarted = consumers[1]!;
    expect(restarted.disconnected).toBe(true);
    expect(restarted.runs).toBe(0);
    expect(restarted.handler).toBeUndefined();
    expect(channel.state).toBe('stopped');

    (driver as { createConsumer: KafkaDriver['createConsumer'] }).createConsumer = create;
    await channel.subscribe(async () => undefined);
    expect(channel.state).toBe('running');
    await channel.close();
  });

  it('revokes every partition when the member re-joins with a new member id (evicted), even one assigned again', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(0, [0, 1]);
    await waitFor(() => got.length === 2);
    await got[0]!.ack();
    await waitFor(() => c.lastCommit(0) === '1');
    c.join([0, 1], 'member-2'); // kafkajs re-joins after UNKNOWN_MEMBER_ID without a rebalance event
    await tick(); // the revoke of the old membership ran
    const atJoin = c.commits.length;
    await got[1]!.ack(); // delivered to the old membership: stale
    await tick();
    expect(c.commits).toHaveLength(atJoin);
    await c.deliver(0, [1]); // the new member fetches from the committed offset
    await waitFor(() => got.length === 3);
    expect(at(got[2]!)).toBe('0:1');
    await got[2]!.ack();
    await waitFor(() => c.lastCommit(0) === '2');
    await channel.close();
  });

  it('drops a batch of a partition outside the latest assignment without resolving its offsets', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(5, [0, 1]); // never assigned
    c.listener.onRebalancing?.();
    c.join([0]);
    await c.deliver(1, [7]); // revoked by the join
    await tick();
    expect(got).toEqual([]);
    expect(c.resolved.has(5)).toBe(false);
    expect(c.resolved.has(1)).toBe(false);
    expect(channel.assignment).toEqual([{ topic: 't', partitions: [0] }]);
    await channel.close();
  });

  it('marks offsets committed only when the driver confirms the commit', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    c.commitResult = false; // the client skipped it (e.g. not running)
    await c.deliver(0, [0]);
    await waitFor(() => got.length === 1);
    await got[0]!.ack();
    await waitFor(() => c.lastCommit(0) === '1');
    const skipped = c.commits.length;
    c.commitResult = true;
    await channel.commit();
    expect(c.commits).toHaveLength(skipped + 1); // sent again
    await channel.commit();
    expect(c.commits).toHaveLength(skipped + 1); // now known to be committed
    await channel.close();
  });

  it('restarts a crashed client for as long as it takes by default, and removes the crashed member from the group before it joins again', async () => {
    const { channel, consumers, driver } = setup();
    const errors: Error[] = [];
    await channel.subscribe(async () => undefined, { onError: (e) => errors.push(e) });
    expect(consumers[0]!.memberId).toBe('member-1');
    // The broker is gone: every restart fails to connect, many more times than the old default of 5.
    let down = true;
    const create = driver.createConsumer.bind(driver);
    (driver as { createConsumer: KafkaDriver['createConsumer'] }).createConsumer = (o) => {
      const c = create(o) as FakeConsumer;
      c.memberId = `member-${consumers.length}`;
      if (down) c.connectError = new Error('connect ECONNREFUSED');
      return c;
    };
    consumers[0]!.listener.onCrash?.(new Error('Connection error: connect ECONNREFUSED'));
    await waitFor(() => consumers.length >= 12, 5000, { description: 'a dozen restart attempts' });
    expect(channel.state).toBe('crashed');
    expect(channel.status()).toMatchObject({ state: 'crashed', restarting: true });
    expect(errors.every((e) => isGomesError(e) && e.code === 'GOMES_CONSUMER_CRASHED' && e.retriable)).toBe(
      true,
    );
    expect(errors.some((e) => /gave up/.test(e.message))).toBe(false);

    // An attempt under way (connect still trying) is not a rebalance: health stays not ready.
    let reachable!: () => void;
    const hanging = new Promise<void>((r) => (reachable = r));
    down = false;
    (driver as { createConsumer: KafkaDriver['createConsumer'] }).createConsumer = (o) => {
      const c = create(o) as FakeConsumer;
      c.memberId = `member-${consumers.length}`;
      c.connectGate = hanging;
      return c;
    };
    await waitFor(() => consumers.at(-1)!.connectGate === hanging);
    await sleep(20);
    expect(channel.status()).toMatchObject({ state: 'crashed', restarting: true });
    reachable(); // the broker is back
    await waitFor(() => channel.state === 'running', 5000);
    expect(channel.status()).toMatchObject({ state: 'running', restarting: false });
    const restarted = consumers.at(-1)!;
    // The member that crashed (it could not leave) is removed before the new client joins.
    expect(restarted.removedMembers).toEqual(['member-1']);
    expect(consumers.slice(1, -1).every((c) => c.removedMembers.length === 0)).toBe(true); // never connected
    await channel.close();
  });

  it('joins anyway when the crashed member cannot be removed, and removes it on a later restart', async () => {
    const { channel, consumers, driver } = setup();
    await channel.subscribe(async () => undefined, { onError: () => undefined });
    const create = driver.createConsumer.bind(driver);
    let refuse = true;
    (driver as { createConsumer: KafkaDriver['createConsumer'] }).createConsumer = (o) => {
      const c = create(o) as FakeConsumer;
      c.memberId = `member-${consumers.length}`;
      if (refuse) c.removeMemberError = new Error('The coordinator is loading');
      refuse = false;
      return c;
    };
    consumers[0]!.listener.onCrash?.(new Error('crash 1'));
    await waitFor(() => consumers.length === 2 && channel.state === 'running');
    expect(consumers[1]!.removedMembers).toEqual([]);
    consumers[1]!.listener.onCrash?.(new Error('crash 2'));
    await waitFor(() => consumers.length === 3 && channel.state === 'running');
    // Its own member (member-2, joined after the first restart) replaces the one it could not remove.
    expect(consumers[2]!.removedMembers).toEqual(['member-2']);
    await channel.close();
  });

  it('after giving up on restarts releases its dead-letter producer and can be replaced by subscribing again', async () => {
    const { channel, consumers, producers } = setup({ maxRestarts: 0 });
    const errors: Error[] = [];
    await channel.subscribe(async () => undefined, { onError: (e) => errors.push(e) });
    await consumers[0]!.deliver(0, [0], undefined, () => Buffer.from('not json'));
    await waitFor(() => producers[0]?.sent.length === 1);
    consumers[0]!.listener.onCrash?.(new Error('boom'));
    await waitFor(() => errors.some((e) => /gave up/.test(e.message)));
    expect(producers.every((p) => p.closed)).toBe(true);
    expect(channel.state).toBe('crashed');

    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    expect(channel.state).toBe('running');
    await consumers.at(-1)!.deliver(0, [1]);
    await waitFor(() => got.length === 1);
    await channel.close();
  });
});
