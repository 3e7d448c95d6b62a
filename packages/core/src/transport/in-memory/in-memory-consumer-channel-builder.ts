import type { ChannelBuildContext } from '../../channel/channel-builders.js';
import { resolveOptions } from '../../internal/resolve-options.js';
import type { ChannelConnection } from '../../channel/channel-connection.js';
import { ConsumerChannelAdapterBuilder } from '../../channel/consumer-channel-adapter-builder.js';
import type { ConsumerChannel } from '../../channel/consumer-channel.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError } from '../../errors/gomes-error.js';
import { newMessageId } from '../../message/message-id.js';
import { InMemoryConsumerChannel } from './in-memory-consumer-channel.js';
import { isInMemoryConnection } from './in-memory-connection.js';
import type { InMemoryStartOffset } from './in-memory-source.js';

/** Transport options of an in-memory consumer. @public */
export interface InMemoryConsumerOptions {
  /** Consumer group; members of one group split the topic's partitions. @default the consumer name */
  groupId: string | undefined;
  /** Most deliveries handed over and not yet acked or nacked at once. @default 100 */
  queueCapacity: number;
  /** Where a group with no committed offset starts reading. @default 'earliest' */
  startOffset: InMemoryStartOffset;
}

/** Defaults of {@link InMemoryConsumerOptions}. @public */
export const DEFAULT_IN_MEMORY_CONSUMER_OPTIONS: Readonly<InMemoryConsumerOptions> = Object.freeze({
  groupId: undefined,
  queueCapacity: 100,
  startOffset: 'earliest',
});

/** Merges defaults, rejects unknown keys and lists every problem (empty when valid). @public */
export function resolveInMemoryConsumerOptions(input: Partial<InMemoryConsumerOptions> = {}): {
  options: InMemoryConsumerOptions;
  problems: string[];
} {
  return resolveOptions(
    DEFAULT_IN_MEMORY_CONSUMER_OPTIONS,
    input,
    inMemoryConsumerProblems,
    (k) => `unknown in-memory consumer option "${k}"`,
  );
}

function inMemoryConsumerProblems(options: InMemoryConsumerOptions): string[] {
  const problems: string[] = [];
  if (options.groupId !== undefined && (typeof options.groupId !== 'string' || options.groupId === '')) {
    problems.push('groupId must be a non-empty string');
  }
  const q = options.queueCapacity;
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 1) {
    problems.push(`queueCapacity must be an integer >= 1 (got ${String(q)})`);
  }
  if (options.startOffset !== 'earliest' && options.startOffset !== 'latest') {
    problems.push(`startOffset must be 'earliest' or 'latest' (got ${String(options.startOffset)})`);
  }
  return problems;
}

/**
 * Builds a consumer channel on an in-memory connection (Go gomes'
 * `NewConsumerChannelAdapterBuilder(connRef, topic, consumerName)`). Immutable: each `with*`
 * returns a new builder.
 *
 * @example
 * ```ts
 * gomes.addConsumerChannel(inMemoryConsumer('memory', 'orders', 'billing').withGroupId('billing').withRetry());
 * ```
 * @public
 */
export class InMemoryConsumerChannelBuilder extends ConsumerChannelAdapterBuilder {
  /** The transport options set so far (unset ones take their defaults at build). */
  readonly transportOptions: Readonly<Partial<InMemoryConsumerOptions>> = Object.freeze({});
  /** Set by {@link InMemoryConsumerChannelBuilder.asEphemeralReader}: the reader it is private to. */
  readonly ephemeralReaderId: string | undefined = undefined;

  constructor(connectionName: string, topic: string, consumerName: string) {
    super(connectionName, topic, consumerName);
  }

  /** Consumer group (default: the consumer name). */
  withGroupId(groupId: string): this {
    return this.withTransport({ groupId });
  }

  /**
   * Most deliveries handed over and not settled at once, over all the member's partitions (option
   * `queueCapacity`, default 100).
   */
  withMaxUnsettledDeliveries(deliveries: number): this {
    return this.withTransport({ queueCapacity: deliveries });
  }

  /**
   * @deprecated Use {@link InMemoryConsumerChannelBuilder.withMaxUnsettledDeliveries} (the same
   * bound; "queue capacity" named different bounds on the consumer and on Kafka). Removed in the
   * next release.
   */
  withQueueCapacity(capacity: number): this {
    return this.withMaxUnsettledDeliveries(capacity);
  }

  /** Where a new group starts: `'earliest'` (default) or `'latest'` (only messages sent after joining). */
  withStartOffset(startOffset: InMemoryStartOffset): this {
    return this.withTransport({ startOffset });
  }

  /**
   * A builder for an ephemeral reader private to `readerId` (gomes reads reply channels with it; see
   * `ConsumerChannelBuilder.asEphemeralReader`): each subscription joins a new group of its own,
   * `<groupId>.<readerId>.<random>`, starts at the end of every partition (positioned when
   * `subscribe()` returns) and the broker forgets that group, offsets included, when it closes.
   */
  asEphemeralReader(readerId: string): this {
    return this.derive({ ephemeralReaderId: readerId } as Partial<Record<keyof this, unknown>>);
  }

  /** The resolved options (defaults applied, group defaulted to the consumer name). */
  get options(): InMemoryConsumerOptions & { groupId: string } {
    const { options } = resolveInMemoryConsumerOptions(this.transportOptions);
    return { ...options, groupId: options.groupId ?? this.consumerName };
  }

  /** @inheritDoc */
  acceptsConnection(connection: ChannelConnection): boolean {
    return isInMemoryConnection(connection);
  }

  /** @inheritDoc */
  async build(context: ChannelBuildContext): Promise<ConsumerChannel> {
    const { connection } = context;
    if (!isInMemoryConnection(connection)) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Consumer "${this.consumerName}" needs an in-memory connection, got "${connection.name}"`,
      );
    }
    ConfigurationError.throwIfAny(this.validate(), `consumer "${this.consumerName}"`);
    const options = this.options;
    const readerId = this.ephemeralReaderId;
    connection.broker.createTopic(this.channelName);
    return Promise.resolve(
      new InMemoryConsumerChannel({
        broker: connection.broker,
        consumerName: this.consumerName,
        topic: this.channelName,
        groupId:
          readerId === undefined
            ? options.groupId
            : `${options.groupId}.${readerId}.${newMessageId().slice(-12)}`,
        queueCapacity: options.queueCapacity,
        startOffset: readerId === undefined ? options.startOffset : 'latest',
        ephemeral: readerId !== undefined,
        logger: context.logger.child({ consumer: this.consumerName }),
      }),
    );
  }

  /** @inheritDoc */
  protected validateTransportOptions(): string[] {
    return resolveInMemoryConsumerOptions(this.transportOptions).problems;
  }

  // Not a #private method: derived copies are made with Object.create and have no private brand.
  private withTransport(changes: Partial<InMemoryConsumerOptions>): this {
    return this.derive({
      transportOptions: Object.freeze({ ...this.transportOptions, ...changes }),
    } as Partial<Record<keyof this, unknown>>);
  }
}

/**
 * A consumer builder for `topic` on the in-memory connection named `connectionName`.
 *
 * @public
 */
export function inMemoryConsumer(
  connectionName: string,
  topic: string,
  consumerName: string,
): InMemoryConsumerChannelBuilder {
  return new InMemoryConsumerChannelBuilder(connectionName, topic, consumerName);
}
