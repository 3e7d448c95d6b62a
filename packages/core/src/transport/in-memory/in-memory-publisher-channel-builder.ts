import type { ChannelBuildContext } from '../../channel/channel-builders.js';
import type { ChannelConnection } from '../../channel/channel-connection.js';
import { PublisherChannelAdapterBuilder } from '../../channel/publisher-channel-adapter-builder.js';
import type { PublisherChannel } from '../../channel/publisher-channel.js';
import { GomesError } from '../../errors/gomes-error.js';
import {
  GOMES_ENVELOPE,
  envelopeProblems,
  messageEnvelope,
  type CloudEventsEnvelopeOptions,
  type MessageEnvelope,
  type MessageEnvelopeFormat,
} from '../../message/cloudevents.js';
import { partitionCountProblems } from './in-memory-broker.js';
import { InMemoryChannelReader } from './in-memory-channel-reader.js';
import { isInMemoryConnection } from './in-memory-connection.js';
import { InMemoryPublisherChannel } from './in-memory-publisher-channel.js';

/**
 * Builds a publisher channel on an in-memory connection (Go gomes'
 * `NewPublisherChannelAdapterBuilder(connRef, topic)`). Immutable: each `with*` returns a new builder.
 *
 * @example
 * ```ts
 * gomes.addPublisherChannel(inMemoryPublisher('memory', 'orders').withPartitions(3));
 * ```
 * @public
 */
export class InMemoryPublisherChannelBuilder extends PublisherChannelAdapterBuilder {
  /** Partitions of the topic when this builder creates it; `undefined` = the broker default. */
  readonly partitions: number | undefined = undefined;
  /** What records are stored in (see {@link InMemoryPublisherChannelBuilder.withEnvelope}). */
  readonly envelope: MessageEnvelope = GOMES_ENVELOPE;

  constructor(connectionName: string, topic: string) {
    super(connectionName, topic);
  }

  /** Partitions of the topic when it does not exist yet (an existing topic keeps its own). */
  withPartitions(partitions: number): this {
    return this.derive({ partitions } as Partial<Record<keyof this, unknown>>);
  }

  /**
   * What records are stored in, as on Kafka: `'gomes'` (the default) or `'cloudevents'` —
   * `mode: 'binary'` adds `ce_*` and `content-type` to the record's JSON headers, `mode:
   * 'structured'` stores the CloudEvent (JSON event format) as the record value. Consumers
   * recognise either. See docs/cloudevents.md.
   */
  withEnvelope(format: MessageEnvelopeFormat, options: CloudEventsEnvelopeOptions = {}): this {
    return this.derive({ envelope: messageEnvelope(format, options) } as Partial<
      Record<keyof this, unknown>
    >);
  }

  /** @inheritDoc */
  acceptsConnection(connection: ChannelConnection): boolean {
    return isInMemoryConnection(connection);
  }

  /** @inheritDoc */
  async build(context: ChannelBuildContext): Promise<PublisherChannel> {
    const { connection } = context;
    if (!isInMemoryConnection(connection)) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Publisher "${this.channelName}" needs an in-memory connection, got "${connection.name}"`,
      );
    }
    connection.broker.createTopic(this.channelName, this.partitions);
    return Promise.resolve(
      new InMemoryPublisherChannel(connection.broker, this.channelName, this.replyChannelName, this.envelope),
    );
  }

  /** A bounded reader of this channel's topic (see `ChannelReader`). */
  createReader(context: ChannelBuildContext): InMemoryChannelReader {
    const { connection } = context;
    if (!isInMemoryConnection(connection)) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Reader of "${this.channelName}" needs an in-memory connection, got "${connection.name}"`,
      );
    }
    return new InMemoryChannelReader(connection.broker, this.channelName);
  }

  /** @inheritDoc */
  protected validateTransportOptions(): string[] {
    return [
      ...(this.partitions === undefined ? [] : partitionCountProblems('partitions', this.partitions)),
      ...envelopeProblems(this.envelope),
    ];
  }
}

/**
 * A publisher builder for `topic` on the in-memory connection named `connectionName`.
 *
 * @public
 */
export function inMemoryPublisher(connectionName: string, topic: string): InMemoryPublisherChannelBuilder {
  return new InMemoryPublisherChannelBuilder(connectionName, topic);
}
