import {
  ConfigurationError,
  type ChannelConnection,
  type CloudEventsEnvelopeOptions,
  type MessageEnvelopeFormat,
} from '@gomes/core';
import {
  PublisherChannelAdapterBuilder,
  messageEnvelope,
  type ChannelBuildContext,
  type PreflightContext,
} from '@gomes/core/transport';
import type { CompressionCodec, RequiredAcks } from './driver/kafka-driver.js';
import { KafkaChannelReader } from './kafka-channel-reader.js';
import { KafkaConnection } from './kafka-connection.js';
import { toConnectionError } from './kafka-errors.js';
import {
  KafkaMessageTranslator,
  type KafkaMessageTranslatorOptions,
  type KafkaWireFormat,
} from './kafka-message-translator.js';
import { openChannelProducer } from './channel-producer.js';
import { KafkaPublisherChannel } from './kafka-publisher-channel.js';
import {
  DEFAULT_KAFKA_PUBLISHER_OPTIONS,
  validateKafkaPublisherOptions,
  type KafkaPublisherOptions,
} from './kafka-publisher-options.js';
import type { MessageSerializer } from './message-serializer.js';
import { ensureTopic, type KafkaTopicSpec } from './topic-provisioner.js';

/**
 * Builds a {@link KafkaPublisherChannel} (Go gomes' `kafka.NewPublisherChannelAdapterBuilder(connectionName, topic)`).
 * Immutable: each `with*` returns a new builder.
 *
 * | Go gomes option | here | default (Go default) |
 * |---|---|---|
 * | `WithMaxAttempts(n)` | `withMaxAttempts(n)` → kafkajs `retry.retries = n - 1` | 10 (10) |
 * | `WithBatchSize(n)` | `withBatchSize(n)`: records per produce request | 100 (100) |
 * | `WithBatchBytes(n)` | `withBatchBytes(n)`: bytes per produce request | 1 MiB (1 MiB) |
 * | `WithAsync(b)` | `withAsync(b)`: resolve on enqueue, errors to `onError` | **false** (true) |
 * | `WithRequiredAcks(n)` | `withRequiredAcks(-1 \| 0 \| 1)` | **-1** (0) |
 * | `WithReplyChannelName(x)` | `withReplyChannelName(x)` (core base) | none |
 * | — | `withCompression('gzip' \| 'snappy' \| 'lz4' \| 'zstd')` | none |
 * | — | `withIdempotent(b)` (needs acks -1) | **true** |
 * | — | `withTopic({ partitions, replicationFactor, configs })`: create when missing | never create |
 * | — | `withLinger(ms)`, `withMaxBufferedMessages(n)` (async mode), `withRequestTimeout(ms)` | 10, 10000, 30000 |
 * | — | `withSendTimeout(ms)`: a send settles within it (`GOMES_PUBLISH_OUTCOME_UNKNOWN` if its request is under way) | 30000 |
 * | — | `withMessageTranslator(t)` / `withSerializer(s)` | JSON |
 * | — | `withWireFormat('gomes' \| 'go-gomes')`: write what Go gomes consumers parse | `'gomes'` |
 * | — | `withEnvelope('cloudevents', { mode: 'binary' \| 'structured' })`: records are CloudEvents too | `'gomes'` |
 *
 * @example
 * ```ts
 * gomes.addPublisherChannel(
 *   new KafkaPublisherChannelBuilder('kafka', 'order.events').withBatchSize(500).withCompression('gzip'),
 * );
 * ```
 * @public
 */
export class KafkaPublisherChannelBuilder extends PublisherChannelAdapterBuilder {
  /** The resolved options. */
  readonly options: Readonly<KafkaPublisherOptions> = DEFAULT_KAFKA_PUBLISHER_OPTIONS;

  constructor(connectionName: string, topic: string) {
    super(connectionName, topic);
  }

