import { GomesError, type Logger } from '@gomes/core';
import type {
  ConsumerChannelStatus,
  ConsumerTransportState,
  DeliveryHandler,
  PartitionLag,
  SubscribeOptions,
  Subscription,
} from '@gomes/core/transport';
import type {
  DriverBatch,
  DriverBatchControl,
  DriverConsumer,
  DriverInboundRecord,
  KafkaDriver,
  TopicPartitions,
} from './driver/kafka-driver.js';
import { DeadLetterWriter } from './dead-letter-writer.js';
import { waitUntilDecodable } from './decode-readiness.js';
import { toDriverConsumerOptions, type KafkaConsumerOptions } from './kafka-consumer-options.js';
import { isUnknownTopicError, rootMessage, toConnectionError } from './kafka-errors.js';
import { findMissingTopics, topicNotFoundError } from './topic-provisioner.js';
import type { KafkaMessageTranslator } from './kafka-message-translator.js';
import { AssignedPartitions } from './assigned-partitions.js';
import { EphemeralPositions } from './ephemeral-positions.js';
import { OffsetCommitter } from './offset-committer.js';
import { PartitionWorker, type PartitionWorkerHost } from './partition-worker.js';
import { sharedPromise } from './internal/async-utils.js';
import { removeCrashedMember } from './crashed-member.js';
import { RestartBudget, restartUntilRunning } from './restart-policy.js';

/** Lifecycle state of a Kafka consumer subscription. @public */
export type KafkaConsumerState = 'starting' | 'running' | 'rebalancing' | 'crashed' | 'stopping' | 'stopped';

/** Everything a subscription needs from its channel. @internal */
export interface SubscriptionConfig {
  readonly driver: KafkaDriver;
  readonly consumerName: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** The channel's own topic (the one `withTopic()` creates). */
  readonly channelTopic: string;
  readonly deadLetterTopic: string;
  readonly options: KafkaConsumerOptions;
  readonly logger: Logger;
  /**
   * An ephemeral reader (see {@link EphemeralPositions}): starts at the end of every partition and
   * keeps its positions in memory, never committing. @default false
   */
  readonly ephemeral?: boolean;
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
  readonly #partitions: AssignedPartitions;
  readonly #deadLetters: DeadLetterWriter;
  readonly #abort = new AbortController();
  readonly #host: PartitionWorkerHost;
  readonly #committer: OffsetCommitter;
  #consumer: DriverConsumer | undefined;
  #unlisten: (() => void) | undefined;
  /** Member id of the latest group join: a new one means the member was evicted and re-joined. */
  #memberId: string | undefined;
  /**
   * Member id of a client that crashed, until the group confirmed it gone: a restart removes it
   * before it joins, so the group does not wait for its session to time out.
   */
  #staleMemberId: string | undefined;
  readonly #budget: RestartBudget;
  /** The restart loop after a crash, while it runs. */
  #restartLoop: Promise<void> | undefined;
  /** The restart policy gave up: nothing consumes until the channel is subscribed again. */
  #gaveUp = false;
  #stateValue: KafkaConsumerState = 'starting';
  #stateSince = Date.now();
  /** True from a crash until the restart loop ended (restarted, gave up or closed). */
  #restarting = false;
  #crashReason: string | undefined;
  #stopped = false;
  #starting = false;
  #startError: Error | undefined;
  #groupJoins = 0;
  #commitTimer: NodeJS.Timeout | undefined;
  #commitSoon = false;
  /** An ephemeral reader's positions (set before the first join), in place of group commits. */
  #positions: EphemeralPositions | undefined;

