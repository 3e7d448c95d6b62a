import { GomesError } from '@gomes/core';
import type {
  ConsumerChannelStatus,
  PartitionLag,
  PartitionedSource,
  SourceListener,
  SourcePosition,
} from '@gomes/core/transport';
import type {
  DriverBatch,
  DriverBatchControl,
  DriverConsumer,
  TopicPartitions,
} from './driver/kafka-driver.js';
import { toDriverConsumerOptions } from './kafka-consumer-options.js';
import { rootMessage } from './kafka-errors.js';
import { sharedPromise } from './internal/async-utils.js';
import { removeCrashedMember } from './crashed-member.js';
import { RestartBudget, restartUntilRunning } from './restart-policy.js';
import { resolveSourceOffsets } from './source-offset-resolver.js';
import { SourcePartitions } from './source-partitions.js';
import { prepareSourceRecords } from './source-record.js';
import { EphemeralPositions } from './ephemeral-positions.js';
import {
  ConsumerStateClock,
  startFailure,
  type KafkaConsumerState,
  type SubscriptionConfig,
} from './kafka-consumer-state.js';

/**
 * A Kafka consumer-group member as a {@link PartitionedSource} (the `@gomes/core/transport` SPI):
 * the consumer core does intake, key ordering, retries, settlement, dead letters, commits and revoke
 * drain; this adapter only fetches, reports assignments and revokes, and commits what it is given.
 *
 * - **Batches.** A fetched batch is handed to the core whole; its fetch position is resolved once
 *   the core buffered it (the core pauses a partition whose buffer is full). Records whose decoding
 *   needs I/O first (a schema registry) are prepared before: a retriable failure is retried with
 *   backoff, the partition waiting; a non-retriable one makes the record undecodable.
 * - **Rebalance.** When a rebalance starts, every owned partition is revoked through the core (it
 *   aborts and awaits their handlers within its budget and commits what is done); the new assignment
 *   is handed over only after that, and kept partitions resume from their committed offsets.
 * - **Crashes** (issue 7): reported as `GOMES_CONSUMER_CRASHED`; the member is restarted with the
 *   restart policy's backoff (by default it never gives up), removing the crashed member from the
 *   group first (LeaveGroup), so partitions come back at once. `status()` reads not ready meanwhile.
 * - **Ephemeral readers** (`asEphemeralReader`): the end of every partition is read before the
 *   member joins and each newly assigned partition is sought there before its first fetch;
 *   `commit` moves these in-memory positions (nothing goes to the broker), so a rejoin continues
 *   from them (see {@link EphemeralPositions}).
 *
 * @internal
 */
export class KafkaSource implements PartitionedSource {
  readonly channelName: string;
  readonly group: string;
  readonly settlement = 'offsets' as const;
  /** @inheritDoc */
  readonly commitIntervalMs: number;
  readonly #config: SubscriptionConfig;
  readonly #topic: string;
  readonly #abort = new AbortController();
  readonly #budget: RestartBudget;
  readonly #partitions = new SourcePartitions();
  #listener: SourceListener | undefined;
  #consumer: DriverConsumer | undefined;
  #unlisten: (() => void) | undefined;
  #memberId: string | undefined;
  /** Member id of a crashed client, until the group confirmed it gone (LeaveGroup on restart). */
  #staleMemberId: string | undefined;
  /** Revokes and assignments, in order: a new assignment is handed over once the revoke drained. */
  #transition: Promise<void> = Promise.resolve();
  #restartLoop: Promise<void> | undefined;
  #gaveUp = false;
  readonly #state = new ConsumerStateClock();
  #starting = false;
  #startError: Error | undefined;
  #groupJoins = 0;

  /** An ephemeral reader's positions (read at start), in place of group commits. */
  #positions: EphemeralPositions | undefined;

  /** Run once the source closed (the channel releases what it opened for this source). */
  readonly #onClosed: (() => Promise<void>) | undefined;

