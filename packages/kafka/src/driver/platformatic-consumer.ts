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
  DriverBatch,
  DriverBatchHandler,
  DriverConsumer,
  DriverConsumerListener,
  DriverConsumerOptions,
  KafkaDriverConfig,
  TopicPartitionOffset,
  TopicPartitions,
} from './kafka-driver.js';
import { baseOptions } from './platformatic-driver.js';
import type { PlatformaticKafka } from './platformatic-loader.js';
import { fixedPartitionsAssignor, roundRobinAssignor } from './platformatic-assigners.js';
import { findApiId, normalizePlatformaticError } from './platformatic-errors.js';
import { fetchedRecords, type FetchResponsePartition } from './platformatic-records.js';
import {
  BatchHandlerError,
  committedOrStartOffsets,
  fetchFromLeader,
  handleBatch,
  partitionKey as key,
  STALE_METADATA,
  startOffsets,
  type StartPolicy,
} from './platformatic-fetch.js';

import { PlatformaticGroup } from './platformatic-group.js';

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
  #assigned = new Map<string, { topic: string; partition: number }>();
  /** Bumped at every rebalance start and assignment: a batch fetched before is stale. */
  #generation = 0;
  #rebalancing = false;
  /** Next offset to fetch per assigned partition; absent while unknown (being looked up). */
  readonly #positions = new Map<string, bigint>();
  /** Bumped per partition by every seek or position reset: a batch fetched before is stale. */
  readonly #seeks = new Map<string, number>();
  readonly #paused = new Set<string>();
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
    const assignor = o.onlyPartitions ? fixedPartitionsAssignor(o.onlyPartitions) : roundRobinAssignor;
    const group =
      o.groupProtocol === 'consumer'
        ? {
            groupProtocol: 'consumer' as const,
            // The broker owns the session under KIP-848; the library still validates these two.
            sessionTimeout: o.sessionTimeoutMs,
            rebalanceTimeout: Math.max(o.rebalanceTimeoutMs, o.sessionTimeoutMs),
          }
        : {
            sessionTimeout: o.sessionTimeoutMs,
            // The library requires rebalanceTimeout >= sessionTimeout (Kafka does not).
            rebalanceTimeout: Math.max(o.rebalanceTimeoutMs, o.sessionTimeoutMs),
            heartbeatInterval: o.heartbeatIntervalMs,
            protocols: [assignor.protocol],
            partitionAssigner: assignor.assign,
          };
    const consumer = new this.#kafka.Consumer({
      ...base,
      ...group,
      groupId: o.groupId,
      autocommit: false,
      minBytes: o.minBytes,
      maxBytes: o.maxBytes,
      maxWaitTime: o.maxWaitTimeMs,
      isolationLevel: o.readCommitted ? 1 : 0,
      metadataMaxAge: o.metadataMaxAgeMs,
      autocreateTopics: o.allowAutoTopicCreation,
    });
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
    for (const partition of partitions) this.#paused.add(key(topic, partition));
  }

  resume(topic: string, partitions: readonly number[]): void {
    for (const partition of partitions) this.#paused.delete(key(topic, partition));
    this.#wakeLoop();
  }

  seek(topic: string, partition: number, offset: string): void {
    const k = key(topic, partition);
    this.#positions.set(k, BigInt(offset));
    this.#seeks.set(k, (this.#seeks.get(k) ?? 0) + 1);
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
    if (next.size === this.#assigned.size && [...next].every((k) => this.#assigned.has(k))) return;
    if (this.#assigned.size > 0) this.#onRebalancing();
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
    this.#assigned = new Map(this.#filter(assignments).map((tp) => [key(tp.topic, tp.partition), tp]));
    this.#positions.clear();
    for (const k of [...this.#paused]) if (!this.#assigned.has(k)) this.#paused.delete(k);
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of this.#assigned.values())
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const assignment: TopicPartitions[] = [...byTopic].map(([topic, partitions]) => ({
      topic,
      partitions: partitions.sort((a, b) => a - b),
    }));
    this.#group?.joined();
    const memberId = this.#consumer?.memberId ?? '';
    for (const l of this.#listeners) l.onGroupJoin?.(assignment, memberId);
    void this.#resolvePositions(this.#generation).catch((error: unknown) => this.#crash(error));
    this.#wakeLoop();
  }

  /** Starts every assigned partition without a position at its committed offset, else per the start policy. */
  async #resolvePositions(generation: number): Promise<void> {
    const consumer = this.#consumer;
    const unknown = [...this.#assigned].filter(([k]) => !this.#positions.has(k)).map(([, tp]) => tp);
    if (!consumer || unknown.length === 0) return;
    const seeks = this.#seekCounts(unknown);
    const offsets = await committedOrStartOffsets(consumer, unknown, this.#startPolicy());
    for (const { topic, partition, offset } of offsets)
      this.#place(topic, partition, offset, generation, seeks);
  }

  /** Places partitions at their earliest or latest offset (the start policy). */
  async #resetPositions(partitions: readonly { topic: string; partition: number }[], generation: number) {
    const consumer = this.#consumer;
    if (!consumer) return;
    const seeks = this.#seekCounts(partitions);
    const offsets = await startOffsets(consumer, partitions, this.#startPolicy());
    for (const { topic, partition, offset } of offsets)
      this.#place(topic, partition, offset, generation, seeks);
  }

  /** How often each partition was sought so far (a lookup started now is stale after another seek). */
  #seekCounts(partitions: readonly { topic: string; partition: number }[]): Map<string, number> {
    return new Map(
      partitions.map(({ topic, partition }) => [
        key(topic, partition),
        this.#seeks.get(key(topic, partition)) ?? 0,
      ]),
    );
  }

  #startPolicy(): StartPolicy {
    return { fromBeginning: this.#fromBeginning, readCommitted: this.#options.readCommitted };
  }

  /**
   * Sets a position found by a lookup, unless a seek or a newer assignment came first. `seeks`: the
   * partitions' seek counts when the lookup started — a seek since then (even one whose position was
   * dropped again, e.g. out of range) makes the lookup stale: a late committed-offset lookup must not
   * overwrite where an out-of-range reset is about to place the partition.
   */
  #place(
    topic: string,
    partition: number,
    offset: bigint,
    generation: number,
    seeks: ReadonlyMap<string, number>,
  ): void {
    const k = key(topic, partition);
    if (generation !== this.#generation || this.#positions.has(k) || !this.#assigned.has(k)) return;
    if ((this.#seeks.get(k) ?? 0) !== (seeks.get(k) ?? 0)) return;
    this.#positions.set(k, offset);
    this.#wakeLoop();
  }

  // ---- fetch loop ----------------------------------------------------------------------------

  async #fetchLoop(handler: DriverBatchHandler): Promise<void> {
    let failures = 0;
    while (this.#lifecycle === 'running') {
      if (this.#options.groupProtocol === 'consumer') this.#checkAssignment();
      const wanted = this.#rebalancing
        ? []
        : [...this.#assigned].filter(([k]) => !this.#paused.has(k) && this.#positions.has(k));
      if (wanted.length === 0) {
        await this.#idle(Math.min(this.#options.maxWaitTimeMs, 200));
        continue;
      }
      try {
        await this.#fetchOnce(
          wanted.map(([, tp]) => tp),
          handler,
        );
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

  /** One fetch per partition leader (concurrently), then their batches, one at a time. */
  async #fetchOnce(partitions: readonly { topic: string; partition: number }[], handler: DriverBatchHandler) {
    const consumer = this.#requireConsumer();
    const metadata = await consumer.metadata({ topics: [...this.#topics] });
    const generation = this.#generation;
    const byLeader = new Map<
      number,
      { topicId: string; topic: string; partition: number; offset: bigint; seek: number }[]
    >();
    for (const { topic, partition } of partitions) {
      const info = metadata.topics.get(topic);
      const leader = info?.partitions[partition]?.leader;
      const k = key(topic, partition);
      const offset = this.#positions.get(k);
      if (info === undefined || leader === undefined || leader < 0 || offset === undefined) continue;
      const list = byLeader.get(leader) ?? [];
      list.push({ topicId: info.id, topic, partition, offset, seek: this.#seeks.get(k) ?? 0 });
      byLeader.set(leader, list);
    }
    if (byLeader.size === 0) {
      consumer.clearMetadata();
      await this.#idle(200);
      return;
    }
    const fetches = [...byLeader].map(async ([leader, requested]) => ({
      requested,
      response: await fetchFromLeader(
        this.#kafka,
        consumer,
        this.#pool,
        metadata.brokers.get(leader),
        requested,
        this.#options,
      ),
    }));
    for (const { requested, response } of await Promise.all(fetches)) {
      const ids = new Map(requested.map((r) => [`${r.topicId}:${r.partition}`, r]));
      for (const topicResponse of response.responses) {
        for (const p of topicResponse.partitions) {
          const request = ids.get(`${topicResponse.topicId}:${p.partitionIndex}`);
          if (request) await this.#onPartition(request, p, generation, handler);
        }
      }
    }
  }

  async #onPartition(
    request: { topic: string; partition: number; offset: bigint; seek: number },
    response: FetchResponsePartition,
    generation: number,
    handler: DriverBatchHandler,
  ): Promise<void> {
    const { topic, partition } = request;
    const k = key(topic, partition);
    const current = (): boolean =>
      this.#lifecycle === 'running' &&
      generation === this.#generation &&
      (this.#seeks.get(k) ?? 0) === request.seek &&
      this.#assigned.has(k);
    // Paused, sought or rebalanced since the fetch: dropped, fetched again from the position.
    if (!current() || this.#paused.has(k)) return;
    if (response.errorCode !== 0) {
      const error = new this.#kafka.ProtocolError(response.errorCode);
      const name = findApiId(error);
      if (name === 'OFFSET_OUT_OF_RANGE') {
        this.#positions.delete(k);
        this.#seeks.set(k, request.seek + 1);
        await this.#resetPositions([{ topic, partition }], generation);
        return;
      }
      if (name !== undefined && STALE_METADATA.has(name)) {
        this.#consumer?.clearMetadata();
        return;
      }
      throw normalizePlatformaticError(error);
    }
    const fetched = fetchedRecords(topic, partition, response, request.offset, this.#options.readCommitted);
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
          if (current()) this.#positions.set(k, BigInt(offset) + 1n);
        },
        isRunning: () => this.#lifecycle === 'running' && generation === this.#generation,
        isStale: () => !current(),
        heartbeat: async () => {
          if (this.#lifecycle === 'running' && generation !== this.#generation)
            throw new Error('The group is rebalancing');
        },
      });
    } else if (current() && fetched.lastOffset >= request.offset) {
      // Only transaction markers or aborted records: nothing to hand over, the position moves on.
      this.#positions.set(k, fetched.lastOffset + 1n);
    }
    for (const l of this.#listeners) l.onBatchEnd?.(topic, partition, lastOffset);
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
