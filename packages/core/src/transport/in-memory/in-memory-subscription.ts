import type { Delivery, DeliveryHandler, NackOptions, Subscription } from '../../channel/consumer-channel.js';
import { PartitionOffsetTracker } from '../../channel/partition-offset-tracker.js';
import { isGomesError, toError } from '../../errors/gomes-error.js';
import { noopLogger, type Logger } from '../../logging/logger.js';
import { DeadLetterHeaders, UndecodableRecordHeaders } from '../../message/dead-letter-envelope.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import { PARTITION_KEY_HEADER } from '../../message/message-headers.js';
import { sharedPromise } from '../../internal/shared-promise.js';
import type { InMemoryBroker, InMemoryRecord } from './in-memory-broker.js';
import type { GroupMembership } from './in-memory-consumer-group.js';

/** Where a group with no committed offset starts reading a partition. @public */
export type InMemoryStartOffset = 'earliest' | 'latest';

/** How long a delivery whose handler rejected waits before it is delivered again, in ms. @public */
export const HANDLER_REJECTED_REDELIVERY_DELAY_MS = 100;

/** What an {@link InMemorySubscription} needs. @internal */
export interface InMemorySubscriptionParams {
  readonly broker: InMemoryBroker;
  readonly topic: string;
  readonly groupId: string;
  readonly queueCapacity: number;
  readonly startOffset: InMemoryStartOffset;
  readonly handler: DeliveryHandler;
  readonly onError: ((error: Error) => void) | undefined;
  readonly onClosed?: () => void;
  /** Called when the committed offset of `partition` advanced (an ack moved the acked prefix). */
  readonly onCommitted?: (partition: number) => void;
  /** Where undecodable records are logged. @default noopLogger */
  readonly logger?: Logger;
  /** Consumer (endpoint) name, written into the dead-letter envelope of undecodable records. */
  readonly consumerName?: string;
  /** Topic undecodable records are published to. @default `<topic>.DLQ` */
  readonly deadLetterTopic?: string;
  /** Join `groupId` as an ephemeral group, forgotten (offsets included) when the subscription closes. */
  readonly ephemeral?: boolean;
}

/** Read state of one assigned partition. */
interface Cursor {
  readonly partition: number;
  /** Next offset to hand over. */
  position: bigint;
  readonly tracker: PartitionOffsetTracker;
  /** Identity of each handed-over, unsettled delivery: a rewind or revocation invalidates them. */
  readonly handedOver: Map<bigint, object>;
  /** Set while a nack delay runs; nothing of this partition is handed over meanwhile. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * A member of a consumer group of an {@link InMemoryBroker}, handing deliveries to one handler.
 *
 * One loop hands over one delivery at a time, round-robin over the assigned partitions, in offset
 * order within each, and awaits the handler's acceptance before the next (backpressure). At most
 * `queueCapacity` deliveries are handed over and unsettled at once. `ack` commits gap-safely (a
 * {@link PartitionOffsetTracker} per partition, committed on every advance); `nack` rewinds the
 * partition to the nacked offset and resumes it after the delay. If the handler rejects, the error
 * goes to `onError` and the delivery is nacked with {@link HANDLER_REJECTED_REDELIVERY_DELAY_MS}.
 *
 * A record that cannot be decoded into a message is never handed over and never blocks its
 * partition: it is published to the dead-letter topic (`<topic>.DLQ` on the same broker) as a
 * `Document` message whose payload is the raw stored value and whose headers carry the reason
 * (the standard dead-letter envelope, see `DeadLetterHeaders`, plus {@link UndecodableRecordHeaders},
 * like the Kafka transport), then its offset counts as done (commits advance past it); the error
 * goes to `onError` and is logged. Should that publish fail, the partition pauses and retries it.
 *
 * @public
 */
export class InMemorySubscription implements Subscription {
  readonly #p: InMemorySubscriptionParams;
  readonly #cursors = new Map<number, Cursor>();
  readonly #membership: GroupMembership;
  readonly #unlisten: () => void;
  #joined = false;
  #stopped = false;
  #closed = false;
  #roundRobin = 0;
  #wakeUp: (() => void) | undefined;

  /** Joins the group and starts handing over deliveries. */
  constructor(params: InMemorySubscriptionParams) {
    this.#p = params;
    this.#unlisten = params.broker.onAppend(params.topic, () => this.#wake());
    this.#membership = params.broker.joinGroup(
      params.groupId,
      params.topic,
      {
        onPartitionsAssigned: (partitions) => this.#assign(partitions),
        onPartitionsRevoked: (partitions) => this.#revoke(partitions),
      },
      { ephemeral: params.ephemeral === true },
    );
    this.#joined = true;
    for (const cursor of this.#cursors.values()) this.#pin(cursor);
    void this.#run();
  }