  constructor(config: SubscriptionConfig, handler: DeliveryHandler, options: SubscribeOptions) {
    this.#config = config;
    this.#partitions = new AssignedPartitions(config.groupId);
    this.#budget = new RestartBudget({
      maxRestarts: config.options.maxRestarts,
      initialDelayMs: config.options.restartBackoffMs,
      maxDelayMs: config.options.maxRestartBackoffMs,
    });
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
    this.#deadLetters = new DeadLetterWriter(
      config.driver,
      config.deadLetterTopic,
      config.groupId,
      logger,
      (error) => this.#onError(error),
    );
    this.#committer = new OffsetCommitter({
      consumer: () => this.#positions?.committer ?? this.#consumer,
      workers: () => this.#partitions.workers(),
      logger,
    });
    const translator: KafkaMessageTranslator = config.options.translator;
    let turn: Promise<unknown> = Promise.resolve();
    this.#host = {
      handOver: async (delivery, stillWanted) => {
        const mine = turn.then(async () => {
          await this.#committer.whileStalled(() => stillWanted() && !this.#stopped, this.#abort.signal);
          if (!stillWanted() || this.#stopped) return false;
          await handler(delivery);
          return true;
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
      whenDecodable: async (record, pending, halted) =>
        waitUntilDecodable(
          {
            translator,
            signal: this.#abort.signal,
            report: (error) => this.#onError(error),
          },
          record,
          pending,
          halted,
        ),
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
   * State and per-partition progress for `gomes.health()` (see {@link AssignedPartitions.progress}).
   * `starting` (joining the group) counts as `rebalancing`, `stopping` as `stopped`; during a crash
   * restart an attempt under way stays `crashed` (with `restarting`) until the member runs again, so
   * a broker outage reads not ready, however long it lasts.
   */
  status(): ConsumerChannelStatus {
    const state = this.#restarting && this.#state === 'starting' ? 'crashed' : toTransportState(this.#state);
    return {
      state,
      since: this.#stateSince,
      restarting: this.#restarting,
      ...(state === 'crashed' && this.#crashReason !== undefined ? { error: this.#crashReason } : {}),
      partitions: this.#partitions.progress(),
    };
  }

  /** Partitions currently assigned to this member. */
  get assignment(): TopicPartitions[] {
    return this.#partitions.assignment;
  }

  /** How many times the member joined the group (1 + rebalances + restarts). */
  get groupJoins(): number {
    return this.#groupJoins;
  }

  /** Lag of each assigned partition (see {@link AssignedPartitions.lag}). */
  consumerLag(): PartitionLag[] {
    return this.#partitions.lag();
  }

  /** Whether the restart policy gave up after a crash (resources released; subscribe again). */
  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  /** Records written to the dead-letter topic by this subscription. */
  get deadLettered(): number {
    return this.#deadLetters.written;
  }

  /** Starts the group member; rejects (and cleans up) when the first start fails. */
  async start(): Promise<void> {
    try {
      if (this.#config.ephemeral) this.#positions = await this.#readEndOffsets();
      await this.#startConsumer();
    } catch (error) {
      this.#state = 'stopped';
      this.#stopped = true;
      await this.#deadLetters.close();
      throw error;
    }
    if (this.#abort.signal.aborted) return; // closed while starting
    const interval = this.#config.options.commitIntervalMs;
    if (interval > 0) {
      this.#commitTimer = setInterval(() => void this.commitAcked(), interval);
      this.#commitTimer.unref();
    }
  }

  /**
   * Commits every current partition's acked prefix now (after the commits before it; while a
   * rebalance is in progress, at the next group join). See {@link OffsetCommitter}.
   */
  async commitAcked(): Promise<void> {
    return this.#committer.commit();
  }

  /** @inheritDoc */
  readonly stop = sharedPromise(async () => {
    this.#stopped = true;
    if (this.#state !== 'crashed') this.#state = 'stopping';
    for (const w of this.#partitions.workers()) w.suspend();
  });

  /** @inheritDoc */
  readonly close = sharedPromise(async () => {
    await this.stop();
    clearInterval(this.#commitTimer);
    this.#abort.abort();
    // The last chance to commit: also sent while a rebalance is under way (old generation).
    await this.#committer.commit(true);
    this.#partitions.revoke();
    this.#committer.reset();
    await this.#disconnect();
    // A restart under way sees the abort after its current step and disconnects what it started.
    await this.#restartLoop;
    await this.#deadLetters.close();
    this.#state = 'stopped';
  });

  async #startConsumer(): Promise<void> {
    const { driver, options: o, topics, groupId } = this.#config;
    const consumer = driver.createConsumer(toDriverConsumerOptions(groupId, o));
    this.#consumer = consumer;
    this.#memberId = undefined;
    this.#unlisten = consumer.listen({
      onRebalancing: () => this.#onRebalancing(),
      onGroupJoin: (assignment, memberId) => this.#onGroupJoin(assignment, memberId),
      onCrash: (error) => this.#onCrash(error),
    });
    this.#starting = true;
    this.#startError = undefined;
    this.#state = 'starting';
    const where = `Kafka for consumer "${this.#config.consumerName}" (group "${groupId}")`;
    // close() may run during any step: after each, a closed subscription disconnects what it started
    // (never leaving a live group member behind) and returns.
    const closed = (): boolean => this.#abort.signal.aborted;
    try {
      await consumer.connect();
      if (!closed() && this.#staleMemberId !== undefined) {
        const settled = await removeCrashedMember(
          consumer,
          groupId,
          this.#staleMemberId,
          this.#config.logger,
        );
        if (settled) this.#staleMemberId = undefined;
      }
      if (!closed()) await consumer.subscribe(topics, o.startOffset === 'earliest');
      if (!closed()) await consumer.run(async (batch, control) => this.#onBatch(batch, control));
    } catch (error) {
      await this.#disconnect(consumer);
      if (closed()) return;
      throw await startFailure(this.#config, error, where);
    } finally {
      this.#starting = false;
    }
    if (closed()) {
      await this.#disconnect(consumer);
      return;
    }
    if (this.#startError) {
      const error = this.#startError;
      await this.#disconnect(consumer);
      throw await startFailure(this.#config, error, where);
    }
    this.#budget.running();
    if (this.#state === 'starting') this.#state = this.#stopped ? 'stopping' : 'running';
  }

  /** An ephemeral reader's start: the end of every partition, read before the member joins. */
  async #readEndOffsets(): Promise<EphemeralPositions> {
    const { driver, topics, groupId, consumerName } = this.#config;
    try {
      return await EphemeralPositions.atEnd(driver, topics);
    } catch (error) {
      throw toConnectionError(error, `Kafka for consumer "${consumerName}" (group "${groupId}")`, {
        groupId,
        topics: [...topics],
      });
    }
  }

  async #onBatch(batch: DriverBatch, control: DriverBatchControl): Promise<void> {
    if (this.#stopped) return;
    // Workers are the latest assignment: a batch of any other partition (fetched for an earlier
    // generation) is dropped, its offsets not resolved.
    const worker = this.#partitions.get(batch.topic, batch.partition);
    if (!worker) return;
    this.#partitions.noteFetch(batch, worker);
    worker.accept(batch.records, control);
    // Backpressure without re-fetching: the driver fetches again once the buffer has room.
    let heartbeatFailed = await worker.waitForRoom(control);
    if (!heartbeatFailed && control.heartbeat && !this.#stopped) {
      // Detect a rebalance here rather than in the driver after the batch: the acked offsets are
      // then committed while the member still owns its partitions (generation not ended yet).
      heartbeatFailed = await control.heartbeat().then(
        () => false,
        () => true,
      );
    }
    if (heartbeatFailed) await this.#committer.commit(true);
  }

  #addWorker(topic: string, partition: number): PartitionWorker {
    const worker = new PartitionWorker(topic, partition, this.#host);
    this.#partitions.add(worker);
    return worker;
  }

  /**
   * The driver re-joins right after this returns (it cannot wait for a listener): the commit is sent
   * at once, ahead of the join, so it reaches the coordinator in the old generation. Acks after it
   * are committed after the join for kept partitions; revoked partitions' are dropped.
   */
  #onRebalancing(): void {
    this.#state = 'rebalancing';
    this.#committer.rebalancing = true;
    for (const w of this.#partitions.workers()) w.suspend();
    void this.#committer.commit(true);
  }

  #onGroupJoin(assignment: readonly TopicPartitions[], memberId: string | undefined): void {
    this.#groupJoins++;
    // A new member id: the member was evicted (e.g. UNKNOWN_MEMBER_ID) and joined as a new member;
    // nothing of the old membership is kept, even for partitions assigned again.
    const newMember = this.#memberId !== undefined && memberId !== undefined && memberId !== this.#memberId;
    this.#memberId = memberId ?? this.#memberId;
    const assigned = new Set(assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`)));
    // Revoked workers' pending commits are dropped: the new generation started.
    const revoked = this.#partitions.revoke((w) => newMember || !assigned.has(`${w.topic}/${w.partition}`));
    this.#committer.rebalancing = false;
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) {
        const existing = this.#partitions.get(topic, partition);
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
    // An ephemeral reader has no committed offsets: every partition is placed before its first fetch.
    this.#positions?.seekAssigned(
      assignment,
      (topic, partition) => this.#partitions.get(topic, partition)?.nextOffset !== undefined,
      (topic, partition, offset) => this.#consumer?.seek(topic, partition, offset),
    );
    this.#state = this.#stopped ? 'stopping' : 'running';
    this.#config.logger.info('Kafka consumer assignment', {
      groupId: this.#config.groupId,
      assignment: assignment.map((a) => `${a.topic}[${[...a.partitions].join(',')}]`),
      revoked,
      ...(newMember ? { newMember } : {}),
    });
    void this.commitAcked(); // acks of kept partitions made during the rebalance
  }

  #onCrash(error: Error): void {
    if (this.#starting) {
      this.#startError = error;
      return;
    }
    if (this.#abort.signal.aborted) return;
    this.#state = 'crashed';
    this.#crashReason = rootMessage(error);
    this.#budget.crashed();
    this.#staleMemberId = this.#memberId ?? this.#staleMemberId;
    this.#reportCrash(`Kafka consumer "${this.#config.consumerName}" crashed: ${rootMessage(error)}`, error);
    this.#restarting = true;
    this.#restartLoop = this.#restart().finally(() => {
      this.#restarting = false;
      this.#restartLoop = undefined;
    });
  }

  /** Restarts the client with the restart policy's backoff until it runs, closes, or the policy gives up. */
  async #restart(): Promise<void> {
    this.#partitions.revoke();
    this.#committer.rebalancing = false;
    this.#committer.reset();
    await this.#disconnect();
    const outcome = await restartUntilRunning({
      budget: this.#budget,
      signal: this.#abort.signal,
      start: async () => this.#startConsumer(),
      onFailure: (error, restart) => {
        this.#state = 'crashed';
        this.#crashReason = `restart ${restart} failed: ${rootMessage(error)}`;
        this.#reportCrash(
          `Restart ${restart} of Kafka consumer "${this.#config.consumerName}" failed: ${rootMessage(error)}`,
          error,
        );
      },
    });
    if (outcome === 'running') {
      this.#config.logger.warn('Kafka consumer restarted after a crash', { restarts: this.#budget.restarts });
      return;
    }
    if (outcome === 'closed') return;
    this.#state = 'crashed';
    this.#gaveUp = true;
    // Nothing runs any more: release what the subscription holds (the member is disconnected).
    clearInterval(this.#commitTimer);
    await this.#deadLetters.close();
    this.#reportCrash(
      `Kafka consumer "${this.#config.consumerName}" gave up after ${this.#budget.restarts} restart(s) (maxRestarts); it consumes nothing until it is subscribed again`,
      undefined,
      false,
    );
  }

  #reportCrash(message: string, cause: unknown, retriable?: boolean): void {
    const groupId = this.#config.groupId;
    this.#onError(
      new GomesError('CONSUMER_CRASHED', message, {
        ...(cause === undefined ? {} : { cause }),
        ...(retriable === undefined ? {} : { retriable }),
        details: { groupId, restarts: this.#budget.restarts },
      }),
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

  /** Disconnects `consumer` (the current member by default), and forgets it when it is current. */
  async #disconnect(consumer = this.#consumer): Promise<void> {
    if (consumer !== undefined && consumer === this.#consumer) {
      this.#unlisten?.();
      this.#unlisten = undefined;
      this.#consumer = undefined;
    }
    await consumer?.disconnect().catch((error: unknown) => {
      this.#config.logger.warn('Kafka consumer disconnect failed', { reason: rootMessage(error) });
    });
  }
}

/** The core transport state of a Kafka consumer state. @internal */
export function toTransportState(state: KafkaConsumerState): ConsumerTransportState {
  if (state === 'starting') return 'rebalancing';
  if (state === 'stopping') return 'stopped';
  return state;
}

/**
 * The error a failed start rejects with: `GOMES_TOPIC_NOT_FOUND` naming the missing topics when
 * the driver says a topic is unknown (and the cluster confirms it), else the connection error.
 *
 * @internal
 */
export async function startFailure(
  config: SubscriptionConfig,
  error: unknown,
  where: string,
): Promise<GomesError> {
  const { driver, consumerName, groupId, topics, channelTopic } = config;
  if (isUnknownTopicError(error)) {
    const admin = driver.createAdmin();
    const missing = await admin
      .connect()
      .then(async () => findMissingTopics(admin, topics))
      .catch(() => [] as string[])
      .finally(async () => admin.disconnect().catch(() => undefined));
    if (missing.length > 0) return topicNotFoundError(consumerName, channelTopic, missing, error);
  }
  return toConnectionError(error, where, { groupId, topics: [...topics] });
}
