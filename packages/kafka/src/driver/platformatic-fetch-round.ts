import type { ConnectionPool, Consumer } from '@platformatic/kafka';
import type { DriverBatch, DriverBatchHandler, DriverConsumerOptions } from './kafka-driver.js';
import type { PlatformaticKafka } from './platformatic-loader.js';
import { findApiId, normalizePlatformaticError } from './platformatic-errors.js';
import { fetchedRecords, type FetchResponsePartition } from './platformatic-records.js';
import { fetchFromLeader, handleBatch, STALE_METADATA } from './platformatic-fetch.js';
import type { PartitionFetchRequest, PartitionPositions, TopicPartition } from './platformatic-positions.js';

/** What a {@link fetchRound} needs from its consumer. @internal */
export interface FetchRoundHost {
  readonly kafka: PlatformaticKafka;
  readonly consumer: Consumer;
  /** The consumer's own connection pool for fetches (a long-poll fetch never delays a group request). */
  readonly pool: ConnectionPool | undefined;
  readonly options: DriverConsumerOptions;
  readonly topics: readonly string[];
  readonly partitions: PartitionPositions;
  /** Whether the consumer runs (not crashed, not closed). */
  isRunning(): boolean;
  /** The current group generation: a join, a rebalance or a crash moves it. */
  generation(): number;
  /** Waits `ms`, or less when woken (a resume, a seek, a close). */
  idle(ms: number): Promise<void>;
  /** Places `partitions` per the start policy (an out-of-range position), for `generation`. */
  resetPositions(partitions: readonly TopicPartition[], generation: number): Promise<void>;
  /** A fetched batch of the partition was handled up to `lastOffset` (told to the listeners). */
  batchEnd(topic: string, partition: number, lastOffset: string): void;
}

/**
 * One fetch round of a {@link PlatformaticConsumer}: one fetch per partition leader (concurrently),
 * then their batches, one at a time. A batch whose partition was paused, sought or rebalanced since
 * the fetch is dropped (fetched again from its position); an out-of-range position is reset by the
 * start policy.
 *
 * @internal
 */
export async function fetchRound(
  h: FetchRoundHost,
  partitions: readonly TopicPartition[],
  handler: DriverBatchHandler,
): Promise<void> {
  const consumer = h.consumer;
  const metadata = await consumer.metadata({ topics: [...h.topics] });
  const generation = h.generation();
  const byLeader = new Map<number, (PartitionFetchRequest & { topicId: string })[]>();
  for (const tp of partitions) {
    const info = metadata.topics.get(tp.topic);
    const leader = info?.partitions[tp.partition]?.leader;
    const request = h.partitions.request(tp);
    if (info === undefined || leader === undefined || leader < 0 || request === undefined) continue;
    const list = byLeader.get(leader) ?? [];
    list.push({ ...request, topicId: info.id });
    byLeader.set(leader, list);
  }
  if (byLeader.size === 0) {
    consumer.clearMetadata();
    await h.idle(200);
    return;
  }
  const fetches = [...byLeader].map(async ([leader, requested]) => ({
    requested,
    response: await fetchFromLeader(
      h.kafka,
      consumer,
      h.pool,
      metadata.brokers.get(leader),
      requested,
      h.options,
    ),
  }));
  for (const { requested, response } of await Promise.all(fetches)) {
    const ids = new Map(requested.map((r) => [`${r.topicId}:${r.partition}`, r]));
    for (const topicResponse of response.responses) {
      for (const p of topicResponse.partitions) {
        const request = ids.get(`${topicResponse.topicId}:${p.partitionIndex}`);
        if (request) await onPartition(h, request, p, generation, handler);
      }
    }
  }
}

async function onPartition(
  h: FetchRoundHost,
  request: PartitionFetchRequest,
  response: FetchResponsePartition,
  generation: number,
  handler: DriverBatchHandler,
): Promise<void> {
  const { topic, partition } = request;
  const current = (): boolean =>
    h.isRunning() && generation === h.generation() && h.partitions.isCurrent(request);
  // Paused, sought or rebalanced since the fetch: dropped, fetched again from the position.
  if (!current() || h.partitions.isPaused(request)) return;
  if (response.errorCode !== 0) {
    const error = new h.kafka.ProtocolError(response.errorCode);
    const name = findApiId(error);
    if (name === 'OFFSET_OUT_OF_RANGE') {
      h.partitions.outOfRange(request);
      await h.resetPositions([{ topic, partition }], generation);
      return;
    }
    if (name !== undefined && STALE_METADATA.has(name)) {
      h.consumer.clearMetadata();
      return;
    }
    throw normalizePlatformaticError(error);
  }
  const fetched = fetchedRecords(topic, partition, response, request.offset, h.options.readCommitted);
  if (fetched.lastOffset === undefined) return;
  const lastOffset = fetched.lastOffset.toString();
  if (fetched.records.length > 0) {
    const batch: DriverBatch = {
      topic,
      partition,
      records: fetched.records,
      highWatermark: response.highWatermark.toString(),
    };
    await handleBatch(handler, batch, {
      resolveOffset: (offset) => {
        if (current()) h.partitions.advance(request, BigInt(offset) + 1n);
      },
      isRunning: () => h.isRunning() && generation === h.generation(),
      isStale: () => !current(),
      heartbeat: async () => {
        if (h.isRunning() && generation !== h.generation()) throw new Error('The group is rebalancing');
      },
    });
  } else if (current() && fetched.lastOffset >= request.offset) {
    // Only transaction markers or aborted records: nothing to hand over, the position moves on.
    h.partitions.advance(request, fetched.lastOffset + 1n);
  }
  h.batchEnd(topic, partition, lastOffset);
}
