/**
 * Offset commits of the platformatic driver's group member.
 *
 * Classic protocol: the commit is sent with the generation and member id of the member's latest
 * join, through the library's OffsetCommit API. The library's own `commit()` re-joins the group and
 * commits again in the new generation when the broker answers that a rebalance is under way; that
 * could store offsets of partitions the member no longer owns. Here a commit either reaches the
 * coordinator in the generation it was made for, or is rejected with the broker's error (as kafkajs).
 *
 * KIP-848: the commit carries the member epoch, which only the library knows: its `commit()`.
 *
 * @packageDocumentation
 */
import type { Consumer } from '@platformatic/kafka';
import type { KafkaGroupProtocol, TopicPartitionOffset } from './kafka-driver.js';
import type { PlatformaticKafka } from './platformatic-loader.js';

type Callback<T> = (error: Error | null, result?: T) => void;
type InternalClient = Record<symbol, (...args: unknown[]) => void>;

/** Runs a callback-style call of the library as a promise. */
async function callback<T>(call: (done: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    call((error, result) => (error ? reject(error) : resolve(result as T))),
  );
}

/** @internal */
export class PlatformaticGroup {
  readonly #kafka: PlatformaticKafka;
  readonly #consumer: Consumer;
  readonly #groupId: string;
  readonly #protocol: KafkaGroupProtocol;
  #generationId = -1;
  #memberId: string | null = null;

  constructor(kafka: PlatformaticKafka, consumer: Consumer, groupId: string, protocol: KafkaGroupProtocol) {
    this.#kafka = kafka;
    this.#consumer = consumer;
    this.#groupId = groupId;
    this.#protocol = protocol;
  }

  /** The member joined: later commits belong to this generation. */
  joined(): void {
    this.#generationId = this.#consumer.generationId;
    this.#memberId = this.#consumer.memberId;
  }

  /** Commits `offsets`; `false` when the member never joined. Rejects with the broker's error. */
  async commit(offsets: readonly TopicPartitionOffset[]): Promise<boolean> {
    if (this.#protocol === 'consumer') {
      await this.#consumer.commit({
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: BigInt(o.offset),
          leaderEpoch: -1,
        })),
      });
      return true;
    }
    if (this.#memberId === null) return false;
    const byTopic = new Map<string, { name: string; partitions: unknown[] }>();
    for (const o of offsets) {
      const topic = byTopic.get(o.topic) ?? { name: o.topic, partitions: [] };
      topic.partitions.push({
        partitionIndex: o.partition,
        committedOffset: BigInt(o.offset),
        committedLeaderEpoch: -1,
        committedMetadata: null,
      });
      byTopic.set(o.topic, topic);
    }
    const consumer = this.#consumer;
    const coordinatorId = await consumer.findGroupCoordinator();
    const metadata = await consumer.metadata({ topics: [] });
    const broker = metadata.brokers.get(coordinatorId);
    if (!broker) throw new Error(`The group coordinator (broker ${coordinatorId}) is not in the metadata`);
    const internal = consumer as unknown as InternalClient;
    const connection = await callback<unknown>((done) => internal[this.#kafka.kGetConnection]!(broker, done));
    const api = await callback<(...args: unknown[]) => void>((done) =>
      internal[this.#kafka.kGetApi]!('OffsetCommit', done),
    );
    await callback((done) =>
      api(connection, this.#groupId, this.#generationId, this.#memberId, null, [...byTopic.values()], done),
    );
    return true;
  }
}
