// Shared by the consume-engine specs (packages/core/src/consume/*.spec.ts): a scripted partitioned
// source the test drives by hand, records to feed it, and the engine's parameters with test defaults.
import type { PartitionLag } from '../../src/channel/consumer-channel.js';
import type { ConsumeEngineParams } from '../../src/consume/consume-engine.js';
import { zeroCounters } from '../../src/consume/consumer-counters.js';
import { noopLogger } from '../../src/logging/logger.js';
import { MessageBuilder } from '../../src/message/message-builder.js';
import type {
  PartitionedSource,
  SourceListener,
  SourcePosition,
  SourceRecord,
} from '../../src/transport/spi/partitioned-source.js';

/**
 * A scripted source: the test assigns, revokes and feeds batches through `listener`; seeks, pauses,
 * commits and close are recorded. With `resolves`, it resolves every start position to offset 100
 * (failing `failResolving` times first); without, it has no `resolveOffsets` at all.
 */
export class ScriptedSource implements PartitionedSource {
  readonly channelName = 'orders';
  readonly group = 'g';
  readonly settlement: 'offsets' | 'per-record' = 'offsets';
  listener!: SourceListener;
  readonly paused = new Set<number>();
  readonly seeks: [number, bigint][] = [];
  readonly commits: Map<number, bigint>[] = [];
  closed = false;
  failResolving = 0;
  resolveOffsets?: (partitions: readonly number[], position: SourcePosition) => Promise<Map<number, bigint>>;

  constructor(options: { resolves?: boolean } = {}) {
    if (options.resolves === true) {
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
    this.closed = true;
    return Promise.resolve();
  }
  /** The last offset committed for `partition`, if any. */
  committed(partition: number): bigint | undefined {
    return [...this.commits]
      .reverse()
      .find((c) => c.has(partition))
      ?.get(partition);
  }
}

/** A record whose message has payload `{ offset }`; an undecodable one fails to decode, raw value '{"broken'. */
export function sourceRecord(offset: number, key = `k${offset}`, undecodable = false): SourceRecord {
  const message = MessageBuilder.withPayload({ offset }).build();
  return {
    offset: BigInt(offset),
    key,
    headers: {},
    rawValue: undecodable ? '{"broken' : undefined,
    decode: () => (undecodable ? { ok: false, error: new Error('not json') } : { ok: true, message }),
  };
}

/** The engine's parameters: `source` and `pipeline` given, the rest test defaults unless overridden. */
export function engineParams(
  params: Pick<ConsumeEngineParams, 'source' | 'pipeline'> & Partial<ConsumeEngineParams>,
): ConsumeEngineParams {
  return {
    name: 'worker',
    channels: { publisher: () => undefined },
    deadLetterChannelName: undefined,
    processors: 4,
    maxBufferedRecordsPerPartition: 1000,
    maxBufferedBytesPerPartition: 32 * 1024 * 1024,
    nackDelayMs: 10,
    revokeBudgetMs: 1000,
    startPosition: undefined,
    counters: zeroCounters(),
    logger: noopLogger,
    outcomeOf: () => undefined,
    onFailed: () => undefined,
    onSourceError: () => undefined,
    ...params,
  };
}

export { zeroCounters };
