// Unit tests of the Kafka source's seek and position resolution with a fake driver: a batch fetched
// before a seek of its partition is never handed to the core after it (the core's fresh intake
// would start tracking at the stale offsets), and resolveOffsets asks the broker's list-offsets.
import type { SourceListener, SourceRecord } from '@gomes/core/transport';
import { waitFor } from '@gomes/core/testing';
import { setup } from '../test/support/fake-kafka-driver.js';
import { KafkaMessageTranslator } from './kafka-message-translator.js';
import { JsonMessageSerializer } from './message-serializer.js';

/** JSON whose decoding first waits for `open()` (as a schema lookup would). */
class GatedSerializer extends JsonMessageSerializer {
  open: () => void = () => undefined;
  /** Records whose preparation started. */
  preparing = 0;
  readonly #gate = new Promise<void>((resolve) => (this.open = resolve));
  prepareDeserialize(): Promise<void> {
    this.preparing++;
    return this.#gate;
  }
}

/** A listener recording assignments and batches; the first revoke (by default) drains only on `release()`. */
function holdingListener(holdFirstRevoke = true) {
  const events: string[] = [];
  const batches: { partition: number; offsets: bigint[] }[] = [];
  let release: () => void = () => undefined;
  let held = !holdFirstRevoke;
  const listener: SourceListener = {
    assigned: (partitions) => void events.push(`assigned ${partitions.join(',')}`),
    revoked: async (partitions) => {
      events.push(`revoked ${partitions.join(',')}`);
      if (held) return; // only the first revoke is held
      held = true;
      await new Promise<void>((resolve) => (release = resolve));
    },
    batch: async (partition, records: readonly SourceRecord[]) =>
      void batches.push({ partition, offsets: records.map((r) => r.offset) }),
    error: () => undefined,
  };
  return { listener, events, batches, release: () => release() };
}

/** A source of the fake driver started with a {@link holdingListener}, once partitions 0 and 1 are assigned. */
async function startedSource(holdFirstRevoke = true, options: Parameters<typeof setup>[0] = {}) {
  const { channel, consumers } = setup(options);
  const source = channel.openSource!();
  const l = holdingListener(holdFirstRevoke);
  await source.start(l.listener);
  await waitFor(() => l.events.includes('assigned 0,1'));
  return { source, l, c: consumers[0]! };
}

describe('KafkaSource seek (fake driver)', () => {
  it('drops a batch fetched before a seek of its partition, unresolved; batches fetched after it flow', async () => {
    const { source, l, c } = await startedSource();
    // Partition 0 leaves; its revoke is held, so a batch of partition 1 waits behind it in the source.
    c.join([1]);
    await waitFor(() => l.events.includes('revoked 0'));
    const stale = c.deliver(1, [40, 41, 42]);
    // Meanwhile the core moves partition 1 to offset 3 (pause, seek, resume).
    source.pause([1]);
    source.seek(1, 3n);
    source.resume([1]);
    expect(c.seeks).toEqual([[1, '3']]);
    l.release();
    await stale;
    expect(l.batches).toEqual([]);
    expect(c.resolved.get(1)).toBeUndefined(); // the fetch position stays where the seek put it
    await c.deliver(1, [3, 4]);
    expect(l.batches).toEqual([{ partition: 1, offsets: [3n, 4n] }]);
    expect(c.resolved.get(1)).toBe('4');
    await source.close();
  });

  it('drops a batch that became stale while its records were being prepared for decoding', async () => {
    const serializer = new GatedSerializer();
    const { source, l, c } = await startedSource(false, {
      translator: new KafkaMessageTranslator(serializer),
    });
    const preparing = c.deliver(0, [40, 41]);
    await waitFor(() => serializer.preparing > 0); // past the source's first staleness check
    source.seek(0, 5n);
    serializer.open();
    await preparing;
    expect(l.batches).toEqual([]);
    expect(c.resolved.get(0)).toBeUndefined();
    await c.deliver(0, [5]);
    expect(l.batches).toEqual([{ partition: 0, offsets: [5n] }]);
    await source.close();
  });

  it('a seek of another partition leaves an in-flight batch alone', async () => {
    const { source, l, c } = await startedSource();
    c.join([1, 2]);
    await waitFor(() => l.events.includes('revoked 0'));
    const inFlight = c.deliver(1, [7, 8]);
    source.seek(2, 0n);
    l.release();
    await inFlight;
    expect(l.batches).toEqual([{ partition: 1, offsets: [7n, 8n] }]);
    await source.close();
  });

  it('resolveOffsets answers each position with the broker`s list-offsets (fake admin)', async () => {
    const { channel } = setup({});
    const source = channel.openSource!();
    expect(source.resolveOffsets).toBeInstanceOf(Function);
    // The fake admin's topic has one partition 0 with low 0, high 0 and offset 0 at any time.
    expect(await source.resolveOffsets!([0], { kind: 'latest' })).toEqual(new Map([[0, 0n]]));
    await expect(source.resolveOffsets!([5], { kind: 'earliest' })).rejects.toMatchObject({
      code: 'GOMES_ILLEGAL_STATE',
    });
    await source.close();
  });
});
