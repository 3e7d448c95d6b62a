// Unit tests of the Kafka source adapter (the consume core's PartitionedSource) with a fake driver:
// what a broker cannot be made to do on demand (crashes, exact join sequences).
import { isGomesError } from '@gomes/core';
import type { SourceListener, SourceRecord } from '@gomes/core/transport';
import { waitFor } from '@gomes/core/testing';
import { setup } from '../test/support/fake-kafka-driver.js';
import { DEFAULT_KAFKA_CONSUMER_OPTIONS, validateKafkaConsumerOptions } from './kafka-consumer-options.js';

/** A listener that records every call; after `hold()`, the next revoke drains on `release()`. */
function recorder() {
  const events: string[] = [];
  const batches: { partition: number; records: readonly SourceRecord[] }[] = [];
  const errors: Error[] = [];
  let releaseRevoke: () => void = () => undefined;
  let holdRevokes = false;
  const listener: SourceListener = {
    assigned: (partitions) => void events.push(`assigned ${partitions.join(',')}`),
    revoked: async (partitions) => {
      events.push(`revoked ${partitions.join(',')}`);
      if (holdRevokes) {
        holdRevokes = false; // only the next revoke is held
        await new Promise<void>((r) => (releaseRevoke = r));
      }
      events.push(`drained ${partitions.join(',')}`);
    },
    batch: async (partition, records) => void batches.push({ partition, records }),
    error: (error) => void errors.push(error),
  };
  return {
    listener,
    events,
    batches,
    errors,
    hold: () => (holdRevokes = true),
    release: () => releaseRevoke(),
  };
}

describe('KafkaSource (fake driver)', () => {
  it('is offered by every non-ephemeral channel; validation rejects several group topics', () => {
    expect(setup().channel.openSource).toBeInstanceOf(Function);
    expect(validateKafkaConsumerOptions(DEFAULT_KAFKA_CONSUMER_OPTIONS)).toEqual([]);
    expect(
      validateKafkaConsumerOptions({ ...DEFAULT_KAFKA_CONSUMER_OPTIONS, groupTopics: ['a', 'b'] }),
    ).toEqual(['groupTopics names 2 topics: a consumer reads one topic; use one consumer channel per topic']);
  });

  it('hands whole batches over, resolves the fetch position once buffered, decodes lazily', async () => {
    const { channel, consumers } = setup();
    const source = channel.openSource!();
    const r = recorder();
    await source.start(r.listener);
    const c = consumers[0]!;
    await waitFor(() => r.events.includes('assigned 0,1'));
    await c.deliver(0, [10, 11, 12], undefined, (o) => Buffer.from(o === 11 ? '{"not json' : `{"o":${o}}`));
    expect(r.batches).toHaveLength(1);
    expect(r.batches[0]!.records.map((x) => x.offset)).toEqual([10n, 11n, 12n]);
    expect(r.batches[0]!.records[0]!.key).toBe('k0');
    expect(c.resolved.get(0)).toBe('12');
    const decoded = r.batches[0]!.records.map((x) => x.decode().ok);
    expect(decoded).toEqual([true, false, true]);
    expect(r.batches[0]!.records[1]!.rawValue).toEqual(Buffer.from('{"not json'));
    expect(source.lag()).toEqual([{ channel: 't', partition: 0, group: 'g', lag: 3 }]);
    await source.commit(new Map([[0, 12n]]));
    expect(c.lastCommit(0)).toBe('12');
    expect(source.lag()).toEqual([{ channel: 't', partition: 0, group: 'g', lag: 1 }]);
    await source.close();
    expect(r.events).toEqual(['assigned 0,1', 'revoked 0,1', 'drained 0,1']);
    expect(c.disconnected).toBe(true);
  });

  it('a commit the client skipped rejects (the core retries it)', async () => {
    const { channel, consumers } = setup();
    const source = channel.openSource!();
    await source.start(recorder().listener);
    consumers[0]!.commitResult = false;
    await expect(source.commit(new Map([[0, 1n]]))).rejects.toThrow(/commit skipped/);
    await source.close();
  });

  it('revokes only the partitions that leave, and hands new ones over once the revoke drained', async () => {
    const { channel, consumers } = setup();
    const source = channel.openSource!();
    const r = recorder();
    await source.start(r.listener);
    const c = consumers[0]!;
    await waitFor(() => r.events.includes('assigned 0,1'));
    r.hold();
    c.join([1, 2]);
    await waitFor(() => r.events.includes('revoked 0'));
    // A batch of the kept partition waits for the transition; nothing of partition 2 before it.
    const batch = c.deliver(1, [5]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.events).toEqual(['assigned 0,1', 'revoked 0']);
    expect(r.batches).toHaveLength(0);
    r.release();
    await batch;
    expect(r.events).toEqual(['assigned 0,1', 'revoked 0', 'drained 0', 'assigned 2']);
    expect(r.batches.map((b) => b.partition)).toEqual([1]);
    // A batch of a partition no longer owned is dropped unresolved (the new owner fetches it).
    await c.deliver(0, [7]);
    expect(r.batches).toHaveLength(1);
    expect(c.resolved.get(0)).toBeUndefined();
    await source.close();
  });

  it('a new member id (evicted) keeps nothing: every partition is revoked and assigned again', async () => {
    const { channel, consumers } = setup();
    const source = channel.openSource!();
    const r = recorder();
    await source.start(r.listener);
    await waitFor(() => r.events.includes('assigned 0,1'));
    consumers[0]!.join([0, 1], 'member-2');
    await waitFor(() => r.events.length === 4);
    expect(r.events).toEqual(['assigned 0,1', 'revoked 0,1', 'drained 0,1', 'assigned 0,1']);
    await source.close();
  });

  it('restarts after a crash (not ready meanwhile), removing the crashed member first', async () => {
    const { channel, consumers } = setup();
    const source = channel.openSource!();
    const r = recorder();
    await source.start(r.listener);
    await waitFor(() => r.events.includes('assigned 0,1'));
    consumers[0]!.listener.onCrash?.(new Error('broker gone'));
    expect(channel.status()).toMatchObject({ state: 'crashed', restarting: true });
    await waitFor(() => consumers.length === 2 && channel.state === 'running');
    expect(consumers[1]!.removedMembers).toEqual(['member-1']);
    expect(r.events).toEqual(['assigned 0,1', 'revoked 0,1', 'drained 0,1', 'assigned 0,1']);
    expect(r.errors.some((e) => isGomesError(e) && e.code === 'GOMES_CONSUMER_CRASHED')).toBe(true);
    await source.close();
    expect(channel.state).toBe('stopped');
  });
});