  /** Attempts per produce request. */
  withMaxAttempts(attempts: number): this {
    return this.withOptions({ maxAttempts: attempts });
  }

  /** Records per produce request. */
  withBatchSize(size: number): this {
    return this.withOptions({ batchSize: size });
  }

  /** Bytes per produce request. */
  withBatchBytes(bytes: number): this {
    return this.withOptions({ batchBytes: bytes });
  }

  /** Async mode: `send` resolves on enqueue; see {@link KafkaPublisherChannel}. */
  withAsync(enabled = true): this {
    return this.withOptions({ async: enabled });
  }

  /** Acknowledgement level: -1 all in-sync replicas, 1 leader, 0 none (needs `withIdempotent(false)`). */
  withRequiredAcks(acks: RequiredAcks): this {
    return this.withOptions({ requiredAcks: acks });
  }

  /** Record compression: `gzip`, `snappy`, `lz4` or `zstd` (pure-JS codecs, registered by this package). */
  withCompression(codec: CompressionCodec): this {
    return this.withOptions({ compression: codec });
  }

  /** Idempotent producer (no duplicates or reordering on retry). Needs acks -1. */
  withIdempotent(enabled = true): this {
    return this.withOptions({ idempotent: enabled });
  }

  /** Creates the topic at start when it does not exist. */
  withTopic(spec: KafkaTopicSpec = {}): this {
    return this.withOptions({
      topic: { ...spec, ...(spec.configs ? { configs: { ...spec.configs } } : {}) },
    });
  }

  /** Async mode: how long a partial batch waits for more records. */
  withLinger(ms: number): this {
    return this.withOptions({ lingerMs: ms });
  }

  /** Async mode: most buffered records before `send` waits. */
  withMaxBufferedMessages(count: number): this {
    return this.withOptions({ maxBufferedMessages: count });
  }

  /** How long the broker may take to acknowledge a produce request. */
  withRequestTimeout(ms: number): this {
    return this.withOptions({ requestTimeoutMs: ms });
  }

  /**
   * Longest time a `send` takes to settle. Past it, a record still buffered fails with
   * `GOMES_PUBLISH_FAILED` (not written), one whose produce request is under way with
   * `GOMES_PUBLISH_OUTCOME_UNKNOWN` (the request is not cancelled: it may still be written).
   */
  withSendTimeout(ms: number): this {
    return this.withOptions({ sendTimeoutMs: ms });
  }

  /** Replaces the record ⇄ message translator. */
  withMessageTranslator(translator: KafkaMessageTranslator): this {
    return this.withOptions({ translator });
  }

  /** Replaces the payload serializer (JSON by default); the wire format and envelope are kept. */
  withSerializer(serializer: MessageSerializer): this {
    return this.withTranslator(serializer, {});
  }

  /**
   * How records are written: `'go-gomes'` for topics that Go gomes services consume (Go's
   * `timestamp` layout and trace header names, see {@link KafkaWireFormat}); `options.timeZone`
   * chooses the zone of the written wall clock (default: local, as Go). The serializer and the
   * envelope are kept.
   *
   * @example
   * ```ts
   * new KafkaPublisherChannelBuilder('kafka', 'orders').withWireFormat('go-gomes', { timeZone: 'UTC' });
   * ```
   */
  withWireFormat(wireFormat: KafkaWireFormat, options: { timeZone?: string } = {}): this {
    return this.withTranslator(this.options.translator.serializer, {
      wireFormat,
      timeZone: options.timeZone,
    });
  }

