// The subscription on a PartitionedSource (ConsumerChannel.subscribe of every transport), driven by
// a scripted source: what the Kafka and in-memory subscriptions asserted (rewind on nack, gap-safe
// commits, queueCapacity pause, revoke drop, undecodable dead letters) on the one implementation.
import type { Delivery } from '../channel/consumer-channel.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { noopLogger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import { holdsFor, waitFor } from '../testing/wait-for.js';
import { ScriptedSource, sourceRecord } from '../../test/support/scripted-source.js';
import { SourceSubscription, type SourceSubscriptionParams } from './source-subscription.js';

const at = (d: Delivery): string => `${d.position.partition}:${d.position.offset}`;

async function subscribe(
  overrides: Partial<SourceSubscriptionParams> = {},
  source = new ScriptedSource(),
): Promise<{ source: ScriptedSource; got: Delivery[]; errors: Error[]; subscription: SourceSubscription }> {
  const got: Delivery[] = [];
  const errors: Error[] = [];
  const subscription = new SourceSubscription({
    name: 'worker',
    source,
    handler: async (d) => void got.push(d),
    queueCapacity: 100,
    onError: (e) => errors.push(e),
    deadLetters: undefined,
    logger: noopLogger,
    rejectedRedeliveryDelayMs: 5,
    deadLetterRetryDelayMs: 5,
    ...overrides,
  });
  await subscription.start();
  return { source, got, errors, subscription };
}

function feed(
  source: ScriptedSource,
  partition: number,
  offsets: number[],
  undecodable: number[] = [],
): void {
  void source.listener.batch(
    partition,
    offsets.map((o) => sourceRecord(o, `k${o}`, undecodable.includes(o))),
  );
}

