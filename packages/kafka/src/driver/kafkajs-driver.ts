// The ambient `kafkajs-snappy` declaration must also load when only test files are compiled.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./kafkajs-snappy.d.ts" />
/**
 * The kafkajs implementation of {@link KafkaDriver} (with kafkajs-consumer.ts and kafkajs-admin.ts, the
 * only modules that import kafkajs).
 *
 * @packageDocumentation
 */
import type { LogFields, Logger } from '@gomes/core';
import kafkajs from 'kafkajs';
import type { KafkaConfig, LogEntry, Producer, SASLOptions } from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import { clampKafkajsTimers } from './kafkajs-node24.js';
import { lz4Codec, zstdCodec } from './compression-codecs.js';
import { KafkajsAdmin } from './kafkajs-admin.js';
import { KafkajsConsumer, fixedPartitionsAssigner } from './kafkajs-consumer.js';
import type { ConnectionOptions } from 'node:tls';
import type {
  CompressionCodec,
  DriverAdmin,
  DriverConsumer,
  DriverConsumerOptions,
  DriverOutboundRecord,
  DriverProduceRequest,
  DriverProducer,
  DriverProducerOptions,
  DriverRecordMetadata,
  KafkaDriver,
  KafkaDriverConfig,
  KafkaGroupProtocol,
} from './kafka-driver.js';

const { Kafka, CompressionTypes, CompressionCodecs, Partitioners, logLevel } = kafkajs;

// kafkajs ships only gzip; snappy (kafkajs-snappy), lz4 (lz4js) and zstd (zstd-codec, WebAssembly)
// are pure-JS codecs registered once, globally in kafkajs, so consumers can also read records that
// other clients compressed with them.
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.Snappy] = SnappyCodec;
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.LZ4] = lz4Codec;
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.ZSTD] = zstdCodec;
clampKafkajsTimers();

const SUPPORTED_COMPRESSION: ReadonlySet<CompressionCodec> = new Set<CompressionCodec>([
  'none',
  'gzip',
  'snappy',
  'lz4',
  'zstd',
]);

const COMPRESSION_TYPES: Record<CompressionCodec, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/**
 * Creates a kafkajs-backed driver.
 *
 * @internal
 */
export function createKafkajsDriver(config: KafkaDriverConfig): KafkaDriver {
  return new KafkajsDriver(config);
}

const GROUP_PROTOCOLS: ReadonlySet<KafkaGroupProtocol> = new Set<KafkaGroupProtocol>(['classic']);

class KafkajsDriver implements KafkaDriver {
  readonly name = 'kafkajs' as const;
  readonly supportedCompression = SUPPORTED_COMPRESSION;
  /** kafkajs has no KIP-848 (consumer group protocol). */
  readonly supportedGroupProtocols = GROUP_PROTOCOLS;
  readonly #config: KafkaDriverConfig;

  constructor(config: KafkaDriverConfig) {
    this.#config = config;
  }

  createProducer(options: DriverProducerOptions): DriverProducer {
    const requestTimeoutMs = producerRequestTimeoutMs(
      this.#config.requestTimeoutMs,
      options.produceTimeoutMs,
    );
    const kafka = this.#client(this.#config.retries, requestTimeoutMs);
    const producer = kafka.producer({
      idempotent: options.idempotent,
      maxInFlightRequests: options.maxInFlightRequests,
      allowAutoTopicCreation: options.allowAutoTopicCreation,
      // murmur2, Java-compatible: the same key lands on the same partition as with Java/Go clients.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { ...this.#retry(options.maxAttempts - 1) },
    });
    return new KafkajsProducer(producer, options.produceTimeoutMs);
  }

