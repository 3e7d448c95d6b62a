import type { Delivery, Message } from '@gomes/core';
import type { NackOptions } from '@gomes/core/transport';
import type { DriverInboundRecord } from './driver/kafka-driver.js';
import type { PartitionWorker } from './partition-worker.js';

/** Validity of one hand-over: invalidated by a rewind, a revoke or an undone take. @internal */
export interface Token {
  valid: boolean;
}

/**
 * The delivery of one record: settles once; acks and nacks of an invalidated delivery (after a
 * rewind or revoke) are ignored. Frozen, like a plain delivery object.
 *
 * @internal
 */
export class KafkaDelivery implements Delivery {
  readonly message: Message;
  readonly key: string;
  readonly position: Delivery['position'];
  readonly deliveryAttempt: number;
  readonly #worker: PartitionWorker;
  readonly #offset: bigint;
  readonly #token: Token;
  #settled = false;

  constructor(
    worker: PartitionWorker,
    record: DriverInboundRecord,
    message: Message,
    offset: bigint,
    token: Token,
    attempt: number,
  ) {
    this.message = message;
    this.key = record.key === null ? `${record.topic}/${record.partition}` : record.key.toString('utf8');
    this.position = {
      channel: record.topic,
      partition: record.partition,
      offset: record.offset,
      group: worker.groupId,
    };
    this.deliveryAttempt = attempt;
    this.#worker = worker;
    this.#offset = offset;
    this.#token = token;
    Object.freeze(this);
  }

  async ack(): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    this.#worker.acked(this.#offset, this.#token);
  }

  async nack(options: NackOptions = {}): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    this.#worker.nacked(this.#offset, this.#token, Math.max(0, options.delayMs ?? 0));
  }
}
