/**
 * The kafkajs consumer of the kafkajs driver (kafkajs-driver.ts): a group member handing fetched
 * batches to the driver listener, LeaveGroup on behalf of a crashed member, and the fixed-partitions
 * assigner of `withPartition(n)`.
 *
 * @packageDocumentation
 */
import kafkajs from 'kafkajs';
import type { Assigner, Consumer, IHeaders, PartitionAssigner } from 'kafkajs';
import type {
  DriverBatchHandler,
  DriverConsumer,
  DriverConsumerListener,
  TopicPartitionOffset,
  TopicPartitions,
} from './kafka-driver.js';

const { KafkaJSError, AssignerProtocol } = kafkajs;

/** A kafkajs client (the class is only reached through the default export). */
type KafkaClient = InstanceType<typeof kafkajs.Kafka>;

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name in headers) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return out;
}

/** The kafkajs {@link DriverConsumer}. @internal */
export class KafkajsConsumer implements DriverConsumer {
  readonly #consumer: Consumer;
  readonly #kafka: KafkaClient;
  readonly #groupId: string;
  #disconnecting: Promise<void> | undefined;
  /** Set by `disconnect`: kafkajs lets a disconnected consumer connect, subscribe and run again. */
  #closed = false;

  constructor(consumer: Consumer, kafka: KafkaClient, groupId: string) {
    this.#consumer = consumer;
    this.#kafka = kafka;
    this.#groupId = groupId;
  }

  async connect(): Promise<void> {
    this.#throwIfClosed();
    await this.#consumer.connect();
    await this.#afterStep();
  }

  async subscribe(topics: readonly string[], fromBeginning: boolean): Promise<void> {
    this.#throwIfClosed();
    await this.#consumer.subscribe({ topics: [...topics], fromBeginning });
    await this.#afterStep();
  }

  /** A disconnect that raced a start step may have run before it finished: disconnect again. */
  async #afterStep(): Promise<void> {
    if (!this.#closed) return;
    await this.#consumer.disconnect().catch(() => undefined);
    this.#throwIfClosed();
  }

  #throwIfClosed(): void {
    if (this.#closed) throw new KafkaJSError('The consumer was disconnected', { retriable: false });
  }

