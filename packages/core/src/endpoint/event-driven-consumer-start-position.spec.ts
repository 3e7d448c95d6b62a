import type { PublisherChannel } from '../channel/publisher-channel.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { noopLogger } from '../logging/logger.js';
import { MessageBuilder } from '../message/message-builder.js';
import { holdsFor, waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { InMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { PARTITION_KEY_HEADER } from '../transport/in-memory/partition-key.js';
import { recordingLogger, type LogLine } from '../../test/support/recording-logger.js';
import { EventDrivenConsumer } from './event-driven-consumer.js';

/** Start positions and seek of an event-driven consumer on the consume engine (in-memory transport). */
describe('EventDrivenConsumer start positions and seek (in-memory)', () => {
  const TOPIC = 'events';
  let broker: InMemoryBroker;
  let connection: InMemoryConnection;
  let publisher: PublisherChannel;
  let lines: LogLine[];
  const consumers: EventDrivenConsumer[] = [];

  beforeEach(async () => {
    broker = new InMemoryBroker();
    connection = new InMemoryConnection('memory', { broker });
    await connection.connect();
    publisher = await inMemoryPublisher('memory', TOPIC)
      .withPartitions(1)
      .build({ connection, logger: noopLogger });
    lines = [];
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map(async (c) => c.stop(100)));
    await publisher.close();
    await connection.disconnect();
  });

  /** Sends `n` messages numbered from `from`, each with its own key. */
  async function sendRange(from: number, to: number): Promise<void> {
    for (let n = from; n < to; n++) {
      await publisher.send(MessageBuilder.withPayload({ n }).header(PARTITION_KEY_HEADER, `k${n}`).build());
    }
  }

  /** A consumer of group `billing` recording the numbers it handled, in order. */
  async function consumer(
    handle: (n: number) => Promise<void> = async () => Promise.resolve(),
  ): Promise<{ consumer: EventDrivenConsumer; seen: number[] }> {
    const seen: number[] = [];
    const builder = inMemoryConsumer('memory', TOPIC, 'billing');
    const c = new EventDrivenConsumer({
      name: 'billing',
      channel: await builder.build({ connection, logger: noopLogger }),
      endpointOptions: builder.endpointOptions,
      handler: async (m) => {
        const { n } = m.payload as { n: number };
        await handle(n);
        seen.push(n);
        return undefined;
      },
      channels: { publisher: () => undefined },
      logger: recordingLogger(lines),
    });
    consumers.push(c);
    return { consumer: c, seen };
  }

  /** A `with*` copy, stopped after the test like the consumers made here. */
  const track = (c: EventDrivenConsumer): EventDrivenConsumer => {
    consumers.push(c);
    return c;
  };
  const committed = (): bigint | undefined => broker.committedOffset('billing', TOPIC, 0);
  const applied = (): boolean => lines.some((l) => l.message === 'Start position applied');
  const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

  /** The group has handled and committed 0..9; its first consumer is stopped. */
  async function groupAtEnd(): Promise<void> {
    await sendRange(0, 10);
    const first = await consumer();
    await first.consumer.run();
    await waitFor(() => committed() === 10n);
    await first.consumer.stop(1000);
  }

  describe('withStartPosition', () => {
    it('without one, a group resumes from its committed offset (the baseline)', async () => {
      await groupAtEnd();
      const { consumer: c, seen } = await consumer();
      await c.run();
      await sendRange(10, 12);
      await waitFor(() => seen.length === 2);
      expect(seen).toEqual([10, 11]);
    });

    it('explicit offsets override the committed offset at the first assignment', async () => {
      await groupAtEnd();
      const { consumer: base, seen } = await consumer();
      const c = track(base.withStartPosition({ kind: 'offsets', offsets: { 0: '3' } }));
      await c.run();
      await waitFor(() => seen.length === 7);
      expect(seen).toEqual(range(3, 10));
      await waitFor(() => committed() === 10n);
    });

    it('earliest re-reads the whole partition over the committed offset', async () => {
      await groupAtEnd();
      const { consumer: base, seen } = await consumer();
      const c = track(base.withStartPosition({ kind: 'earliest' }));
      await c.run();
      await waitFor(() => seen.length === 10);
      expect(seen).toEqual(range(0, 10));
    });

    it('latest skips the backlog of a group without committed offsets: only records appended after it applied', async () => {
      await sendRange(0, 5);
      const { consumer: base, seen } = await consumer();
      const c = track(base.withStartPosition({ kind: 'latest' }));
      await c.run();
      await waitFor(applied);
      await sendRange(5, 8);
      await waitFor(() => seen.length === 3);
      await holdsFor(() => seen.length === 3, 50);
      expect(seen).toEqual([5, 6, 7]);
      expect(committed()).toBe(8n);
    });

    it('a timestamp starts at the first record at or after it, over the committed offset', async () => {
      await sendRange(0, 5);
      const before = Date.now();
      await waitFor(() => Date.now() > before);
      const at = new Date();
      await sendRange(5, 10);
      const first = await consumer();
      await first.consumer.run();
      await waitFor(() => committed() === 10n);
      await first.consumer.stop(1000);

      const { consumer: base, seen } = await consumer();
      const c = track(base.withStartPosition({ kind: 'timestamp', timestamp: at }));
      await c.run();
      await waitFor(() => seen.length === 5);
      expect(seen).toEqual(range(5, 10));
    });

    it('a timestamp after every record starts at the end', async () => {
      await sendRange(0, 3);
      const { consumer: base, seen } = await consumer();
      const c = track(
        base.withStartPosition({ kind: 'timestamp', timestamp: new Date(Date.now() + 60_000) }),
      );
      await c.run();
      await waitFor(applied);
      await sendRange(3, 4);
      await waitFor(() => seen.length === 1);
      expect(seen).toEqual([3]);
    });

    it('invalid positions fail run() with one ConfigurationError listing every problem', async () => {
      const { consumer: base } = await consumer();
      const c = track(base.withStartPosition({ kind: 'offsets', offsets: { 0: 'x', [-1]: '2' } }));
      const run = c.run();
      await expect(run).rejects.toBeInstanceOf(ConfigurationError);
      await expect(run).rejects.toThrow(/offsets\[0\] must be a decimal string[\s\S]*partition "-1"/);
    });
  });

  describe('seek on a running consumer', () => {
    it('rewinds by timestamp: the records from there are handled again and committed', async () => {
      await sendRange(0, 5);
      const before = Date.now();
      await waitFor(() => Date.now() > before);
      const at = new Date();
      await sendRange(5, 10);
      const { consumer: c, seen } = await consumer();
      await c.run();
      await waitFor(() => committed() === 10n);
      const moved = await c.seek({ kind: 'timestamp', timestamp: at });
      expect(moved).toEqual([{ partition: 0, offset: '5' }]);
      await waitFor(() => seen.length === 15);
      expect(seen).toEqual([...range(0, 10), ...range(5, 10)]);
      await waitFor(() => committed() === 10n);
    });

    it('waits for the running handler, drops buffered records, commits only what is done, then reads from the new offset', async () => {
      await sendRange(0, 10);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { consumer: c, seen } = await consumer(async (n) => (n === 1 ? gate : Promise.resolve()));
      await c.run();
      await waitFor(() => seen.length === 1 && c.stats.inFlight === 9);
      let result: unknown;
      const seeking = c.seek({ kind: 'offsets', offsets: { 0: '6' } }).then((r) => (result = r));
      // The record at offset 1 is unfinished: the seek waits, and nothing past it is committed.
      await holdsFor(() => result === undefined && (committed() ?? 0n) <= 1n, 50);
      release();
      await seeking;
      expect(result).toEqual([{ partition: 0, offset: '6' }]);
      // 2..5 were buffered, never started: dropped by the seek forward, never handled.
      await waitFor(() => seen.length === 6);
      expect(seen).toEqual([0, 1, 6, 7, 8, 9]);
      await waitFor(() => committed() === 10n);
    });

    it('a rewind never commits past an unfinished record of the old position', async () => {
      await sendRange(0, 6);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let gated = true;
      const { consumer: base, seen } = await consumer(async (n) =>
        n === 3 && gated ? gate : Promise.resolve(),
      );
      const c = track(base.withAmountOfProcessors(4));
      await c.run();
      await waitFor(() => seen.length === 5);
      // 0..2 and 4..5 done, 3 running: the committable position is 3.
      await waitFor(() => committed() === 3n);
      const seeking = c.seek({ kind: 'earliest' });
      await holdsFor(() => committed() === 3n, 50);
      gated = false;
      release();
      expect(await seeking).toEqual([{ partition: 0, offset: '0' }]);
      await waitFor(() => seen.length === 12);
      expect(seen.slice(6).sort((a, b) => a - b)).toEqual(range(0, 6));
      await waitFor(() => committed() === 6n);
    });

    it('only moves the partitions asked for (others keep their position)', async () => {
      await sendRange(0, 4);
      const { consumer: c, seen } = await consumer();
      await c.run();
      await waitFor(() => committed() === 4n);
      expect(await c.seek({ kind: 'earliest' }, { partitions: [7] })).toEqual([]);
      await holdsFor(() => seen.length === 4, 50);
    });

    it('fails when the consumer is not running, and on an invalid position', async () => {
      const { consumer: c } = await consumer();
      await expect(c.seek({ kind: 'earliest' })).rejects.toMatchObject({ code: 'GOMES_ILLEGAL_STATE' });
      await c.run();
      await expect(c.seek({ kind: 'timestamp', timestamp: new Date('nope') })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    });
  });
});