  /**
   * What records are written in: `'gomes'` (gomes headers only, the default) or `'cloudevents'`:
   * each record is also a CloudEvent (Kafka protocol binding) — `mode: 'binary'` (default) adds
   * `ce_*` headers and `content-type` next to the gomes headers, `mode: 'structured'` writes the
   * event (JSON format) as the value. Consumers recognise either without configuration. The
   * serializer and wire format are kept. See docs/cloudevents.md.
   *
   * @example
   * ```ts
   * new KafkaPublisherChannelBuilder('kafka', 'orders').withEnvelope('cloudevents', { mode: 'structured' });
   * ```
   */
  withEnvelope(format: MessageEnvelopeFormat, options: CloudEventsEnvelopeOptions = {}): this {
    return this.withTranslator(this.options.translator.serializer, {
      envelope: messageEnvelope(format, options),
    });
  }

  /** @inheritDoc */
  acceptsConnection(connection: ChannelConnection): boolean {
    return connection instanceof KafkaConnection;
  }

  /** The serializer's preflight (e.g. schema registration and compatibility), run by `start()`. */
  async preflight(context: PreflightContext): Promise<string[]> {
    return this.options.translator.preflight({
      role: 'publisher',
      topics: [this.channelName],
      channel: `publisher "${this.channelName}"`,
      logger: context.logger,
    });
  }

  /** @inheritDoc */
  async build(context: ChannelBuildContext): Promise<KafkaPublisherChannel> {
    ConfigurationError.throwIfAny(this.validate(), `Kafka publisher "${this.channelName}"`);
    const connection = context.connection;
    if (!(connection instanceof KafkaConnection)) {
      throw new ConfigurationError([
        `publisher "${this.channelName}" needs a KafkaConnection, got "${connection.name}"`,
      ]);
    }
    const driver = connection.driver;
    const o = this.options;
    if (!driver.supportedCompression.has(o.compression)) {
      throw new ConfigurationError([
        `publisher "${this.channelName}": compression "${o.compression}" is not supported by the driver`,
      ]);
    }
    const logger = context.logger.child({ publisher: this.channelName });
    const where = `Kafka "${connection.name}" for publisher "${this.channelName}"`;
    if (o.topic) {
      const admin = driver.createAdmin();
      try {
        await admin.connect();
        await ensureTopic(admin, this.channelName, o.topic, logger);
      } catch (error) {
        throw toConnectionError(error, where, { topic: this.channelName });
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
    let opened: Awaited<ReturnType<typeof openChannelProducer>>;
    try {
      opened = await openChannelProducer(driver, o);
    } catch (error) {
      throw toConnectionError(error, where, { topic: this.channelName });
    }
    const { producer, createProducer } = opened;
    return new KafkaPublisherChannel(
      this.channelName,
      producer,
      o,
      this.replyChannelName,
      logger,
      createProducer,
    );
  }

  /**
   * A bounded reader of this channel's topic, decoding records with this builder's translator (see
   * {@link KafkaChannelReader}). The connection must be connected.
   */
  createReader(context: ChannelBuildContext): KafkaChannelReader {
    const connection = context.connection;
    if (!(connection instanceof KafkaConnection)) {
      throw new ConfigurationError([
        `reader of "${this.channelName}" needs a KafkaConnection, got "${connection.name}"`,
      ]);
    }
    return new KafkaChannelReader(
      connection.driver,
      this.channelName,
      this.options.translator,
      context.logger,
    );
  }

  /** @inheritDoc */
  protected validateTransportOptions(): string[] {
    return validateKafkaPublisherOptions(this.options);
  }

  /** A new translator with `serializer`, `changes` and the current translator's other options. */
  private withTranslator(serializer: MessageSerializer, changes: KafkaMessageTranslatorOptions): this {
    const { wireFormat, timeZone, envelope } = this.options.translator;
    const merged: KafkaMessageTranslatorOptions = { wireFormat, timeZone, envelope, ...changes };
    return this.withOptions({ translator: new KafkaMessageTranslator(serializer, merged) });
  }

  private withOptions(changes: Partial<KafkaPublisherOptions>): this {
    return this.derive({ options: Object.freeze({ ...this.options, ...changes }) } as Partial<
      Record<keyof this, unknown>
    >);
  }
}
