import type { Logger } from '@gomes/core';
import type { DriverProducer } from './driver/kafka-driver.js';
import { rootMessage } from './kafka-errors.js';

/**
 * The producer of a {@link KafkaPublisherChannel}, replaced by a new one (a new producer id) before
 * the next request after a failed send of an idempotent producer: such a producer rolls its sequence
 * numbers back after a failed request the broker may still have appended, so a next request with as
 * many records could be taken for a duplicate and acknowledged without being written. A new producer
 * cannot.
 *
 * @internal
 */
export class RenewableProducer {
  #producer: DriverProducer;
  /** Creates a replacement producer (not connected yet); none: the producer is never replaced. */
  readonly #create: (() => DriverProducer) | undefined;
  readonly #idempotent: boolean;
  readonly #logger: Logger;
  /** A send failed: the next request goes through a new producer. */
  #renewBeforeNextSend = false;

  constructor(
    producer: DriverProducer,
    create: (() => DriverProducer) | undefined,
    idempotent: boolean,
    logger: Logger,
  ) {
    this.#producer = producer;
    this.#create = create;
    this.#idempotent = idempotent;
    this.#logger = logger;
  }

  /** The producer to send the next request with (after `renewIfNeeded`). */
  get current(): DriverProducer {
    return this.#producer;
  }

  /** Whether the next request must wait for `renewIfNeeded` (a new producer). */
  get needsRenewal(): boolean {
    return this.#renewBeforeNextSend;
  }

  /** A request failed: an idempotent producer is replaced before the next one (when it can be). */
  sendFailed(): void {
    if (this.#idempotent && this.#create) this.#renewBeforeNextSend = true;
  }

  /** Closes the producer and connects a new one in its place; a failure leaves it due again. */
  async renew(): Promise<void> {
    const old = this.#producer;
    this.#producer = (this.#create as () => DriverProducer)();
    this.#renewBeforeNextSend = false;
    await old.close().catch((error: unknown) => {
      this.#logger.warn('Closing the replaced Kafka producer failed', { reason: rootMessage(error) });
    });
    try {
      await this.#producer.connect();
    } catch (error) {
      this.#renewBeforeNextSend = true; // try a fresh one for the next request
      throw error;
    }
    this.#logger.info('Kafka producer replaced after a failed send (new producer id)');
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}