  /** The member id in the consumer group. */
  get memberId(): string {
    return this.#membership.memberId;
  }

  /** Partitions currently assigned, ascending. */
  get assignment(): readonly number[] {
    return this.#membership.assignment;
  }

  /** Deliveries handed over and not settled yet. */
  get unsettled(): number {
    let n = 0;
    for (const c of this.#cursors.values()) n += c.handedOver.size;
    return n;
  }

  /** @inheritDoc */
  readonly stop: () => Promise<void> = sharedPromise(async () => {
    this.#stopped = true;
    for (const cursor of this.#cursors.values()) this.#clearTimer(cursor);
    this.#wake();
    return Promise.resolve();
  });

  /** @inheritDoc */
  readonly close: () => Promise<void> = sharedPromise(async () => {
    await this.stop();
    // Acked offsets are committed as they advance; leaving revokes (and forgets) the rest.
    this.#membership.leave();
    this.#closed = true;
    this.#unlisten();
    this.#p.onClosed?.();
  });

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const next = this.unsettled < this.#p.queueCapacity ? this.#next() : undefined;
      if (!next) {
        await new Promise<void>((resolve) => {
          this.#wakeUp = resolve;
        });
        continue;
      }
      let delivery: Delivery | undefined;
      try {
        // Decode before tracking: an undecodable record must not take a place in the offset tracker.
        const message = this.#decode(next.cursor, next.record);
        if (!message) continue;
        delivery = this.#handOver(next.cursor, next.record, message);
        await this.#p.handler(delivery);
      } catch (error) {
        this.#report(error);
        if (delivery) void delivery.nack({ delayMs: HANDLER_REJECTED_REDELIVERY_DELAY_MS });
      }
    }
  }

  /** The next record to hand over, round-robin over partitions that are not paused. */
  #next(): { cursor: Cursor; record: InMemoryRecord } | undefined {
    const cursors = [...this.#cursors.values()];
    for (let i = 0; i < cursors.length; i++) {
      const index = (this.#roundRobin + i) % cursors.length;
      const cursor = cursors[index] as Cursor;
      if (cursor.timer) continue;
      const record = this.#p.broker.recordAt(this.#p.topic, cursor.partition, cursor.position);
      if (record) {
        this.#roundRobin = index + 1;
        return { cursor, record };
      }
    }
    return undefined;
  }

  /**
   * The record's message, or `undefined` when it cannot be decoded: it is then dead-lettered and
   * its offset marked done (or, if even that fails, the partition is paused and retries it).
   */
  #decode(cursor: Cursor, record: InMemoryRecord): Message | undefined {
    let decodeError: Error;
    try {
      return this.#p.broker.decode(record);
    } catch (error) {
      decodeError = toError(error);
    }
    const { offset, partition } = record;
    const deadLetterTopic = this.#p.deadLetterTopic ?? `${this.#p.topic}.DLQ`;
    const logger = this.#p.logger ?? noopLogger;
    const where = { topic: record.topic, partition, offset: offset.toString(), groupId: this.#p.groupId };
    try {
      this.#p.broker.publish(
        deadLetterTopic,
        this.#undecodableDeadLetter(record, decodeError, deadLetterTopic),
      );
    } catch (publishError) {
      logger.error('Undecodable record could not be dead-lettered; retrying', {
        ...where,
        deadLetterTopic,
        reason: decodeError.message,
        errorMessage: toError(publishError).message,
      });
      this.#report(publishError);
      this.#rewind(cursor, offset, HANDLER_REJECTED_REDELIVERY_DELAY_MS);
      return undefined;
    }
    cursor.position = offset + 1n;
    cursor.tracker.track(offset);
    if (cursor.tracker.ack(offset)) {
      this.#membership.commit(partition, cursor.tracker.committable);
      this.#p.onCommitted?.(partition);
    }
    logger.warn('Undecodable record sent to the dead-letter topic', {
      ...where,
      deadLetterTopic,
      reason: decodeError.message,
    });
    this.#report(decodeError);
    return undefined;
  }

