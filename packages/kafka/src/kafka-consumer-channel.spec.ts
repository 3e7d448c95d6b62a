// Unit tests of the consumer channel's delivery logic with a fake driver (the real broker is
// exercised by test/integration; these cover what a broker cannot be made to do on demand: crashes).
import { isGomesError, type Delivery } from '@gomes/core';
import { waitFor } from '@gomes/core/testing';
import { setup, tick } from '../test/support/fake-kafka-driver.js';

const offsetOf = (d: Delivery): number => Number(d.position.offset);

describe('KafkaConsumerChannel (fake driver)', () => {
  it('commits only the acked prefix, whatever the ack order', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    const sub = await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(0, [10, 11, 12, 13, 14]);
    await waitFor(() => got.length === 5);
    expect(c.resolved.get(0)).toBe('14');
    await got[1]!.ack();
    await got[3]!.ack();
    await new Promise((r) => setImmediate(r));
    expect(c.lastCommit(0)).toBeUndefined();
    await got[0]!.ack();
    await waitFor(() => c.lastCommit(0) === '12');
    await got[2]!.ack();
    await waitFor(() => c.lastCommit(0) === '14');
    await sub.close();
    expect(c.disconnected).toBe(true);
    expect(channel.state).toBe('stopped');
  });

  it('hands over one delivery at a time across partitions (awaits the handler)', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    let release!: () => void;
    await channel.subscribe(async (d) => {
      got.push(d);
      if (got.length === 1) await new Promise<void>((r) => (release = r));
    });
    await consumers[0]!.deliver(0, [0, 1]);
    await consumers[0]!.deliver(1, [0]);
    await waitFor(() => got.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toHaveLength(1);
    release();
    await waitFor(() => got.length === 3);
    await channel.close();
  });

  it('keeps at most queueCapacity deliveries of a partition in flight; the rest of the fetch is buffered, not re-fetched', async () => {
    const { channel, consumers } = setup({ queueCapacity: 2 });
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(0, [0, 1, 2, 3]);
    await waitFor(() => got.length === 2);
    expect(c.resolved.get(0)).toBe('3'); // the whole batch is taken: nothing is fetched twice
    expect(c.paused.has(0)).toBe(true); // 2 in flight: no further fetches for now
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toHaveLength(2); // no 3rd delivery while 2 are unacked
    await got[0]!.ack();
    await waitFor(() => got.length === 3); // the ack made room: handed over from the buffer
    expect(got.map(offsetOf)).toEqual([0, 1, 2]);
    await got[1]!.ack();
    await waitFor(() => got.length === 4);
    expect(got.map(offsetOf)).toEqual([0, 1, 2, 3]);
    await got[2]!.ack();
    await got[3]!.ack();
    await waitFor(() => !c.paused.has(0) && c.lastCommit(0) === '4');
    await channel.close();
  });

  it('nack invalidates later deliveries and seeks back after the delay', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(0, [0, 1, 2]);
    await waitFor(() => got.length === 3);
    await got[0]!.ack();
    await got[1]!.nack({ delayMs: 30 });
    await got[2]!.ack(); // stale: ignored
    expect(c.paused.has(0)).toBe(true);
    await waitFor(() => c.seeks.some(([p, o]) => p === 0 && o === '1'));
    expect(c.paused.has(0)).toBe(false);
    await waitFor(() => c.lastCommit(0) === '1');
    await c.deliver(0, [1, 2]);
    await waitFor(() => got.length === 5);
    expect(got.slice(3).map((d) => [offsetOf(d), d.deliveryAttempt])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    await channel.close();
  });

  it('drops revoked partitions on rebalance, committing their acked prefix and ignoring late acks', async () => {
    const { channel, consumers } = setup();
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d));
    const c = consumers[0]!;
    await c.deliver(1, [5, 6]);
    await waitFor(() => got.length === 2);
    await got[0]!.ack();
    await waitFor(() => c.lastCommit(1) === '6');
    c.listener.onRebalancing?.();
    expect(channel.state).toBe('rebalancing');
    c.join([0]);
    expect(channel.assignment).toEqual([{ topic: 't', partitions: [0] }]);
    await tick(); // the revoke ran (after the join): partition 1's acked prefix committed
    const commitsBefore = c.commits.length;
    await got[1]!.ack(); // revoked: not committed
    await new Promise((r) => setImmediate(r));
    expect(c.commits.length).toBe(commitsBefore);
    expect(channel.state).toBe('running');
    await channel.close();
  });

  it('reports a crash as GOMES_CONSUMER_CRASHED and restarts with a new client', async () => {
    const { channel, consumers } = setup({ maxRestarts: 2 });
    const errors: Error[] = [];
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d), { onError: (e) => errors.push(e) });
    consumers[0]!.listener.onCrash?.(new Error('KafkaJSGroupCoordinatorNotFound'));
    expect(channel.state).toBe('crashed');
    expect(isGomesError(errors[0]) && errors[0].code).toBe('GOMES_CONSUMER_CRASHED');
    await waitFor(() => consumers.length === 2 && channel.state === 'running');
    expect(consumers[0]!.disconnected).toBe(true);
    await consumers[1]!.deliver(0, [0]);
    await waitFor(() => got.length === 1);
    await channel.close();
  });

  it('gives up after maxRestarts with a non-retriable GOMES_CONSUMER_CRASHED', async () => {
    const { channel, consumers } = setup({ maxRestarts: 0 });
    const errors: Error[] = [];
    await channel.subscribe(async () => undefined, { onError: (e) => errors.push(e) });
    consumers[0]!.listener.onCrash?.(new Error('boom'));
    await waitFor(() => errors.length === 2);
    expect(errors[1]!.message).toMatch(/gave up/);
    expect((errors[1] as { retriable?: boolean }).retriable).toBe(false);
    expect(channel.state).toBe('crashed');
    await channel.close();
  });
});
