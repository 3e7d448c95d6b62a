/**
 * The platformatic driver's consumer, what it asks the broker: fetches from a partition leader, and
 * where assigned partitions start (the committed offset, else the start policy).
 *
 * @packageDocumentation
 */
import type { Broker, ConnectionPool, Consumer, fetchV17 } from '@platformatic/kafka';
import type { DriverBatchHandler, DriverConsumerOptions } from './kafka-driver.js';
import type { PlatformaticKafka } from './platformatic-loader.js';

type FetchRequestTopic = fetchV17.FetchRequestTopic;
type FetchResponse = fetchV17.FetchResponse;

/** Broker errors of one partition after which the leader is looked up again (metadata refresh). @internal */
export const STALE_METADATA: ReadonlySet<string> = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
  'OFFSET_NOT_AVAILABLE',
]);

/** The map key of a topic partition. @internal */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** One partition to fetch, from `offset`. @internal */
export interface FetchRequestPartition {
  readonly topicId: string;
  readonly partition: number;
  readonly offset: bigint;
}

/**
 * A Fetch request to one broker (the library's Fetch API, on `pool`: long polls never hold up the
 * group's requests). A response with partition errors resolves as a response: each partition's
 * `errorCode` is the caller's to handle.
 *
 * @internal
 */
export async function fetchFromLeader(
  kafka: PlatformaticKafka,
  consumer: Consumer,
  pool: ConnectionPool | undefined,
  broker: Broker | undefined,
  requested: readonly FetchRequestPartition[],
  o: DriverConsumerOptions,
): Promise<FetchResponse> {
  if (!broker || !pool) throw new Error('The leader of a fetched partition is unknown');
  const topics = new Map<string, FetchRequestTopic>();
  for (const r of requested) {
    const t = topics.get(r.topicId) ?? { topicId: r.topicId, partitions: [] };
    t.partitions.push({
      partition: r.partition,
      fetchOffset: r.offset,
      partitionMaxBytes: o.maxBytesPerPartition,
      currentLeaderEpoch: -1,
      lastFetchedEpoch: -1,
    });
    topics.set(r.topicId, t);
  }
  const connection = await pool.get(broker);
  const api = await new Promise<FetchApi>((resolve, reject) =>
    (consumer as unknown as InternalClient)[kafka.kGetApi]!('Fetch', (error, found) =>
      error ? reject(error) : resolve(found as FetchApi),
    ),
  );
  return new Promise<FetchResponse>((resolve, reject) =>
    api(
      connection,
      o.maxWaitTimeMs,
      o.minBytes,
      o.maxBytes,
      o.readCommitted ? 1 : 0,
      0, // no fetch session
      0,
      [...topics.values()],
      [],
      '',
      (error, response) => {
        const partial = (error as { response?: FetchResponse } | null)?.response;
        if (error && !partial?.responses) reject(error);
        else resolve((response ?? partial) as FetchResponse);
      },
    ),
  );
}

/** Where partitions without a committed offset start. @internal */
export interface StartPolicy {
  readonly fromBeginning: boolean;
  readonly readCommitted: boolean;
}

type TopicPartition = { readonly topic: string; readonly partition: number };

/** The committed offset of each partition, else where the start policy places it. @internal */
export async function committedOrStartOffsets(
  consumer: Consumer,
  partitions: readonly TopicPartition[],
  policy: StartPolicy,
): Promise<(TopicPartition & { offset: bigint })[]> {
  const topics = [...new Set(partitions.map((tp) => tp.topic))].map((topic) => ({
    topic,
    partitions: partitions.filter((tp) => tp.topic === topic).map((tp) => tp.partition),
  }));
  const committed = await consumer.listCommittedOffsets({ topics });
  const found: (TopicPartition & { offset: bigint })[] = [];
  const none: TopicPartition[] = [];
  for (const tp of partitions) {
    const offset = committed.get(tp.topic)?.[tp.partition];
    if (offset !== undefined && offset >= 0n) found.push({ ...tp, offset });
    else none.push(tp);
  }
  return none.length === 0 ? found : [...found, ...(await startOffsets(consumer, none, policy))];
}

/** The earliest or latest offset of each partition (the start policy). @internal */
export async function startOffsets(
  consumer: Consumer,
  partitions: readonly TopicPartition[],
  policy: StartPolicy,
): Promise<(TopicPartition & { offset: bigint })[]> {
  const byTopic: Record<string, number[]> = {};
  for (const tp of partitions) (byTopic[tp.topic] ??= []).push(tp.partition);
  const offsets = await consumer.listOffsets({
    topics: Object.keys(byTopic),
    partitions: byTopic,
    timestamp: policy.fromBeginning ? -2n : -1n,
    isolationLevel: policy.readCommitted ? 1 : 0,
  });
  return partitions.flatMap((tp) => {
    const offset = offsets.get(tp.topic)?.[tp.partition];
    return offset === undefined ? [] : [{ ...tp, offset }];
  });
}

/** A batch handler threw: not a fetch failure to retry (the consumer crashes, as with kafkajs). @internal */
export class BatchHandlerError extends Error {
  constructor(cause: unknown) {
    super('The batch handler failed', { cause });
  }
}

/** Runs the batch handler; what it throws comes out as a {@link BatchHandlerError}. @internal */
export async function handleBatch(
  handler: DriverBatchHandler,
  ...args: Parameters<DriverBatchHandler>
): Promise<void> {
  try {
    await handler(...args);
  } catch (error) {
    throw new BatchHandlerError(error);
  }
}

type FetchApi = (
  connection: unknown,
  maxWaitMs: number,
  minBytes: number,
  maxBytes: number,
  isolationLevel: number,
  sessionId: number,
  sessionEpoch: number,
  topics: FetchRequestTopic[],
  forgotten: unknown[],
  rackId: string,
  callback: (error: Error | null, response?: FetchResponse) => void,
) => void;

/** The library's internal API lookup (exported as `kGetApi`). */
type InternalClient = Record<
  symbol,
  (name: string, callback: (error: Error | null, api?: unknown) => void) => void
>;
