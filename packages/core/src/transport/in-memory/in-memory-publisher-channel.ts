import type { PublisherChannel, SendOptions } from '../../channel/publisher-channel.js';
import { GomesError } from '../../errors/gomes-error.js';
import { abortError } from '../../internal/abortable-sleep.js';
import { sharedPromise } from '../../internal/shared-promise.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import { GOMES_ENVELOPE, type MessageEnvelope } from '../../message/cloudevents.js';
import type { InMemoryBroker } from './in-memory-broker.js';

/**
 * Publishes to a topic of an {@link InMemoryBroker}. `send` resolves once the message is stored
 * (serialised) in its key's partition; it stamps `channelName` (the topic) and, when configured,
 * `replyTo`, and keeps the `messageId`. Built by `InMemoryPublisherChannelBuilder`.
 *
 * @public
 */
export class InMemoryPublisherChannel implements PublisherChannel {
  /** @inheritDoc */
  readonly name: string;
  readonly #broker: InMemoryBroker;
  readonly #replyTo: string | undefined;
  readonly #envelope: MessageEnvelope;
  #closed = false;

  constructor(
    broker: InMemoryBroker,
    topic: string,
    replyChannelName?: string,
    envelope: MessageEnvelope = GOMES_ENVELOPE,
  ) {
    this.#broker = broker;
    this.name = topic;
    this.#replyTo = replyChannelName;
    this.#envelope = envelope;
  }

  /**
   * Stores the message.
   *
   * @throws GomesError `GOMES_CLOSED` after `close()`, `GOMES_ABORTED` when `signal` is aborted,
   * `GOMES_PUBLISH_FAILED` when the payload is not JSON-serialisable.
   */
  async send(message: Message, options: SendOptions = {}): Promise<void> {
    if (this.#closed) throw new GomesError('CLOSED', `Publisher channel "${this.name}" is closed`);
    if (options.signal?.aborted) throw abortError(options.signal);
    const builder = MessageBuilder.from(message).channelName(this.name);
    if (this.#replyTo !== undefined) builder.replyTo(this.#replyTo);
    this.#broker.publish(this.name, builder.build(), { envelope: this.#envelope });
    return Promise.resolve();
  }

  /** Nothing is buffered: marks the channel closed. Idempotent. */
  readonly close: () => Promise<void> = sharedPromise(async () => {
    this.#closed = true;
    return Promise.resolve();
  });
}
