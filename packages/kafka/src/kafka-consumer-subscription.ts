import {
  GomesError,
  type ConsumerChannelStatus,
  type ConsumerTransportState,
  type DeliveryHandler,
  type Logger,
  type PartitionLag,
  type PartitionProgress,
  type SubscribeOptions,
  type Subscription,
} from '@gomes/core';
import type {
  DriverBatch,
  DriverBatchControl,
  DriverConsumer,
  DriverConsumerOptions,
  DriverInboundRecord,
  KafkaDriver,
  TopicPartitions,
} from './driver/kafka-driver.js';
import { DeadLetterWriter } from './dead-letter-writer.js';
import type { KafkaConsumerOptions } from './kafka-consumer-options.js';
import { rootMessage, toConnectionError } from './kafka-errors.js';
import type { KafkaMessageTranslator } from './kafka-message-translator.js';
import { PartitionWorker, type PartitionWorkerHost } from './partition-worker.js';
import { sharedPromise, sleepUnlessAborted } from './internal/async-utils.js';

/** Lifecycle state of a Kafka consumer subscription. @public */
export type KafkaConsumerState = 'starting' | 'running' | 'rebalancing' | 'crashed' | 'stopping' | 'stopped';

const MAX_RESTART_BACKOFF_MS = 30000;
const HEALTHY_RUN_MS = 60000;

/** Everything a subscription needs from its channel. @internal */
export interface SubscriptionConfig {
  readonly driver: KafkaDriver;
  readonly consumerName: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly deadLetterTopic: string;
  readonly options: KafkaConsumerOptions;
  readonly logger: Logger;
}

/**
 * A running subscription of a Kafka consumer channel: one kafkajs consumer-group member, one
 * {@link PartitionWorker} per assigned partition, periodic gap-safe commits, and crash recovery.
 *
 * @internal
 */
export class KafkaConsumerSubscription implements Subscription {
  readonly #config: SubscriptionConfig;
  readonly #onError: (error: Error) => void;
  readonly #workers = new Map<string, PartitionWorker>();
  /** High watermark of each partition, from the latest fetched batch. */
  readonly #highWatermarks = new Map<string, bigint>();
  readonly #deadLetters: DeadLetterWriter;
  readonly #abort = new AbortController();
  readonly #host: PartitionWorkerHost;
  #consumer: DriverConsumer | undefined;
  #unlisten: (() => void) | undefined;
  #stateValue: KafkaConsumerState = 'starting';
  #stateSince = Date.now();
  /** True from a crash until the restart loop ended (restarted, gave up or closed). */
  #restarting = false;
  #crashReason: string | undefined;
  /** When each partition was last seen caught up (a fetch found no lag before it), for health. */
  readonly #caughtUpAt = new Map<string, number>();
  #stopped = false;
  #starting = false;
  #startError: Error | undefined;
  #restarts = 0;
  #groupJoins = 0;
  #runningSince = 0;
  #commitTimer: NodeJS.Timeout | undefined;
  #commitSoon = false;
  #commitChain: Promise<void> = Promise.resolve();