  constructor(config: SubscriptionConfig, onClosed?: () => Promise<void>) {
    this.#onClosed = onClosed;
    if (config.topics.length !== 1) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Kafka consumer "${config.consumerName}" reads several topics: a consumer reads one topic`,
      );
    }
    this.#config = config;
    this.#topic = config.topics[0] as string;
    this.channelName = config.channelTopic;
    this.group = config.groupId;
    this.commitIntervalMs = config.options.commitIntervalMs;
    this.#budget = new RestartBudget({
      maxRestarts: config.options.maxRestarts,
      initialDelayMs: config.options.restartBackoffMs,
      maxDelayMs: config.options.maxRestartBackoffMs,
    });
  }

  /** Current state. */
  get state(): KafkaConsumerState {
    return this.#state.value;
  }

  /** Whether the restart policy gave up after crashes (nothing consumes any more). */
  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  /** How many times the member joined the group (1 + rebalances + restarts). */
  get groupJoins(): number {
    return this.#groupJoins;
  }

  /** Partitions owned now. */
  get assignment(): TopicPartitions[] {
    const partitions = this.#partitions.owned();
    return partitions.length === 0 ? [] : [{ topic: this.#topic, partitions }];
  }

  /** State and per-partition progress for `gomes.health()` (not ready while restarting). */
  status(): ConsumerChannelStatus {
    return this.#state.status(this.#partitions.progress(this.#topic, this.group));
  }

  /** @inheritDoc */
  lag(): readonly PartitionLag[] {
    return this.#partitions.lag(this.#topic, this.group);
  }

  /** @inheritDoc */
  async start(listener: SourceListener): Promise<void> {
    this.#listener = listener;
    try {
      if (this.#config.ephemeral === true) this.#positions = await EphemeralPositions.atEnd(this.#config);
      await this.#startConsumer();
    } catch (error) {
      this.#state.value = 'stopped';
      this.#abort.abort();
      throw error;
    }
  }

  /** @inheritDoc */
  pause(partitions: readonly number[]): void {
    if (partitions.length > 0) this.#consumer?.pause(this.#topic, partitions);
  }

  /** @inheritDoc */
  resume(partitions: readonly number[]): void {
    if (partitions.length > 0) this.#consumer?.resume(this.#topic, partitions);
  }

  /** @inheritDoc */
  seek(partition: number, offset: bigint): void {
    this.#positions?.fetched(this.#topic, partition, offset);
    this.#consumer?.seek(this.#topic, partition, offset.toString());
  }

  /** @inheritDoc */
  async resolveOffsets(
    partitions: readonly number[],
    position: SourcePosition,
  ): Promise<ReadonlyMap<number, bigint>> {
    return resolveSourceOffsets(this.#config.driver, this.#topic, partitions, position);
  }

  /** @inheritDoc */
  settled(partition: number, next: bigint): void {
    this.#partitions.progressed(partition, next);
  }

  /** @inheritDoc */
  async commit(offsets: ReadonlyMap<number, bigint>): Promise<void> {
    const consumer = this.#positions?.committer ?? this.#consumer;
    if (!consumer) throw new GomesError('ILLEGAL_STATE', 'The Kafka consumer is not running: commit skipped');
    const { kept, fenced } = this.#partitions.committable(offsets);
    if (fenced.length > 0)
      this.#config.logger.info('Not committed: a rebalance moved them', {
        topic: this.#topic,
        partitions: fenced,
      });
    if (kept.length === 0) return;
    const stored = await consumer.commit(
      kept.map(([partition, offset]) => ({
        topic: this.#topic,
        partition,
        offset: offset.toString(),
      })),
    );
    if (!stored) throw new GomesError('ILLEGAL_STATE', 'The Kafka consumer is not running: commit skipped');
    for (const [partition, offset] of kept) this.#partitions.progressed(partition, offset);
  }

  /** @inheritDoc */
  readonly close = sharedPromise(async () => {
    if (this.#state.value !== 'crashed') this.#state.value = 'stopping';
    this.#abort.abort();
    this.#revoke(this.#partitions.owned());
    await this.#transition;
    await this.#disconnect();
    await this.#restartLoop;
    this.#state.value = 'stopped';
    await this.#onClosed?.();
  });

  async #startConsumer(): Promise<void> {
    const { driver, options: o, topics, groupId, consumerName, logger } = this.#config;
    const consumer = driver.createConsumer(toDriverConsumerOptions(groupId, o));
    this.#consumer = consumer;
    this.#memberId = undefined;
    this.#unlisten = consumer.listen({
      onRebalancing: () => (this.#state.value = 'rebalancing'),
      onGroupJoin: (assignment, memberId) => this.#onGroupJoin(assignment, memberId),
      onCrash: (error) => this.#onCrash(error),
    });
    this.#starting = true;
    this.#startError = undefined;
    this.#state.value = 'starting';
    const closed = (): boolean => this.#abort.signal.aborted;
    const where = `Kafka for consumer "${consumerName}" (group "${groupId}")`;
    try {
      await consumer.connect();
      if (!closed() && this.#staleMemberId !== undefined) {
        if (await removeCrashedMember(consumer, groupId, this.#staleMemberId, logger)) {
          this.#staleMemberId = undefined;
        }
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
    if (this.#state.value === 'starting') this.#state.value = 'running';
  }

  async #onBatch(batch: DriverBatch, control: DriverBatchControl): Promise<void> {
    await this.#transition;
    const listener = this.#listener;
    const last = batch.records[batch.records.length - 1];
    if (!listener || !last || !this.#wanted(batch.partition, control)) return;
    this.#partitions.fetched(batch.partition, BigInt(batch.highWatermark), BigInt(batch.records[0]!.offset));
    const records = await prepareSourceRecords(
      batch.records,
      this.#config.options.translator,
      this.#abort.signal,
      (error) => listener.error(error),
      () => !this.#wanted(batch.partition, control),
    );
    if (!records) return; // revoked or closed while waiting: fetched again by the next owner
    if (!this.#wanted(batch.partition, control)) return;
    await listener.batch(batch.partition, records);
    this.#positions?.fetched(this.#topic, batch.partition, BigInt(last.offset) + 1n);
    control.resolveOffset(last.offset);
  }

  #wanted(partition: number, control: DriverBatchControl): boolean {
    return (
      !this.#abort.signal.aborted &&
      this.#partitions.owns(partition) &&
      control.isRunning() &&
      !control.isStale()
    );
  }

  /**
   * Revokes `partitions` through the core (after the transitions before it): it drains them. A
   * rebalance's revoke (`rebalanced`) fences their commits (see `SourcePartitions.committable`).
   */
  #revoke(partitions: readonly number[], rebalanced = false): void {
    if (partitions.length === 0) return;
    this.#partitions.release(partitions, rebalanced && !this.#positions); // an ephemeral group has one member
    this.#positions?.released(this.#topic, partitions);
    const listener = this.#listener;
    this.#transition = this.#transition.then(async () => {
      await listener
        ?.revoked(partitions)
        .catch((error: unknown) =>
          this.#config.logger.warn('Kafka source revoke failed', { reason: rootMessage(error) }),
        );
    });
  }

  /**
   * A join: partitions no longer assigned are revoked (drained by the core) before the new ones are
   * handed over; kept partitions go on (records fetched again are skipped by the core). A new
   * member id (evicted, re-joined as a new member) keeps nothing of the old membership.
   */
  #onGroupJoin(assignment: readonly TopicPartitions[], memberId: string | undefined): void {
    this.#groupJoins++;
    const newMember = this.#memberId !== undefined && memberId !== undefined && memberId !== this.#memberId;
    this.#memberId = memberId ?? this.#memberId;
    const partitions = assignment
      .filter((a) => a.topic === this.#topic)
      .flatMap((a) => [...a.partitions])
      .sort((a, b) => a - b);
    const { revoked, added } = this.#partitions.joined(partitions, newMember);
    this.#revoke(revoked, true);
    // An ephemeral reader has no committed offsets: every partition is placed before its first fetch.
    this.#positions?.seekAssigned(this.#topic, partitions, (p, o) => this.#consumer?.seek(this.#topic, p, o));
    this.#state.value = this.#abort.signal.aborted ? 'stopping' : 'running';
    this.#config.logger.info('Kafka consumer assignment', {
      groupId: this.group,
      assignment: `${this.#topic}[${partitions.join(',')}]`,
      revoked,
      ...(newMember ? { newMember } : {}),
    });
    if (added.length === 0) return;
    const consumer = this.#consumer;
    this.#partitions.assign(added);
    this.#transition = this.#transition.then(() => {
      if (this.#abort.signal.aborted || consumer !== this.#consumer) return;
      this.#partitions.unfence(added); // the revoke drains before this assignment have ended
      consumer?.resume(this.#topic, added); // clear a pause left from an earlier assignment
      this.#listener?.assigned(added);
    });
  }

  #onCrash(error: Error): void {
    if (this.#starting) {
      this.#startError = error;
      return;
    }
    if (this.#abort.signal.aborted) return;
    this.#state.value = 'crashed';
    this.#state.crashReason = rootMessage(error);
    this.#budget.crashed();
    this.#staleMemberId = this.#memberId ?? this.#staleMemberId;
    this.#reportCrash(`Kafka consumer "${this.#config.consumerName}" crashed: ${rootMessage(error)}`, error);
    this.#state.restarting = true;
    this.#restartLoop = this.#restart().finally(() => {
      this.#state.restarting = false;
      this.#restartLoop = undefined;
    });
  }

  /** Restarts the client with the restart policy's backoff until it runs, closes, or the policy gives up. */
  async #restart(): Promise<void> {
    this.#revoke(this.#partitions.owned());
    await this.#transition;
    await this.#disconnect();
    const name = this.#config.consumerName;
    const outcome = await restartUntilRunning({
      budget: this.#budget,
      signal: this.#abort.signal,
      start: async () => this.#startConsumer(),
      onFailure: (error, restart) => {
        this.#state.value = 'crashed';
        this.#state.crashReason = `restart ${restart} failed: ${rootMessage(error)}`;
        this.#reportCrash(
          `Restart ${restart} of Kafka consumer "${name}" failed: ${rootMessage(error)}`,
          error,
        );
      },
    });
    if (outcome === 'running') {
      this.#config.logger.warn('Kafka consumer restarted after a crash', { restarts: this.#budget.restarts });
      return;
    }
    if (outcome === 'closed') return;
    this.#state.value = 'crashed';
    this.#gaveUp = true;
    await this.#onClosed?.(); // nothing runs any more: release what the channel opened for it
    this.#reportCrash(
      `Kafka consumer "${name}" gave up after ${this.#budget.restarts} restart(s) (maxRestarts); it consumes nothing until it runs again`,
      undefined,
      false,
    );
  }

  #reportCrash(message: string, cause: unknown, retriable?: boolean): void {
    const error = new GomesError('CONSUMER_CRASHED', message, {
      ...(cause === undefined ? {} : { cause }),
      ...(retriable === undefined ? {} : { retriable }),
      details: { groupId: this.group, restarts: this.#budget.restarts },
    });
    this.#config.logger.error('Kafka consumer error', { reason: error.message, code: error.code });
    this.#listener?.error(error);
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
