import type { PartitionLag } from '../channel/consumer-channel.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import type { ConsumerCounters } from '../endpoint/tracked-delivery.js';
import { noopLogger } from '../logging/logger.js';
import { MessageBuilder } from '../message/message-builder.js';
import { holdsFor, waitFor } from '../testing/wait-for.js';
import type {
  PartitionedSource,
  SourceListener,
  SourcePosition,
  SourceRecord,
} from '../transport/spi/partitioned-source.js';
import { ConsumeEngine } from './consume-engine.js';
import type { StartPosition } from './start-position.js';

/** A scripted source: seeks, pauses and commits are recorded; resolving can fail on demand. */
class ScriptedSource implements PartitionedSource {
  readonly channelName = 'orders';
  readonly group = 'g';
  readonly settlement = 'offsets' as const;
  listener!: SourceListener;
  readonly paused = new Set<number>();
  readonly seeks: [number, bigint][] = [];
  readonly commits: Map<number, bigint>[] = [];
  failResolving = 0;
  resolveOffsets?: (partitions: readonly number[], position: SourcePosition) => Promise<Map<number, bigint>>;

  constructor(resolves: boolean) {
    if (resolves) {
      this.resolveOffsets = async (partitions) => {
        if (this.failResolving > 0) {
          this.failResolving--;
          throw new Error('broker unavailable');
        }
        return new Map(partitions.map((p) => [p, 100n]));
      };
    }
  }
  async start(listener: SourceListener): Promise<void> {
    this.listener = listener;
    return Promise.resolve();
  }
  pause(partitions: readonly number[]): void {
    partitions.forEach((p) => this.paused.add(p));
  }
  resume(partitions: readonly number[]): void {
    partitions.forEach((p) => this.paused.delete(p));
  }
  seek(partition: number, offset: bigint): void {
    this.seeks.push([partition, offset]);
  }
  async commit(offsets: ReadonlyMap<number, bigint>): Promise<void> {
    this.commits.push(new Map(offsets));
    return Promise.resolve();
  }
  lag(): readonly PartitionLag[] {
    return [];
  }
  async close(): Promise<void> {
    return Promise.resolve();
  }
}

function record(offset: number): SourceRecord {
  const message = MessageBuilder.withPayload({ offset }).build();
  return {
    offset: BigInt(offset),
    key: `k${offset}`,
    headers: {},
    rawValue: undefined,
    decode: () => ({ ok: true, message }),
  };
}

function counters(): ConsumerCounters {
  return {
    received: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    filtered: 0,
    duplicates: 0,
    acked: 0,
    nacked: 0,
    repliesDropped: 0,
    subscriptionErrors: 0,
    ackFailures: 0,
    nackFailures: 0,
    staleAttempts: 0,
    undecodableDropped: 0,
    inFlight: 0,
  };
}

function engine(source: ScriptedSource, startPosition: StartPosition | undefined) {
  const handled: number[] = [];
  const errors: Error[] = [];
  const e = new ConsumeEngine({
    name: 'worker',
    source,
    pipeline: async (message) => {
      handled.push((message.payload as { offset: number }).offset);
      return Promise.resolve(undefined);
    },
    channels: { publisher: () => undefined },
    deadLetterChannelName: undefined,
    processors: 2,
    maxBufferedRecordsPerPartition: 1000,
    nackDelayMs: 10,
    revokeBudgetMs: 1000,
    startPosition,
    counters: counters(),
    logger: noopLogger,
    outcomeOf: () => undefined,
    onFailed: () => undefined,
    onSourceError: (error) => errors.push(error),
  });
  return { engine: e, handled, errors };
}

describe('PartitionMover (through the consume engine)', () => {
  it('holds a partition until its start position is resolved; a failed resolution is reported and retried', async () => {
    const source = new ScriptedSource(true);
    source.failResolving = 2;
    const { engine: e, handled, errors } = engine(source, { kind: 'latest' });
    await e.start();
    source.listener.assigned([0]);
    expect(source.paused.has(0)).toBe(true);
    // Fetched before the move (the old position): dropped untracked, never handled nor committed.
    await source.listener.batch(0, [record(5), record(6)]);
    await waitFor(() => source.seeks.length === 1, 2000);
    expect(errors.map((x) => x.message)).toEqual(['broker unavailable', 'broker unavailable']);
    expect(source.seeks).toEqual([[0, 100n]]);
    expect(source.paused.has(0)).toBe(false);
    expect(handled).toEqual([]);
    expect(source.commits).toEqual([]);
    await source.listener.batch(0, [record(100), record(101)]);
    await waitFor(() => source.commits.at(-1)?.get(0) === 102n);
    expect(handled).toEqual([100, 101]);
    await e.stop(100, false);
  });

  it('applies the start position once per partition: a partition assigned again keeps its committed position', async () => {
    const source = new ScriptedSource(true);
    const { engine: e } = engine(source, { kind: 'earliest' });
    await e.start();
    source.listener.assigned([0, 1]);
    await waitFor(() => source.seeks.length === 2);
    await source.listener.revoked([0]);
    source.listener.assigned([0]);
    await holdsFor(() => source.seeks.length === 2 && !source.paused.has(0), 50);
    await e.stop(100, false);
  });

  it('explicit offsets only move the listed partitions and need no resolution by the source', async () => {
    const source = new ScriptedSource(false);
    const { engine: e } = engine(source, { kind: 'offsets', offsets: { 1: '7' } });
    await e.start();
    source.listener.assigned([0, 1]);
    await waitFor(() => source.seeks.length === 1);
    expect(source.seeks).toEqual([[1, 7n]]);
    expect(source.paused.size).toBe(0);
    await e.stop(100, false);
  });

  it('a source that cannot resolve positions: start() fails with a ConfigurationError, seek with GOMES_NOT_SUPPORTED', async () => {
    const { engine: withStart } = engine(new ScriptedSource(false), {
      kind: 'timestamp',
      timestamp: new Date(),
    });
    await expect(withStart.start()).rejects.toBeInstanceOf(ConfigurationError);
    const source = new ScriptedSource(false);
    const { engine: e } = engine(source, undefined);
    await e.start();
    source.listener.assigned([0]);
    await expect(e.seek({ kind: 'latest' })).rejects.toMatchObject({ code: 'GOMES_NOT_SUPPORTED' });
    expect(source.seeks).toEqual([]);
    expect(source.paused.size).toBe(0);
    await e.stop(100, false);
  });
});