  createConsumer(options: DriverConsumerOptions): DriverConsumer {
    const kafka = this.#client(this.#config.retries);
    const consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      minBytes: options.minBytes,
      maxBytes: options.maxBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTimeInMs: options.maxWaitTimeMs,
      readUncommitted: !options.readCommitted,
      metadataMaxAge: options.metadataMaxAgeMs,
      allowAutoTopicCreation: options.allowAutoTopicCreation,
      ...(options.onlyPartitions
        ? { partitionAssigners: [fixedPartitionsAssigner(options.onlyPartitions)] }
        : {}),
      // gomes restarts crashed consumers itself (bounded, with backoff, reported): never kafkajs.
      retry: { ...this.#retry(this.#config.retries), restartOnFailure: async () => false },
    });
    return new KafkajsConsumer(consumer, kafka, options.groupId);
  }

  createAdmin(options: { retries?: number } = {}): DriverAdmin {
    const kafka = this.#client(options.retries ?? this.#config.retries);
    return new KafkajsAdmin(kafka.admin({ retry: this.#retry(options.retries ?? this.#config.retries) }));
  }

  #retry(retries: number): { retries: number; initialRetryTime: number; maxRetryTime: number } {
    return {
      retries: Math.max(0, retries),
      initialRetryTime: this.#config.initialRetryTimeMs,
      maxRetryTime: this.#config.maxRetryTimeMs,
    };
  }

  #client(retries: number, requestTimeoutMs = this.#config.requestTimeoutMs): InstanceType<typeof Kafka> {
    const c = this.#config;
    const kafkaConfig: KafkaConfig = {
      brokers: [...c.brokers],
      clientId: c.clientId,
      connectionTimeout: c.connectionTimeoutMs,
      requestTimeout: requestTimeoutMs,
      authenticationTimeout: c.authenticationTimeoutMs,
      enforceRequestTimeout: true,
      retry: this.#retry(retries),
      logLevel: logLevel.INFO,
      logCreator: () => (entry: LogEntry) => forwardLog(c.logger, entry),
    };
    if (c.tls) kafkaConfig.ssl = toTlsOptions(c);
    if (c.sasl) {
      kafkaConfig.sasl = {
        mechanism: c.sasl.mechanism,
        username: c.sasl.username,
        password: c.sasl.password.reveal(),
      } as SASLOptions;
    }
    return new Kafka(kafkaConfig);
  }
}

/** How much longer than the produce timeout the client waits for a produce response at least. */
const PRODUCE_TIMEOUT_MARGIN_MS = 5000;

/**
 * The client request timeout of a producer: the connection's `requestTimeoutMs`, raised when needed
 * so it stays clearly above the produce timeout (the broker's wait for acks), by at least 5 s and
 * 20 %. Otherwise the client gives up on requests the broker may still append, and retries of an
 * idempotent producer become ambiguous.
 *
 * @internal
 */
export function producerRequestTimeoutMs(clientRequestTimeoutMs: number, produceTimeoutMs: number): number {
  const margin = Math.max(PRODUCE_TIMEOUT_MARGIN_MS, Math.ceil(produceTimeoutMs * 0.2));
  return Math.max(clientRequestTimeoutMs, produceTimeoutMs + margin);
}

function toTlsOptions(c: KafkaDriverConfig): ConnectionOptions {
  const tls = c.tls;
  if (!tls) return {};
  const options: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized ?? true };
  if (tls.ca !== undefined)
    options.ca = Array.isArray(tls.ca) ? [...(tls.ca as (string | Buffer)[])] : (tls.ca as string | Buffer);
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key.reveal();
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

/** Sends kafkajs log lines to the gomes logger (kafkajs INFO lines are demoted to debug). */
function forwardLog(logger: Logger, entry: LogEntry): void {
  const { message, timestamp: _ts, ...rest } = entry.log;
  const fields: LogFields = { ...(rest as Record<string, unknown>), kafkajs: entry.namespace };
  const text = `kafkajs: ${message}`;
  if (entry.level === logLevel.ERROR) logger.error(text, fields);
  else if (entry.level === logLevel.WARN) logger.warn(text, fields);
  else logger.debug(text, fields);
}

class KafkajsProducer implements DriverProducer {
  readonly #producer: Producer;
  readonly #produceTimeoutMs: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(producer: Producer, produceTimeoutMs: number) {
    this.#producer = producer;
    this.#produceTimeoutMs = produceTimeoutMs;
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
  }

  async send(request: DriverProduceRequest): Promise<DriverRecordMetadata[]> {
    const promise = this.#producer.send({
      topic: request.topic,
      acks: request.acks,
      // Never above the timeout the client request timeout was derived from.
      timeout: Math.min(request.timeoutMs, this.#produceTimeoutMs),
      compression: COMPRESSION_TYPES[request.compression],
      // The records as they are: kafkajs only reads key, value, headers and partition (it never
      // writes to a message), and a record has no `timestamp`, so kafkajs stamps the send time.
      messages: request.records as DriverOutboundRecord[],
    });
    this.#inFlight.add(promise);
    try {
      const result = await promise;
      return result.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: m.baseOffset }));
    } finally {
      this.#inFlight.delete(promise);
    }
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      await this.#producer.disconnect();
    })();
    return this.#closing;
  }
}
