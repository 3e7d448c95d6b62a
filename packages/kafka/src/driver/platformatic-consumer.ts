/**
 * {@link DriverConsumer} on `@platformatic/kafka`.
 *
 * The library's `Consumer` keeps the group membership (join / sync and background heartbeats for the
 * classic protocol, `ConsumerGroupHeartbeat` for KIP-848); the fetch loop is this module's own, on
 * the library's Fetch API and a connection pool of its own (a long-poll fetch never delays a group
 * request): its `MessagesStream` has no per-partition pause, resume or seek, and hides high
 * watermarks, which gomes' partition workers need. One batch (one partition's records of a fetch) is
 * handled at a time, as kafkajs does with `partitionsConsumedConcurrently: 1`.
 *
 * @packageDocumentation
 */
import type { ConnectionPool, Consumer, MessagesStream } from '@platformatic/kafka';
import type {
  DriverBatchHandler,
  DriverConsumer,
  DriverConsumerListener,
  DriverConsumerOptions,
  KafkaDriverConfig,
  TopicPartitionOffset,
} from './kafka-driver.js';
import { baseOptions, groupConsumerOptions } from './platformatic-driver.js';
import type { PlatformaticKafka } from './platformatic-loader.js';
import { normalizePlatformaticError } from './platformatic-errors.js';
import {
  BatchHandlerError,
  committedOrStartOffsets,
  partitionKey as key,
  startOffsets,
  type StartPolicy,
} from './platformatic-fetch.js';

import { PlatformaticGroup } from './platformatic-group.js';
import { fetchRound, type FetchRoundHost } from './platformatic-fetch-round.js';
import { PartitionPositions } from './platformatic-positions.js';

type Lifecycle = 'new' | 'connected' | 'running' | 'crashed' | 'closed';

