import { GomesError, type Logger, type Message, type PublisherChannel, type SendOptions } from '@gomes/core';
import type { KafkaDriver } from './driver/kafka-driver.js';
import { openChannelProducer } from './channel-producer.js';
import { KafkaPublisherChannel } from './kafka-publisher-channel.js';
import { DEFAULT_KAFKA_PUBLISHER_OPTIONS } from './kafka-publisher-options.js';
import { ensureTopic } from './topic-provisioner.js';

/**
 * The publisher of a Kafka consumer's own dead-letter topic (`withDeadLetterTopic`, else
 * `<topic>.DLQ`): gomes' consume core publishes its dead letters (core's envelope) through it. On
 * first use it creates the topic when missing (1 partition) and connects a producer; a failed
 * setup is tried again by the next send (the core retries a dead letter that could not be sent).
 * Default publisher options: a `Buffer` payload (an undecodable record's original bytes) is
 * written as it is.
 *
 * @internal
 */
export class DeadLetterPublisher implements PublisherChannel {
  readonly name: string;
  readonly #driver: KafkaDriver;
  readonly #logger: Logger;
  #channel: Promise<KafkaPublisherChannel> | undefined;
  #closed = false;

  constructor(driver: KafkaDriver, topic: string, logger: Logger) {
    this.#driver = driver;
    this.name = topic;
    this.#logger = logger;
  }

  /** @inheritDoc */
  async send(message: Message, options?: SendOptions): Promise<void> {
    const channel = await (this.#channel ??= this.#open().catch((error: unknown) => {
      this.#channel = undefined;
      throw error;
    }));
    await channel.send(message, options);
  }

  /** @inheritDoc */
  async close(): Promise<void> {
    this.#closed = true;
    const channel = await this.#channel?.catch(() => undefined);
    this.#channel = undefined;
    await channel?.close();
  }

  async #open(): Promise<KafkaPublisherChannel> {
    const driver = this.#driver;
    const admin = driver.createAdmin();
    try {
      await admin.connect();
      await ensureTopic(admin, this.name, { partitions: 1 }, this.#logger);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const o = DEFAULT_KAFKA_PUBLISHER_OPTIONS;
    const { producer, createProducer } = await openChannelProducer(driver, o);
    const channel = new KafkaPublisherChannel(
      this.name,
      producer,
      o,
      undefined,
      this.#logger,
      createProducer,
    );
    if (this.#closed) {
      await channel.close();
      throw new GomesError('ILLEGAL_STATE', `Dead-letter publisher "${this.name}" is closed`);
    }
    return channel;
  }
}