  constructor(config: SubscriptionConfig, handler: DeliveryHandler, options: SubscribeOptions) {
    this.#config = config;
    const logger = config.logger;
    this.#onError = (error) => {
      logger.error('Kafka consumer error', {
        reason: error.message,
        code: (error as { code?: unknown }).code,
      });
      try {
        options.onError?.(error);
      } catch (listenerError) {
        logger.error('onError listener threw', { reason: rootMessage(listenerError) });
      }
    };
    this.#deadLetters = new DeadLetterWriter(config.driver, config.deadLetterTopic, config.groupId, logger);
    const translator: KafkaMessageTranslator = config.options.translator;
    let turn: Promise<void> = Promise.resolve();
    this.#host = {
      handOver: async (delivery, stillWanted) => {
        const mine = turn.then(async () => {
          if (stillWanted() && !this.#stopped) await handler(delivery);
        });
        turn = mine.catch(() => undefined);
        return mine;
      },
      translator,
      queueCapacity: config.options.queueCapacity,
      // Fetch again once half a fetch (maxBytes per partition) is left: at most ~1.5 fetches buffered.
      prefetchLowWaterBytes: Math.floor(config.options.maxBytes / 2),
      heartbeatIntervalMs: config.options.heartbeatIntervalMs,
      groupId: config.groupId,
      logger,
      pause: (topic, partition) => this.#consumer?.pause(topic, [partition]),
      resume: (topic, partition) => this.#consumer?.resume(topic, [partition]),
      seek: (topic, partition, offset) => this.#consumer?.seek(topic, partition, offset.toString()),
      onCommittable: () => this.#onCommittable(),
      deadLetter: async (record: DriverInboundRecord, error: Error, halted: () => boolean) =>
        this.#deadLetters.write(record, error, () => halted() || this.#abort.signal.aborted),
      reportError: (error) => this.#onError(error),
    };
  }

  /** Current state. */
  get state(): KafkaConsumerState {
    return this.#state;
  }

  get #state(): KafkaConsumerState {
    return this.#stateValue;
  }

  set #state(state: KafkaConsumerState) {
    if (state === this.#stateValue) return;
    this.#stateValue = state;
    this.#stateSince = Date.now();
  }

  /**
   * State and per-partition progress for `gomes.health()`. `starting` (joining the group, also
   * during a restart) counts as `rebalancing`, `stopping` as `stopped`. A partition's progress is
   * the latest of: its acked prefix advancing, its worker being created (assignment), a fetch
   * finding it caught up before the batch, and now when its lag is 0.
   */
  status(): ConsumerChannelStatus {
    const now = Date.now();
    const partitions: PartitionProgress[] = this.consumerLag().map((lag) => {
      const k = key(lag.channel, lag.partition);
      const worker = this.#workers.get(k);
      const lastProgressAt =
        lag.lag === 0 ? now : Math.max(worker?.lastAdvanceAt ?? 0, this.#caughtUpAt.get(k) ?? 0);
      return { ...lag, lastProgressAt };
    });
    const state = toTransportState(this.#state);
    return {
      state,
      since: this.#stateSince,
      restarting: this.#restarting,
      ...(state === 'crashed' && this.#crashReason !== undefined ? { error: this.#crashReason } : {}),
      partitions,
    };
  }

  /** Partitions currently assigned to this member. */
  get assignment(): TopicPartitions[] {
    const byTopic = new Map<string, number[]>();
    for (const w of this.#workers.values())
      byTopic.set(w.topic, [...(byTopic.get(w.topic) ?? []), w.partition]);
    return [...byTopic].map(([topic, partitions]) => ({
      topic,
      partitions: partitions.sort((a, b) => a - b),
    }));
  }

  /** How many times the member joined the group (1 + rebalances + restarts). */
  get groupJoins(): number {
    return this.#groupJoins;
  }

  /**
   * Lag of each assigned partition: high watermark of the latest fetch − the acked position (the
   * offset a commit would store, or the fetch position when nothing was acked yet). Partitions with
   * no fetch yet are left out.
   */
  consumerLag(): PartitionLag[] {
    const lags: PartitionLag[] = [];
    for (const [k, w] of this.#workers) {
      const hw = this.#highWatermarks.get(k);
      const position = w.ackedOffset ?? w.nextOffset;
      if (hw === undefined || position === undefined) continue;
      lags.push({
        channel: w.topic,
        partition: w.partition,
        group: this.#config.groupId,
        lag: Number(hw > position ? hw - position : 0n),
      });
    }
    return lags;
  }

  /** Records written to the dead-letter topic by this subscription. */
  get deadLettered(): number {
    return this.#deadLetters.written;
  }

  /** Starts the group member; rejects (and cleans up) when the first start fails. */
  async start(): Promise<void> {
    try {
      await this.#startConsumer();
    } catch (error) {
      this.#state = 'stopped';
      this.#stopped = true;
      await this.#deadLetters.close();
      throw error;
    }
    const interval = this.#config.options.commitIntervalMs;
    if (interval > 0) {
      this.#commitTimer = setInterval(() => void this.commitAcked(), interval);
      this.#commitTimer.unref();
    }
  }

  /** Commits every partition's acked prefix now. */
  async commitAcked(): Promise<void> {
    const offsets = [...this.#workers.values()]
      .map((w) => ({ w, offset: w.pendingCommit }))
      .filter((x): x is { w: PartitionWorker; offset: bigint } => x.offset !== undefined);
    return this.#commit(offsets);
  }

  /** @inheritDoc */
  readonly stop = sharedPromise(async () => {
    this.#stopped = true;
    if (this.#state !== 'crashed') this.#state = 'stopping';
    for (const w of this.#workers.values()) w.suspend();
  });

  /** @inheritDoc */
  readonly close = sharedPromise(async () => {
    await this.stop();
    clearInterval(this.#commitTimer);
    this.#abort.abort();
    await this.commitAcked();
    for (const w of this.#workers.values()) w.revoke();
    this.#workers.clear();
    await this.#disconnect();
    await this.#deadLetters.close();
    this.#state = 'stopped';
  });

  async #startConsumer(): Promise<void> {
    const { driver, options: o, topics, groupId } = this.#config;
    const consumerOptions: DriverConsumerOptions = {
      groupId,
      sessionTimeoutMs: o.sessionTimeoutMs,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      minBytes: o.minBytes,
      maxBytes: Math.max(o.maxBytes, 10485760),
      maxBytesPerPartition: o.maxBytes,
      maxWaitTimeMs: o.maxWaitMs,
      readCommitted: o.isolationLevel === 'read_committed',
      metadataMaxAgeMs: o.watchPartitionChanges ? o.partitionWatchIntervalMs : 300000,
      onlyPartitions: o.partition === undefined ? undefined : [o.partition],
      allowAutoTopicCreation: false,
    };
    const consumer = driver.createConsumer(consumerOptions);
    this.#consumer = consumer;
    this.#unlisten = consumer.listen({
      onRebalancing: () => this.#onRebalancing(),
      onGroupJoin: (assignment) => this.#onGroupJoin(assignment),
      onCrash: (error) => this.#onCrash(error),
    });
    this.#starting = true;
    this.#startError = undefined;
    this.#state = 'starting';
    const where = `Kafka for consumer "${this.#config.consumerName}" (group "${groupId}")`;
    try {
      await consumer.connect();
      await consumer.subscribe(topics, o.startOffset === 'earliest');
      await consumer.run(async (batch, control) => this.#onBatch(batch, control));
    } catch (error) {
      await this.#disconnect();
      throw toConnectionError(error, where, { groupId, topics: [...topics] });
    } finally {
      this.#starting = false;
    }
    if (this.#startError) {
      const error = this.#startError;
      await this.#disconnect();
      throw toConnectionError(error, where, { groupId, topics: [...topics] });
    }
    this.#runningSince = Date.now();
    if (this.#state === 'starting') this.#state = this.#stopped ? 'stopping' : 'running';
  }

  async #onBatch(batch: DriverBatch, control: DriverBatchControl): Promise<void> {
    if (this.#stopped) return;
    const k = key(batch.topic, batch.partition);
    const worker = this.#workers.get(k) ?? this.#addWorker(batch.topic, batch.partition);
    const previous = this.#highWatermarks.get(k);
    const position = worker.ackedOffset ?? worker.nextOffset;
    if (previous === undefined || position === undefined || position >= previous)
      this.#caughtUpAt.set(k, Date.now());
    this.#highWatermarks.set(k, BigInt(batch.highWatermark));
    worker.accept(batch.records, control);
    // Backpressure without re-fetching: the driver fetches again once the buffer has room.
    await worker.waitForRoom(control);
  }

  #addWorker(topic: string, partition: number): PartitionWorker {
    const worker = new PartitionWorker(topic, partition, this.#host);
    this.#workers.set(key(topic, partition), worker);
    return worker;
  }

  #onRebalancing(): void {
    this.#state = 'rebalancing';
    for (const w of this.#workers.values()) w.suspend();
    void this.commitAcked();
  }

  #onGroupJoin(assignment: readonly TopicPartitions[]): void {
    this.#groupJoins++;
    const assigned = new Set(assignment.flatMap((a) => a.partitions.map((p) => key(a.topic, p))));
    const revoked = [...this.#workers].filter(([k]) => !assigned.has(k));
    const finalCommits = revoked
      .map(([, w]) => ({ w, offset: w.pendingCommit }))
      .filter((x): x is { w: PartitionWorker; offset: bigint } => x.offset !== undefined);
    for (const [k, w] of revoked) {
      w.revoke();
      this.#workers.delete(k);
    }
    void this.#commit(finalCommits);
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) {
        const existing = this.#workers.get(key(topic, partition));
        if (existing) {
          if (!this.#stopped) existing.unsuspend();
          continue;
        }
        const worker = this.#addWorker(topic, partition);
        if (this.#stopped) {
          worker.suspend();
        } else {
          this.#consumer?.resume(topic, [partition]); // clear a pause left from an earlier assignment
        }
      }
    }
    if (!this.#starting)
      this.#restarts = Date.now() - this.#runningSince > HEALTHY_RUN_MS ? 0 : this.#restarts;
    this.#state = this.#stopped ? 'stopping' : 'running';
    this.#config.logger.info('Kafka consumer assignment', {
      groupId: this.#config.groupId,
      assignment: assignment.map((a) => `${a.topic}[${[...a.partitions].join(',')}]`),
      revoked: revoked.map(([k]) => k),
    });
  }

  #onCrash(error: Error): void {
    if (this.#starting) {
      this.#startError = error;
      return;
    }
    if (this.#abort.signal.aborted) return;
    this.#state = 'crashed';
    this.#crashReason = rootMessage(error);
    this.#onError(
      new GomesError(
        'CONSUMER_CRASHED',
        `Kafka consumer "${this.#config.consumerName}" crashed: ${rootMessage(error)}`,
        {
          cause: error,
          details: { groupId: this.#config.groupId, restarts: this.#restarts },
        },
      ),
    );
    this.#restarting = true;
    void this.#restart().finally(() => (this.#restarting = false));
  }

  async #restart(): Promise<void> {
    if (Date.now() - this.#runningSince > HEALTHY_RUN_MS) this.#restarts = 0;
    for (const w of this.#workers.values()) w.revoke();
    this.#workers.clear();
    await this.#disconnect();
    const { maxRestarts, restartBackoffMs } = this.#config.options;
    while (!this.#abort.signal.aborted && this.#restarts < maxRestarts) {
      this.#restarts++;
      const delay = Math.min(MAX_RESTART_BACKOFF_MS, restartBackoffMs * 2 ** (this.#restarts - 1));
      await sleepUnlessAborted(delay, this.#abort.signal);
      if (this.#abort.signal.aborted) return;
      try {
        await this.#startConsumer();
        this.#config.logger.warn('Kafka consumer restarted after a crash', { restarts: this.#restarts });
        return;
      } catch (error) {
        this.#state = 'crashed';
        this.#crashReason = `restart ${this.#restarts} failed: ${rootMessage(error)}`;
        this.#onError(
          new GomesError(
            'CONSUMER_CRASHED',
            `Restart ${this.#restarts} of Kafka consumer "${this.#config.consumerName}" failed: ${rootMessage(error)}`,
            {
              cause: error,
              details: { groupId: this.#config.groupId, restarts: this.#restarts },
            },
          ),
        );
      }
    }
    if (this.#abort.signal.aborted) return;
    this.#state = 'crashed';
    this.#onError(
      new GomesError(
        'CONSUMER_CRASHED',
        `Kafka consumer "${this.#config.consumerName}" gave up after ${this.#restarts} restart(s); it consumes nothing until it is subscribed again`,
        { retriable: false, details: { groupId: this.#config.groupId, restarts: this.#restarts } },
      ),
    );
  }

  #onCommittable(): void {
    if (this.#config.options.commitIntervalMs > 0 || this.#commitSoon) return;
    this.#commitSoon = true;
    setImmediate(() => {
      this.#commitSoon = false;
      void this.commitAcked();
    });
  }

  async #commit(entries: readonly { w: PartitionWorker; offset: bigint }[]): Promise<void> {
    if (entries.length === 0) return this.#commitChain;
    const consumer = this.#consumer;
    this.#commitChain = this.#commitChain.then(async () => {
      if (!consumer) return;
      try {
        await consumer.commit(
          entries.map(({ w, offset }) => ({
            topic: w.topic,
            partition: w.partition,
            offset: offset.toString(),
          })),
        );
        for (const { w, offset } of entries) w.markCommitted(offset);
      } catch (error) {
        this.#config.logger.warn(
          'Kafka offset commit failed; acked offsets will be committed later or redelivered',
          {
            reason: rootMessage(error),
          },
        );
      }
    });
    return this.#commitChain;
  }

  async #disconnect(): Promise<void> {
    this.#unlisten?.();
    this.#unlisten = undefined;
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.disconnect().catch((error: unknown) => {
      this.#config.logger.warn('Kafka consumer disconnect failed', { reason: rootMessage(error) });
    });
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function toTransportState(state: KafkaConsumerState): ConsumerTransportState {
  if (state === 'starting') return 'rebalancing';
  if (state === 'stopping') return 'stopped';
  return state;
}
