// Unit tests of the subscription's rebalance, commit, restart and dead-letter rules with a fake
// driver (what a broker cannot be made to do on demand: a rebalance at an exact point, an eviction,
// a crash during a restart, a dead-letter topic that refuses records).
import { isGomesError, type Delivery } from '@gomes/core';
import { holdsFor, waitFor } from '@gomes/core/testing';
import type { KafkaDriver } from './driver/kafka-driver.js';
import { setup, tick, type FakeConsumer } from '../test/support/fake-kafka-driver.js';

const at = (d: Delivery): string => `${d.position.partition}:${d.position.offset}`;
const sleep = async (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tooLarge = (): Error =>
  Object.assign(new Error('The request included a message larger than the max message size'), {
    type: 'MESSAGE_TOO_LARGE',
  });

describe('KafkaConsumerSubscription (fake driver)', () => {
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

  it('commits the acked offsets before the batch handler returns when a heartbeat fails (rebalance detected)', async () => {
    const { channel, consumers } = setup({ commitIntervalMs: 60000 }); // no commit per ack
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(0, [0, 1, 2]);
    await waitFor(() => got.length === 3);
    await got[0]!.ack();
    await got[1]!.ack();
    expect(c.commits).toHaveLength(0);
    const rebalancing = Object.assign(new Error('The group is rebalancing'), {
      type: 'REBALANCE_IN_PROGRESS',
    });
    await c.deliver(0, [3], async () => {
      throw rebalancing;
    });
    // Committed while the member still owns the partition, before the driver re-joins.
    expect(c.lastCommit(0)).toBe('2');
    await channel.close();
  });

  it('sends only the rebalance commit while rebalancing; after the join it commits kept partitions and never revoked ones', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(0, [0, 1]);
    await c.deliver(1, [10, 11]);
    await waitFor(() => got.length === 4);
    await got[0]!.ack();
    await waitFor(() => c.lastCommit(0) === '1');
    c.listener.onRebalancing?.();
    await tick();
    const afterRebalanceCommit = c.commits.length;
    await got[1]!.ack(); // 0:1, partition kept
    await got[2]!.ack(); // 1:10, partition revoked by the join below
    await tick();
    await tick();
    expect(c.commits).toHaveLength(afterRebalanceCommit); // nothing while the join is under way
    const atJoin = c.commits.length;
    c.join([0]);
    await waitFor(() => c.lastCommit(0) === '2');
    await got[3]!.ack(); // 1:11, revoked: ignored
    await tick();
    expect(
      c.commits
        .slice(atJoin)
        .flat()
        .filter((o) => o.partition === 1),
    ).toEqual([]);
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

  it('holds hand-over while commits stall (none confirmed for 2 s), so a restart redelivers only what the commit interval allows; resumes once a commit is confirmed', async () => {
    const { channel, consumers } = setup({ commitIntervalMs: 100 });
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => {
      got.push(d);
      await d.ack();
    });
    const c = consumers[0]!;
    c.commitResult = false; // the broker is gone: no commit is confirmed
    await c.deliver(0, [0, 1, 2]);
    await waitFor(() => got.length === 3);
    await sleep(2300);
    await c.deliver(0, [3, 4, 5]);
    await holdsFor(() => got.length === 3, 800, { description: 'nothing handed over while commits stall' });
    c.commitResult = true; // commits go through again
    await waitFor(() => got.length === 6, 3000, { description: 'hand-over resumes' });
    await waitFor(() => c.lastCommit(0) === '6');
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

  it('keeps the record and the partition paused on a non-retriable dead-letter failure, reports it, and retries after a rebalance keeps the partition', async () => {
    let fail = true;
    const { channel, consumers, producers } = setup({}, () => {
      if (fail) throw tooLarge();
    });
    const errors: Error[] = [];
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d), { onError: (e) => errors.push(e) });
    const c = consumers[0]!;
    await c.deliver(0, [0, 1, 2], undefined, (o) => Buffer.from(o === 1 ? 'not json' : '{}'));
    await waitFor(() => errors.length === 1);
    const error = errors[0]!;
    expect(isGomesError(error) && [error.code, error.retriable]).toEqual(['GOMES_DEAD_LETTER_FAILED', false]);
    await got[0]!.ack();
    const ackedAt = Date.now();
    await waitFor(() => c.lastCommit(0) === '1');
    await sleep(50);
    expect(got.map(at)).toEqual(['0:0']); // never skipped past the record it could not store
    expect(c.lastCommit(0)).toBe('1');
    expect(c.paused.has(0)).toBe(true);
    expect(producers.map((p) => [p.sent.length, p.closed])).toEqual([[1, true]]); // not retried, closed
    const p0 = channel.status().partitions.find((p) => p.partition === 0)!;
    expect(p0.lag).toBe(2);
    expect(p0.lastProgressAt).toBeLessThanOrEqual(ackedAt); // health sees no progress

    fail = false;
    c.listener.onRebalancing?.();
    c.join([0, 1]);
    await waitFor(() => got.length === 2);
    expect(at(got[1]!)).toBe('0:2');
    expect(channel.deadLettered).toBe(1);
    await got[1]!.ack();
    await waitFor(() => c.lastCommit(0) === '3');
    await channel.close();
    expect(producers.every((p) => p.closed)).toBe(true);
  });
});