/** @internal */
export class PlatformaticConsumer implements DriverConsumer {
  readonly #kafka: PlatformaticKafka;
  readonly #config: KafkaDriverConfig;
  readonly #options: DriverConsumerOptions;
  readonly #listeners = new Set<DriverConsumerListener>();
  #lifecycle: Lifecycle = 'new';
  #consumer: Consumer | undefined;
  #group: PlatformaticGroup | undefined;
  #pool: ConnectionPool | undefined;
  /** KIP-848 only: the library joins such a group through a stream, kept from ever fetching. */
  #membershipStream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  #topics: readonly string[] = [];
  #fromBeginning = false;
  /** Partitions of the current assignment (key → topic, partition). */
  readonly #partitions = new PartitionPositions();
  /** Bumped at every rebalance start and assignment: a batch fetched before is stale. */
  #generation = 0;
  #rebalancing = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(kafka: PlatformaticKafka, config: KafkaDriverConfig, options: DriverConsumerOptions) {
    this.#kafka = kafka;
    this.#config = config;
    this.#options = options;
  }

  async connect(): Promise<void> {
    this.#throwIfClosed();
    const o = this.#options;
    const base = baseOptions(this.#config, this.#config.retries);
    const consumer = new this.#kafka.Consumer(groupConsumerOptions(base, o));
    this.#consumer = consumer;
    this.#group = new PlatformaticGroup(this.#kafka, consumer, o.groupId, o.groupProtocol);
    this.#pool = new this.#kafka.ConnectionPool(base.clientId, { ...base, ownerId: consumer.instanceId });
    // The library emits `error` when a re-join after a failed heartbeat fails for good.
    consumer.on('error', (error: Error) => this.#crash(error));
    consumer.on('consumer:group:rebalance', () => this.#onRebalancing());
    consumer.on('consumer:group:join', (payload) => {
      if (o.groupProtocol !== 'consumer') this.#applyAssignment(payload.assignments ?? []);
    });
    consumer.on('consumer:heartbeat:end', () => this.#checkAssignment());
    consumer.on('consumer:heartbeat:error', (payload) =>
      this.#config.logger.warn('Kafka consumer heartbeat failed', {
        groupId: o.groupId,
        reason: payload.error.message,
      }),
    );
    await this.#step(async () => consumer.listApis());
    this.#lifecycle = 'connected';
  }

  async subscribe(topics: readonly string[], fromBeginning: boolean): Promise<void> {
    this.#throwIfClosed();
    this.#topics = [...topics];
    this.#fromBeginning = fromBeginning;
    // As kafkajs: a topic that does not exist fails the subscription (UNKNOWN_TOPIC_OR_PARTITION).
    const consumer = this.#requireConsumer();
    await this.#step(async () => consumer.metadata({ topics: [...topics], forceUpdate: true }));
  }

  async run(handler: DriverBatchHandler): Promise<void> {
    this.#throwIfClosed();
    const consumer = this.#requireConsumer();
    const o = this.#options;
    if (o.groupProtocol === 'consumer') {
      const stream = await this.#step(async () =>
        consumer.consume({
          topics: [...this.#topics],
          autocommit: false,
          mode: 'committed',
          fallbackMode: this.#fromBeginning ? 'earliest' : 'latest',
        }),
      );
      // Joining a KIP-848 group takes a stream; this one never fetches (its reads would bypass
      // gomes), and the library's resume() on a revocation must not start it.
      stream.resume = () => stream;
      stream.on('error', (error: Error) => this.#crash(error));
      this.#membershipStream = stream;
      this.#checkAssignment();
    } else {
      for (const topic of this.#topics) consumer.topics.track(topic);
      await this.#step(async () => consumer.joinGroup({}));
    }
    this.#lifecycle = 'running';
    this.#loop = this.#fetchLoop(handler).catch((error: unknown) => this.#crash(error));
  }

  pause(topic: string, partitions: readonly number[]): void {
    for (const partition of partitions) this.#partitions.pause(topic, partition);
  }

  resume(topic: string, partitions: readonly number[]): void {
    for (const partition of partitions) this.#partitions.resume(topic, partition);
    this.#wakeLoop();
  }

  seek(topic: string, partition: number, offset: string): void {
    this.#partitions.seek(topic, partition, BigInt(offset));
    this.#wakeLoop();
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<boolean> {
    if (offsets.length === 0) return true;
    if (this.#lifecycle !== 'running' || !this.#group) return false;
    try {
      return await this.#group.commit(offsets);
    } catch (error) {
      throw normalizePlatformaticError(error);
    }
  }

  listen(listener: DriverConsumerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async removeMember(memberId: string): Promise<boolean> {
    this.#throwIfClosed();
    const { PlatformaticAdmin } = await import('./platformatic-admin.js');
    const admin = new PlatformaticAdmin(
      this.#kafka,
      baseOptions(this.#config, this.#config.retries),
      this.#config.logger,
    );
    try {
      return await admin.removeMember(this.#options.groupId, memberId);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async disconnect(): Promise<void> {
    const wasRunning = this.#lifecycle === 'running' || this.#lifecycle === 'crashed';
    this.#lifecycle = 'closed';
    this.#closing ??= (async () => {
      this.#wakeLoop();
      await this.#loop;
      const stream = this.#membershipStream;
      if (stream) {
        delete (stream as { resume?: unknown }).resume; // the library's close() resumes it to end it
        stream.destroy();
      }
      try {
        // force: closes the library's own streams first; leaves the group (LeaveGroup, or a KIP-848
        // heartbeat with epoch -1).
        const consumer = this.#consumer;
        if (consumer)
          await new Promise<void>((resolve, reject) =>
            consumer.close(true, (error) => (error ? reject(error) : resolve())),
          );
      } catch (error) {
        if (wasRunning) throw normalizePlatformaticError(error);
      } finally {
        await this.#pool?.close().catch(() => undefined);
      }
    })();
    return this.#closing;
  }

  // ---- group events --------------------------------------------------------------------------

  #onRebalancing(): void {
    if (this.#lifecycle !== 'running' || this.#rebalancing) return;
    this.#rebalancing = true;
    this.#generation++;
    for (const l of this.#listeners) l.onRebalancing?.();
  }

  /** KIP-848: the assignment arrives with heartbeats; a change is a rebalance of this member. */
  #checkAssignment(): void {
    if (this.#options.groupProtocol !== 'consumer' || !this.#consumer) return;
    if (this.#lifecycle !== 'running' && this.#lifecycle !== 'connected') return;
    const assignments = this.#consumer.assignments ?? [];
    const next = new Set(this.#filter(assignments).map(({ topic, partition }) => key(topic, partition)));
    if (this.#partitions.sameAs(next)) return;
    if (this.#partitions.size > 0) this.#onRebalancing();
    this.#applyAssignment(assignments);
  }

  #filter(assignments: readonly { topic: string; partitions: readonly number[] }[]) {
    const only = this.#options.onlyPartitions;
    return assignments.flatMap(({ topic, partitions }) =>
      this.#topics.includes(topic)
        ? partitions
            .filter((partition) => only === undefined || only.includes(partition))
            .map((partition) => ({ topic, partition }))
        : [],
    );
  }

  /**
   * A join: the new assignment, every position unknown (listeners may seek; the others start at the
   * committed offset, or where the start policy says), then the listeners are told.
   */
  #applyAssignment(assignments: readonly { topic: string; partitions: readonly number[] }[]): void {
    if (this.#lifecycle === 'closed' || this.#lifecycle === 'crashed') return;
    this.#generation++;
    this.#rebalancing = false;
    const assignment = this.#partitions.assign(this.#filter(assignments));
    this.#group?.joined();
    const memberId = this.#consumer?.memberId ?? '';
    for (const l of this.#listeners) l.onGroupJoin?.(assignment, memberId);
    void this.#resolvePositions(this.#generation).catch((error: unknown) => this.#crash(error));
    this.#wakeLoop();
  }

  /** Starts every assigned partition without a position at its committed offset, else per the start policy. */
  async #resolvePositions(generation: number): Promise<void> {
    const consumer = this.#consumer;
    const unknown = this.#partitions.unknown();
    if (!consumer || unknown.length === 0) return;
    const seeks = this.#partitions.seekCounts(unknown);
    const offsets = await committedOrStartOffsets(consumer, unknown, this.#startPolicy());
    for (const { topic, partition, offset } of offsets)
      this.#place(topic, partition, offset, generation, seeks);
  }

  /** Places partitions at their earliest or latest offset (the start policy). */
  async #resetPositions(partitions: readonly { topic: string; partition: number }[], generation: number) {
    const consumer = this.#consumer;
    if (!consumer) return;
    const seeks = this.#partitions.seekCounts(partitions);
    const offsets = await startOffsets(consumer, partitions, this.#startPolicy());
    for (const { topic, partition, offset } of offsets)
      this.#place(topic, partition, offset, generation, seeks);
  }

  #startPolicy(): StartPolicy {
    return { fromBeginning: this.#fromBeginning, readCommitted: this.#options.readCommitted };
  }

  /** Sets a position found by a lookup of `generation` (see {@link PartitionPositions.place}). */
  #place(
    topic: string,
    partition: number,
    offset: bigint,
    generation: number,
    seeks: ReadonlyMap<string, number>,
  ): void {
    if (generation !== this.#generation) return;
    if (this.#partitions.place({ topic, partition }, offset, seeks)) this.#wakeLoop();
  }

  // ---- fetch loop ----------------------------------------------------------------------------

  async #fetchLoop(handler: DriverBatchHandler): Promise<void> {
    let failures = 0;
    while (this.#lifecycle === 'running') {
      if (this.#options.groupProtocol === 'consumer') this.#checkAssignment();
      const wanted = this.#rebalancing ? [] : this.#partitions.fetchable();
      if (wanted.length === 0) {
        await this.#idle(Math.min(this.#options.maxWaitTimeMs, 200));
        continue;
      }
      try {
        await fetchRound(this.#fetchRoundHost(), wanted, handler);
        failures = 0;
      } catch (error) {
        if (this.#lifecycle !== 'running') return;
        // As with kafkajs: a batch handler that throws crashes the consumer (gomes restarts it).
        if (error instanceof BatchHandlerError) throw error.cause;
        failures++;
        this.#consumer?.clearMetadata();
        if (failures > this.#config.retries) throw error;
        this.#config.logger.warn('Kafka fetch failed; retrying', {
          groupId: this.#options.groupId,
          attempt: failures,
          reason: normalizePlatformaticError(error).message,
        });
        await this.#idle(
          Math.min(this.#config.maxRetryTimeMs, this.#config.initialRetryTimeMs * 2 ** failures),
        );
      }
    }
  }

  #fetchRoundHost(): FetchRoundHost {
    return {
      kafka: this.#kafka,
      consumer: this.#requireConsumer(),
      pool: this.#pool,
      options: this.#options,
      topics: this.#topics,
      partitions: this.#partitions,
      isRunning: () => this.#lifecycle === 'running',
      generation: () => this.#generation,
      idle: async (ms) => this.#idle(ms),
      resetPositions: async (partitions, generation) => this.#resetPositions(partitions, generation),
      batchEnd: (topic, partition, lastOffset) => {
        for (const l of this.#listeners) l.onBatchEnd?.(topic, partition, lastOffset);
      },
    };
  }

  async #idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  #wakeLoop(): void {
    this.#wake?.();
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  #crash(error: unknown): void {
    if (this.#lifecycle === 'closed' || this.#lifecycle === 'crashed') return;
    this.#lifecycle = 'crashed';
    this.#generation++;
    this.#wakeLoop();
    const normalized = normalizePlatformaticError(error);
    this.#config.logger.error('Kafka consumer crashed', {
      groupId: this.#options.groupId,
      reason: normalized.message,
    });
    for (const l of this.#listeners) l.onCrash?.(normalized);
  }

  /** Runs a start step; a disconnect during it ends the step disconnected (never a live member). */
  async #step<T>(work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      throw normalizePlatformaticError(error);
    }
    if (this.#lifecycle === 'closed') {
      await this.disconnect().catch(() => undefined);
      this.#throwIfClosed();
    }
    return result;
  }

  #requireConsumer(): Consumer {
    if (!this.#consumer) throw new Error('The consumer is not connected');
    return this.#consumer;
  }

  #throwIfClosed(): void {
    if (this.#lifecycle === 'closed') {
      throw Object.assign(new Error('The consumer was disconnected'), { retriable: false });
    }
  }
}
