import type { ConsumerCounters } from './consumer-counters.js';
import type { Message } from '../message/message.js';
import { RecordingPublisherChannel } from '../testing/recording-publisher-channel.js';
import { waitFor } from '../testing/wait-for.js';
import type { SourceRecord } from '../transport/spi/partitioned-source.js';
import {
  engineParams,
  ScriptedSource,
  sourceRecord as record,
  zeroCounters,
} from '../../test/support/scripted-source.js';
import { ConsumeEngine } from './consume-engine.js';

interface Setup {
  engine: ConsumeEngine;
  source: ScriptedSource;
  counts: ConsumerCounters;
  gates: Map<number, { open: () => void; signal: AbortSignal }>;
  dlq: RecordingPublisherChannel;
}

async function setup(
  options: { processors?: number; maxBuffered?: number; maxBytes?: number; dlq?: boolean } = {},
): Promise<Setup> {
  const source = new ScriptedSource();
  const counts = zeroCounters();
  const gates = new Map<number, { open: () => void; signal: AbortSignal }>();
  const dlq = new RecordingPublisherChannel('orders.dlq');
  const engine = new ConsumeEngine(
    engineParams({
      source,
      pipeline: async (message: Message, ctx) => {
        const { offset } = message.payload as { offset: number };
        await new Promise<void>((resolve, reject) => {
          gates.set(offset, { open: resolve, signal: ctx.signal });
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
        });
        return undefined;
      },
      channels: { publisher: (name) => (name === 'orders.dlq' ? dlq : undefined) },
      deadLetterChannelName: options.dlq === true ? 'orders.dlq' : undefined,
      processors: options.processors ?? 4,
      maxBufferedRecordsPerPartition: options.maxBuffered ?? 1000,
      maxBufferedBytesPerPartition: options.maxBytes ?? 32 * 1024 * 1024,
      counters: counts,
    }),
  );
  await engine.start();
  return { engine, source, counts, gates, dlq };
}

describe('ConsumeEngine', () => {
  it('commits only the settled prefix of a partition, never past an unfinished record', async () => {
    const { source, gates, engine } = await setup();
    source.listener.assigned([0]);
    await source.listener.batch(0, [record(0, 'a'), record(1, 'b'), record(2, 'c'), record(3, 'd')]);
    await waitFor(() => gates.size === 4);
    for (const n of [1, 2, 3]) gates.get(n)?.open();
    await waitFor(() => engine.inFlight === 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.committed(0)).toBeUndefined();
    gates.get(0)?.open();
    await waitFor(() => source.committed(0) === 4n);
  });

  it('revoke aborts and awaits the partition handlers, commits what is done, and never acks a late result', async () => {
    const { source, gates, counts } = await setup();
    source.listener.assigned([0, 1]);
    await source.listener.batch(0, [record(0, 'a'), record(1, 'b')]);
    await source.listener.batch(1, [record(10, 'c')]);
    await waitFor(() => gates.size === 3);
    gates.get(0)?.open();
    await waitFor(() => source.committed(0) === 1n);
    await source.listener.revoked([0]);
    expect(gates.get(1)?.signal.aborted).toBe(true);
    expect(gates.get(10)?.signal.aborted).toBe(false);
    expect(source.committed(0)).toBe(1n);
    // A batch of a revoked partition is ignored; a late finish of its handler is not acked.
    await source.listener.batch(0, [record(2, 'b')]);
    gates.get(1)?.open();
    gates.get(10)?.open();
    await waitFor(() => source.committed(1) === 11n);
    expect(source.committed(0)).toBe(1n);
    expect(counts.succeeded).toBe(2);
  });

  it('pauses a partition when its buffer is full and resumes it below half', async () => {
    const { source, gates } = await setup({ processors: 1, maxBuffered: 4 });
    source.listener.assigned([0]);
    await source.listener.batch(
      0,
      [0, 1, 2, 3].map((n) => record(n, 'k')),
    );
    expect(source.paused.has(0)).toBe(true);
    gates.get(0)?.open();
    await waitFor(() => gates.has(1));
    expect(source.paused.has(0)).toBe(true);
    gates.get(1)?.open();
    await waitFor(() => !source.paused.has(0));
  });

  it('also pauses a partition when its buffered value bytes reach the bound, and resumes it once both are below half', async () => {
    const { source, gates } = await setup({ processors: 1, maxBuffered: 1000, maxBytes: 1000 });
    const sized = (n: number): SourceRecord => ({ ...record(n, 'k'), rawValue: new Uint8Array(400) });
    source.listener.assigned([0]);
    await source.listener.batch(0, [sized(0), sized(1)]);
    expect(source.paused.has(0)).toBe(false); // 800 bytes
    await source.listener.batch(0, [sized(2)]);
    expect(source.paused.has(0)).toBe(true); // 1200 bytes, 3 records
    gates.get(0)?.open();
    await waitFor(() => gates.has(1));
    expect(source.paused.has(0)).toBe(true); // 800 bytes: above half
    gates.get(1)?.open();
    await waitFor(() => !source.paused.has(0)); // 400 bytes
  });

  it('dead-letters an undecodable record through the dead-letter channel, with the standard envelope', async () => {
    const { source, dlq, counts } = await setup({ dlq: true });
    source.listener.assigned([0]);
    await source.listener.batch(0, [record(0, 'a', true)]);
    await waitFor(() => source.committed(0) === 1n);
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.messages[0]?.header('gomes.dlq.errorCode')).toBe('GOMES_TRANSLATION_FAILED');
    expect(dlq.messages[0]?.header('gomes.dlq.reason')).toBe('not json');
    expect(dlq.messages[0]?.payload).toBe('{"broken');
    expect(counts.deadLettered).toBe(1);
  });

  it('drops an undecodable record, logged and counted, when there is no dead-letter channel', async () => {
    const { source, counts } = await setup();
    source.listener.assigned([0]);
    await source.listener.batch(0, [record(0, 'a', true)]);
    await waitFor(() => source.committed(0) === 1n);
    expect(counts.undecodableDropped).toBe(1);
  });

  it('acks records broker-side, and never commits, on a per-record source (queue brokers)', async () => {
    const { source, gates } = await setup();
    const acked: bigint[] = [];
    Object.assign(source, {
      settlement: 'per-record',
      settle: async (_p: number, r: SourceRecord, outcome: string) => {
        if (outcome === 'ack') acked.push(r.offset);
        return Promise.resolve();
      },
    });
    source.listener.assigned([0]);
    await source.listener.batch(0, [record(0, 'a'), record(1, 'b')]);
    await waitFor(() => gates.size === 2);
    gates.get(1)?.open();
    gates.get(0)?.open();
    await waitFor(() => acked.length === 2);
    expect(acked).toEqual([1n, 0n]);
    expect(source.commits).toEqual([]);
  });

  it('stop drains within the budget, then commits and closes the source', async () => {
    const { source, gates, engine } = await setup();
    source.listener.assigned([0]);
    await source.listener.batch(0, [record(0, 'a')]);
    await waitFor(() => gates.size === 1);
    const stopping = engine.stop(1000, false);
    gates.get(0)?.open();
    await stopping;
    expect(source.committed(0)).toBe(1n);
    expect(source.closed).toBe(true);
  });
});