  #undecodableDeadLetter(record: InMemoryRecord, error: Error, deadLetterTopic: string): Message<string> {
    const now = new Date().toISOString();
    const code = isGomesError(error) ? error.code : 'GOMES_TRANSLATION_FAILED';
    const reason = error.message || error.name || 'Undecodable record';
    const headers: Record<string, string> = {
      [DeadLetterHeaders.ERROR_NAME]: error.name || 'Error',
      [DeadLetterHeaders.ERROR_CODE]: code,
      [DeadLetterHeaders.ERROR_MESSAGE]: reason,
      [DeadLetterHeaders.RETRIABLE]: 'false',
      [DeadLetterHeaders.ATTEMPTS]: '0',
      [DeadLetterHeaders.FIRST_FAILURE_AT]: now,
      [DeadLetterHeaders.LAST_FAILURE_AT]: now,
      [DeadLetterHeaders.ORIGIN_CHANNEL]: record.topic,
      [DeadLetterHeaders.ORIGIN_PARTITION]: String(record.partition),
      [DeadLetterHeaders.ORIGIN_OFFSET]: record.offset.toString(),
      [UndecodableRecordHeaders.REASON]: reason,
      [UndecodableRecordHeaders.SOURCE_TOPIC]: record.topic,
      [UndecodableRecordHeaders.SOURCE_PARTITION]: String(record.partition),
      [UndecodableRecordHeaders.SOURCE_OFFSET]: record.offset.toString(),
      [UndecodableRecordHeaders.GROUP_ID]: this.#p.groupId,
      [UndecodableRecordHeaders.FAILED_AT]: now,
    };
    if (this.#p.consumerName) headers[DeadLetterHeaders.CONSUMER] = this.#p.consumerName;
    // Same key as the source record (like the Kafka transport), so per-key order carries over.
    if (record.key) headers[PARTITION_KEY_HEADER] = record.key;
    return MessageBuilder.withPayload(record.value)
      .messageType('Document')
      .channelName(deadLetterTopic)
      .headers(headers)
      .build();
  }

  #handOver(cursor: Cursor, record: InMemoryRecord, message: Message): Delivery {
    const { offset, partition } = record;
    cursor.position = offset + 1n;
    cursor.tracker.track(offset);
    const token = {};
    cursor.handedOver.set(offset, token);
    const deliveryAttempt = this.#membership.countDelivery(partition, offset);
    const live = (): boolean =>
      !this.#closed && this.#cursors.get(partition) === cursor && cursor.handedOver.get(offset) === token;
    let settled = false;
    return Object.freeze({
      message,
      key: record.key,
      position: Object.freeze({
        channel: this.#p.topic,
        partition,
        offset: offset.toString(),
        group: this.#p.groupId,
      }),
      deliveryAttempt,
      ack: async (): Promise<void> => {
        if (settled || !live()) {
          settled = true;
          return Promise.resolve();
        }
        settled = true;
        cursor.handedOver.delete(offset);
        if (cursor.tracker.ack(offset)) {
          this.#membership.commit(partition, cursor.tracker.committable);
          this.#p.onCommitted?.(partition);
        }
        this.#wake();
        return Promise.resolve();
      },
      nack: async (options: NackOptions = {}): Promise<void> => {
        if (settled) return Promise.resolve();
        settled = true;
        if (live()) this.#rewind(cursor, offset, options.delayMs ?? 0);
        return Promise.resolve();
      },
    });
  }

  /** Seeks `cursor` back to `offset`: everything handed over from there on is forgotten. */
  #rewind(cursor: Cursor, offset: bigint, delayMs: number): void {
    cursor.tracker.reset(offset);
    for (const o of [...cursor.handedOver.keys()]) if (o >= offset) cursor.handedOver.delete(o);
    cursor.position = offset;
    this.#clearTimer(cursor);
    if (!this.#stopped) {
      const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
      cursor.timer = setTimeout(() => {
        cursor.timer = undefined;
        this.#wake();
      }, delay);
    }
    this.#wake();
  }

  #assign(partitions: readonly number[]): void {
    const { broker, groupId, topic, startOffset } = this.#p;
    for (const partition of partitions) {
      const committed = broker.committedOffset(groupId, topic, partition);
      const start = committed ?? (startOffset === 'latest' ? broker.endOffset(topic, partition) : 0n);
      const cursor: Cursor = {
        partition,
        position: start,
        tracker: new PartitionOffsetTracker(start),
        handedOver: new Map(),
        timer: undefined,
      };
      this.#cursors.set(partition, cursor);
      if (this.#joined) this.#pin(cursor);
    }
    this.#wake();
  }

  /** Commits the start position when the group has none, so 'latest' means "from joining". */
  #pin(cursor: Cursor): void {
    if (this.#membership.committed(cursor.partition) === undefined) {
      this.#membership.commit(cursor.partition, cursor.position);
    }
  }

  #revoke(partitions: readonly number[]): void {
    for (const partition of partitions) {
      const cursor = this.#cursors.get(partition);
      if (!cursor) continue;
      this.#clearTimer(cursor);
      this.#cursors.delete(partition);
    }
    this.#wake();
  }

  #clearTimer(cursor: Cursor): void {
    if (cursor.timer) clearTimeout(cursor.timer);
    cursor.timer = undefined;
  }

  #wake(): void {
    const wakeUp = this.#wakeUp;
    this.#wakeUp = undefined;
    wakeUp?.();
  }

  #report(error: unknown): void {
    try {
      this.#p.onError?.(toError(error));
    } catch {
      // An error callback that throws must not stop the subscription.
    }
  }
}