  async run(handler: DriverBatchHandler): Promise<void> {
    this.#throwIfClosed();
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        await handler(
          {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key ?? null,
              value: m.value ?? null,
              headers: headersToStrings(m.headers),
              timestamp: m.timestamp,
            })),
          },
          {
            resolveOffset: (offset) => payload.resolveOffset(offset),
            isRunning: () => payload.isRunning(),
            isStale: () => payload.isStale(),
            heartbeat: async () => payload.heartbeat(),
          },
        );
      },
    });
    await this.#afterStep();
  }

  pause(topic: string, partitions: readonly number[]): void {
    this.#consumer.pause([{ topic, partitions: [...partitions] }]);
  }

  resume(topic: string, partitions: readonly number[]): void {
    this.#consumer.resume([{ topic, partitions: [...partitions] }]);
  }

  seek(topic: string, partition: number, offset: string): void {
    this.#consumer.seek({ topic, partition, offset });
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<boolean> {
    if (offsets.length === 0) return true;
    // kafkajs resolves without committing when its runner is not running (and swallows errors
    // then): only the COMMIT_OFFSETS event (emitted once the broker stored them) confirms a commit.
    // Auto-commit is off and commits are sequential, so an event during this call is this commit's.
    let confirmed = false;
    const stop = this.#consumer.on(this.#consumer.events.COMMIT_OFFSETS, (event) => {
      const stored = new Set(
        event.payload.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}:${p.partition}:${p.offset}`)),
      );
      confirmed = offsets.every((o) => stored.has(`${o.topic}:${o.partition}:${o.offset}`));
    });
    try {
      await this.#consumer.commitOffsets(offsets.map((o) => ({ ...o })));
    } finally {
      stop();
    }
    return confirmed;
  }

  listen(listener: DriverConsumerListener): () => void {
    const { GROUP_JOIN, REBALANCING, CRASH, END_BATCH_PROCESS } = this.#consumer.events;
    const removers = [
      this.#consumer.on(GROUP_JOIN, (event) => {
        const assignment: TopicPartitions[] = Object.entries(event.payload.memberAssignment).map(
          ([topic, partitions]) => ({ topic, partitions: [...partitions] }),
        );
        listener.onGroupJoin?.(assignment, event.payload.memberId);
      }),
      this.#consumer.on(REBALANCING, () => listener.onRebalancing?.()),
      this.#consumer.on(CRASH, (event) => listener.onCrash?.(event.payload.error)),
    ];
    if (listener.onBatchEnd) {
      const onBatchEnd = listener.onBatchEnd.bind(listener);
      removers.push(
        this.#consumer.on(END_BATCH_PROCESS, (event) =>
          onBatchEnd(event.payload.topic, event.payload.partition, event.payload.lastOffset),
        ),
      );
    }
    return () => removers.forEach((remove) => remove());
  }

  async disconnect(): Promise<void> {
    this.#closed = true;
    this.#disconnecting ??= this.#consumer.disconnect();
    return this.#disconnecting;
  }

  async removeMember(memberId: string): Promise<boolean> {
    this.#throwIfClosed();
    return leaveGroupOnBehalf(this.#kafka, this.#groupId, memberId);
  }
}

/** The part of kafkajs' internal cluster (and broker) that {@link leaveGroupOnBehalf} uses. */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<{
    leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
  }>;
}

/** Attempts of a LeaveGroup that fails transiently (coordinator loading or moving): ~10 s in all. */
const LEAVE_GROUP_ATTEMPTS = 8;

/**
 * LeaveGroup for `memberId` of `groupId`, sent from a cluster client of `kafka`'s configuration
 * (brokers, TLS, SASL, timeouts). kafkajs has no public API for it (its consumer leaves only as
 * itself, and it does not support static membership, KIP-345); its client creates clusters through
 * a private factory, reached here by its symbol's description. kafkajs is pinned to an exact version,
 * and an integration test (kafka-consumer-restart.int.spec.ts) fails if that factory changes.
 */
async function leaveGroupOnBehalf(kafka: KafkaClient, groupId: string, memberId: string): Promise<boolean> {
  const factory = Object.getOwnPropertySymbols(kafka)
    .filter((symbol) => symbol.description === 'private:Kafka:createCluster')
    .map((symbol) => (kafka as unknown as Record<symbol, unknown>)[symbol])[0];
  if (typeof factory !== 'function') {
    throw new KafkaJSError(
      'this kafkajs version has no cluster factory: LeaveGroup on behalf of a member is unavailable',
      {
        retriable: false,
      },
    );
  }
  const cluster = (factory as (options: object) => KafkajsCluster)({
    metadataMaxAge: 300000,
    allowAutoTopicCreation: false,
  });
  try {
    await cluster.connect();
    for (let attempt = 1; ; attempt++) {
      try {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        await coordinator.leaveGroup({ groupId, memberId });
        return true;
      } catch (error) {
        if ((error as { type?: unknown }).type === 'UNKNOWN_MEMBER_ID') return false;
        if (attempt >= LEAVE_GROUP_ATTEMPTS || (error as { retriable?: unknown }).retriable !== true)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * 2 ** (attempt - 1))));
      }
    }
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/**
 * A partition assigner that hands only `partitions` of each subscribed topic to the first member
 * (sorted by member id); other members stay idle as hot standbys. Used by `withPartition(n)`: a
 * group member then consumes exactly that partition, and fail-over still works.
 */
export function fixedPartitionsAssigner(partitions: readonly number[]): PartitionAssigner {
  const name = `gomes-fixed-partitions-${[...partitions].sort((a, b) => a - b).join('_')}`;
  return (): Assigner => ({
    name,
    version: 1,
    async assign({ members, topics }) {
      const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
      return sorted.map((member, index) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: index === 0 ? Object.fromEntries(topics.map((t) => [t, [...partitions]])) : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