describe('SourceSubscription', () => {
  it('hands over each partition in offset order and commits only the acked prefix, whatever the ack order', async () => {
    const { source, got, subscription } = await subscribe();
    source.listener.assigned([0, 1]);
    feed(source, 0, [10, 11, 12]);
    feed(source, 1, [5, 6]);
    await waitFor(() => got.length === 5);
    expect(got.filter((d) => d.position.partition === 0).map(at)).toEqual(['0:10', '0:11', '0:12']);
    expect(got.filter((d) => d.position.partition === 1).map(at)).toEqual(['1:5', '1:6']);
    expect(got[0]!.position).toEqual({ channel: 'orders', partition: 0, offset: '10', group: 'g' });
    await got.find((d) => at(d) === '0:12')!.ack();
    await got.find((d) => at(d) === '0:11')!.ack();
    expect(source.committed(0)).toBeUndefined(); // 10 is not acked: nothing past it
    await got.find((d) => at(d) === '0:10')!.ack();
    await waitFor(() => source.committed(0) === 13n);
    await got.find((d) => at(d) === '1:6')!.ack();
    await holdsFor(() => (source.committed(1) ?? 5n) === 5n, 20); // 5 is not acked
    await subscription.close();
    expect(source.closed).toBe(true);
  });

  it('nack rewinds the partition to the nacked offset after the delay: it and later records come again with deliveryAttempt + 1; late acks are ignored', async () => {
    const { source, got, subscription } = await subscribe();
    source.listener.assigned([0]);
    feed(source, 0, [0, 1, 2]);
    await waitFor(() => got.length === 3);
    await got[1]!.nack({ delayMs: 20 });
    expect(source.paused.has(0)).toBe(true);
    expect(source.seeks).toEqual([]); // not before the delay
    await got[2]!.ack(); // stale: invalidated by the rewind
    await got[0]!.ack();
    await waitFor(() => source.committed(0) === 1n);
    feed(source, 0, [3]); // fetched before the seek: dropped
    await waitFor(() => source.seeks.length === 1);
    expect(source.seeks).toEqual([[0, 1n]]);
    expect(source.paused.has(0)).toBe(false);
    feed(source, 0, [1, 2, 3]);
    await waitFor(() => got.length === 6);
    expect(got.map(at)).toEqual(['0:0', '0:1', '0:2', '0:1', '0:2', '0:3']);
    expect(got.map((d) => d.deliveryAttempt)).toEqual([1, 1, 1, 2, 2, 1]);
    for (const d of got.slice(3)) await d.ack();
    await waitFor(() => source.committed(0) === 4n);
    await subscription.close();
  });

  it('a handler that rejects is reported and its delivery redelivered', async () => {
    let calls = 0;
    const got: Delivery[] = [];
    const { source, errors, subscription } = await subscribe({
      handler: async (d) => {
        got.push(d);
        if (++calls === 1) throw new Error('no room');
        await d.ack();
      },
    });
    source.listener.assigned([0]);
    feed(source, 0, [7]);
    await waitFor(() => source.seeks.length === 1);
    feed(source, 0, [7]);
    await waitFor(() => source.committed(0) === 8n);
    expect(errors.map((e) => e.message)).toEqual(['no room']);
    expect(got.map((d) => d.deliveryAttempt)).toEqual([1, 2]);
    await subscription.close();
  });

  it('hands over at most queueCapacity unsettled per partition, pausing the source when its buffer is full and resuming when acks make room', async () => {
    const { source, got, subscription } = await subscribe({ queueCapacity: 2 });
    source.listener.assigned([0, 1]);
    feed(source, 0, [0, 1, 2, 3]);
    feed(source, 1, [0]);
    await waitFor(() => got.length === 3);
    await holdsFor(() => got.length === 3, 30);
    expect(got.filter((d) => d.position.partition === 0)).toHaveLength(2);
    expect(source.paused.has(0)).toBe(true);
    expect(source.paused.has(1)).toBe(false);
    await got[0]!.ack();
    await waitFor(() => got.length === 4);
    expect(source.paused.has(0)).toBe(true); // 3 fetched and unsettled
    for (const d of got.filter((g) => g.position.partition === 0)) await d.ack();
    await waitFor(() => got.length === 5);
    await got[4]!.ack();
    expect(source.paused.has(0)).toBe(false);
    expect(subscription.unsettled).toBe(1); // 1:0
    await subscription.close();
  });

  it('maxUnsettled bounds the deliveries handed over and unsettled over all partitions', async () => {
    const { source, got, subscription } = await subscribe({ queueCapacity: 2, maxUnsettled: 2 });
    source.listener.assigned([0, 1, 2]);
    feed(source, 0, [0]);
    feed(source, 1, [0]);
    feed(source, 2, [0]);
    await waitFor(() => got.length === 2);
    await holdsFor(() => got.length === 2, 30);
    await got[0]!.ack();
    await waitFor(() => got.length === 3);
    await subscription.close();
  });

  it('a nack under maxUnsettled frees its room for the other partitions at once, not when its redelivery delay ends', async () => {
    const { source, got, subscription } = await subscribe({ queueCapacity: 2, maxUnsettled: 2 });
    source.listener.assigned([0, 1]);
    feed(source, 0, [0]);
    feed(source, 1, [0, 1]);
    await waitFor(() => got.length === 2);
    await holdsFor(() => got.length === 2, 30);
    await got.find((d) => at(d) === '0:0')!.nack({ delayMs: 60_000 });
    await waitFor(() => got.length === 3, 1000);
    expect(at(got[2]!)).toBe('1:1');
    await subscription.close();
  });

  it('revoke stops handing the partition over, drops its unsettled deliveries (never acked later) and commits what is done', async () => {
    const { source, got, subscription } = await subscribe({ queueCapacity: 1 });
    source.listener.assigned([0]);
    feed(source, 0, [0, 1, 2]);
    await waitFor(() => got.length === 1);
    await got[0]!.ack();
    await waitFor(() => got.length === 2);
    await source.listener.revoked([0]);
    expect(source.committed(0)).toBe(1n);
    await got[1]!.ack(); // of the previous ownership: ignored
    await holdsFor(() => got.length === 2 && source.committed(0) === 1n, 30);
    source.listener.assigned([0]); // owned again: starts over from what the source fetches
    feed(source, 0, [1, 2]);
    await waitFor(() => got.length === 3);
    expect(at(got[2]!)).toBe('0:1');
    await subscription.close();
  });

  it('sends an undecodable record to the dead-letter channel (retrying a failed write), never hands it over, and commits past it', async () => {
    const sent: Message[] = [];
    let failures = 1;
    const deadLetters: PublisherChannel = {
      name: 'orders.DLQ',
      send: async (m) => {
        if (failures-- > 0) throw new Error('broker down');
        sent.push(m);
      },
      close: async () => undefined,
    };
    const got: Delivery[] = [];
    const { source, errors, subscription } = await subscribe({
      deadLetters,
      handler: async (d) => {
        got.push(d);
        await d.ack();
      },
    });
    source.listener.assigned([0]);
    feed(source, 0, [0, 1, 2], [1]);
    await waitFor(() => source.committed(0) === 3n);
    expect(got.map(at)).toEqual(['0:0', '0:2']);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.header('gomes.dlq.sourceOffset')).toBe('1');
    expect(sent[0]!.header('gomes.partitionKey')).toBe('k1');
    expect(sent[0]!.payload).toBe('{"broken');
    expect(errors.map((e) => e.message)).toEqual(['not json', 'broker down']);
    await subscription.close();
  });

  it('without a dead-letter channel an undecodable record is reported and committed past', async () => {
    const { source, got, errors, subscription } = await subscribe();
    source.listener.assigned([0]);
    feed(source, 0, [0], [0]);
    await waitFor(() => source.committed(0) === 1n);
    expect(got).toHaveLength(0);
    expect(errors).toHaveLength(1);
    await subscription.close();
  });

  it('after stop() hands nothing over but still commits acks; after close() acks are ignored', async () => {
    const { source, got, subscription } = await subscribe();
    source.listener.assigned([0]);
    feed(source, 0, [0, 1]);
    await waitFor(() => got.length === 2);
    await subscription.stop();
    expect(source.paused.has(0)).toBe(true);
    feed(source, 0, [2]);
    await got[0]!.ack();
    await waitFor(() => source.committed(0) === 1n);
    await holdsFor(() => got.length === 2, 20);
    await subscription.close();
    await got[1]!.ack();
    await holdsFor(() => source.committed(0) === 1n, 20);
  });

  it('an ack while close() commits starts no commit timer: nothing of the subscription outlives close()', async () => {
    let releaseCommit = (): void => undefined;
    class SlowCommits extends ScriptedSource {
      readonly commitIntervalMs = 60_000;
      override async commit(offsets: ReadonlyMap<number, bigint>): Promise<void> {
        await new Promise<void>((resolve) => (releaseCommit = resolve));
        return super.commit(offsets);
      }
    }
    const { source, got, subscription } = await subscribe({}, new SlowCommits());
    const set = jest.spyOn(global, 'setTimeout');
    const clear = jest.spyOn(global, 'clearTimeout');
    // Commit-interval timers started and neither cleared nor fired (60 s: none fires here).
    const live = (): unknown[] =>
      set.mock.calls
        .map((call, i): unknown => (call[1] === 60_000 ? (set.mock.results[i]!.value as unknown) : undefined))
        .filter((handle) => handle !== undefined && !clear.mock.calls.some((c) => c[0] === handle));
    try {
      source.listener.assigned([0]);
      feed(source, 0, [0, 1]);
      await waitFor(() => got.length === 2);
      await got[0]!.ack(); // starts the commit interval's timer
      expect(live()).toHaveLength(1);
      const closed = subscription.close(); // cancels it and commits offset 1 (held by the source)
      await waitFor(() => live().length === 0);
      await got[1]!.ack(); // while the close commit is under way
      releaseCommit();
      await closed;
      expect(source.commits.map((c) => c.get(0))).toEqual([1n]);
      expect(live()).toHaveLength(0);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it('reports source errors through onError', async () => {
    const { source, errors, subscription } = await subscribe();
    source.listener.error(new Error('client crashed'));
    expect(errors.map((e) => e.message)).toEqual(['client crashed']);
    await subscription.close();
  });
});
