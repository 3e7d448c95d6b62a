/**
 * The `@platformatic/kafka` implementation of {@link KafkaDriver} (`driver: 'platformatic'`). The
 * library is an optional peer dependency: this module only imports its types, and receives the
 * loaded module from `platformatic-loader.ts`.
 *
 * @packageDocumentation
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { BaseOptions, ConsumerOptions, ProduceResult, Producer, SASLOptions } from '@platformatic/kafka';
import { fixedPartitionsAssignor, roundRobinAssignor } from './platformatic-assigners.js';
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
import { producerRequestTimeoutMs } from './kafkajs-driver.js';
import type { PlatformaticKafka } from './platformatic-loader.js';
import { PlatformaticAdmin } from './platformatic-admin.js';
import { PlatformaticConsumer } from './platformatic-consumer.js';
import { normalizePlatformaticError } from './platformatic-errors.js';
import { encodeRecord, PreparedPlatformaticRecord } from './platformatic-outbound.js';

const SUPPORTED_COMPRESSION: ReadonlySet<CompressionCodec> = new Set<CompressionCodec>([
  'none',
  'gzip',
  'snappy',
  'lz4',
  'zstd',
]);
const GROUP_PROTOCOLS: ReadonlySet<KafkaGroupProtocol> = new Set<KafkaGroupProtocol>(['classic', 'consumer']);

/**
 * Creates a driver on a loaded `@platformatic/kafka`.
 *
 * @internal
 */
export function createPlatformaticDriver(kafka: PlatformaticKafka, config: KafkaDriverConfig): KafkaDriver {
  return new PlatformaticDriver(kafka, config);
}

/** Client settings shared by every client of a driver: brokers, TLS, SASL, timeouts, retries. @internal */
export function baseOptions(
  config: KafkaDriverConfig,
  retries: number,
  requestTimeoutMs = config.requestTimeoutMs,
): BaseOptions {
  const options: BaseOptions = {
    clientId: config.clientId,
    bootstrapBrokers: [...config.brokers],
    connectTimeout: config.connectionTimeoutMs,
    // The client-side bound of one request (the library's `timeout` is the broker-side one).
    requestTimeout: requestTimeoutMs,
    retries: Math.max(0, retries),
    retryDelay: (_client, _operation, attempt) => retryDelayMs(config, attempt),
  };
  if (config.tls) options.tls = toTlsOptions(config);
  if (config.sasl) {
    const mechanism = config.sasl.mechanism.toUpperCase() as SASLOptions['mechanism'];
    const password = config.sasl.password;
    // A provider, so the password is read when a connection authenticates and never held in options.
    options.sasl = { mechanism, username: config.sasl.username, password: () => password.reveal() };
  }
  return options;
}

/**
 * The library `Consumer`'s options for a group member of the driver: `base` plus the group
 * protocol's settings (the round-robin or fixed-partitions assignor on the classic protocol), no
 * auto-commit, and the fetch limits.
 *
 * @internal
 */
export function groupConsumerOptions(
  base: BaseOptions,
  o: DriverConsumerOptions,
): ConsumerOptions<Buffer, Buffer, Buffer, Buffer> {
  const assignor = o.onlyPartitions ? fixedPartitionsAssignor(o.onlyPartitions) : roundRobinAssignor;
  const group =
    o.groupProtocol === 'consumer'
      ? {
          groupProtocol: 'consumer' as const,
          // The broker owns the session under KIP-848; the library still validates these two.
          sessionTimeout: o.sessionTimeoutMs,
          rebalanceTimeout: Math.max(o.rebalanceTimeoutMs, o.sessionTimeoutMs),
        }
      : {
          sessionTimeout: o.sessionTimeoutMs,
          // The library requires rebalanceTimeout >= sessionTimeout (Kafka does not).
          rebalanceTimeout: Math.max(o.rebalanceTimeoutMs, o.sessionTimeoutMs),
          heartbeatInterval: o.heartbeatIntervalMs,
          protocols: [assignor.protocol],
          partitionAssigner: assignor.assign,
        };
  return {
    ...base,
    ...group,
    groupId: o.groupId,
    autocommit: false,
    minBytes: o.minBytes,
    maxBytes: o.maxBytes,
    maxWaitTime: o.maxWaitTimeMs,
    isolationLevel: o.readCommitted ? 1 : 0,
    metadataMaxAge: o.metadataMaxAgeMs,
    autocreateTopics: o.allowAutoTopicCreation,
  };
}

/** Exponential backoff with jitter between `initialRetryTimeMs` and `maxRetryTimeMs` (as kafkajs). */
function retryDelayMs(config: KafkaDriverConfig, attempt: number): number {
  const base = Math.min(config.maxRetryTimeMs, config.initialRetryTimeMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function toTlsOptions(c: KafkaDriverConfig): TlsConnectionOptions {
  const tls = c.tls;
  if (!tls) return {};
  const options: TlsConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized ?? true };
  if (tls.ca !== undefined)
    options.ca = Array.isArray(tls.ca) ? [...(tls.ca as (string | Buffer)[])] : (tls.ca as string | Buffer);
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key.reveal();
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

class PlatformaticDriver implements KafkaDriver {
  readonly name = 'platformatic' as const;
  readonly supportedCompression = SUPPORTED_COMPRESSION;
  readonly supportedGroupProtocols = GROUP_PROTOCOLS;
  readonly #kafka: PlatformaticKafka;
  readonly #config: KafkaDriverConfig;

  constructor(kafka: PlatformaticKafka, config: KafkaDriverConfig) {
    this.#kafka = kafka;
    this.#config = config;
  }

  createProducer(options: DriverProducerOptions): DriverProducer {
    const c = this.#config;
    const requestTimeoutMs = producerRequestTimeoutMs(c.requestTimeoutMs, options.produceTimeoutMs);
    const retries = Math.max(0, options.maxAttempts - 1);
    const { compatibilityPartitioner } = this.#kafka;
    let roundRobin = 0;
    const producer = new this.#kafka.Producer({
      ...baseOptions(c, retries, requestTimeoutMs),
      // The broker's wait for the acks of one produce request.
      timeout: options.produceTimeoutMs,
      idempotent: options.idempotent,
      ...(options.idempotent ? {} : { maxInflights: options.maxInFlightRequests }),
      autocreateTopics: options.allowAutoTopicCreation,
      // Java / kafkajs murmur2 (the library's default partitioner is not): a key lands on the same
      // partition whichever driver or client wrote it. Records without a key go round-robin, as with
      // kafkajs (the compatibility partitioner would send them all to partition 0).
      partitioner: (message, key) =>
        key === undefined || key === null ? roundRobin++ : compatibilityPartitioner(message, key),
    });
    if (options.idempotent) {
      // The library raises the retries of an idempotent producer to "forever" when they are 0 or 1;
      // gomes bounds attempts (withMaxAttempts) and replaces a producer after a failed idempotent
      // send, so the sequence numbers of a given-up request are never reused: keep the bound.
      (producer as unknown as Record<symbol, { retries: number }>)[this.#kafka.kOptions]!.retries = retries;
    }
    return new PlatformaticProducer(producer);
  }

  createConsumer(options: DriverConsumerOptions): DriverConsumer {
    return new PlatformaticConsumer(this.#kafka, this.#config, options);
  }

  createAdmin(options: { retries?: number } = {}): DriverAdmin {
    return new PlatformaticAdmin(
      this.#kafka,
      baseOptions(this.#config, options.retries ?? this.#config.retries),
      this.#config.logger,
    );
  }
}

class PlatformaticProducer implements DriverProducer {
  readonly #producer: Producer;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(producer: Producer) {
    this.#producer = producer;
  }

  async connect(): Promise<void> {
    // Reaches the cluster (and authenticates) now rather than on the first send.
    await this.#producer.listApis().catch((error: unknown) => {
      throw normalizePlatformaticError(error);
    });
  }

  /** Encodes the record now (key, value, headers as Buffers): `send` then takes it as it is. */
  prepare(record: DriverOutboundRecord): DriverOutboundRecord {
    return new PreparedPlatformaticRecord(record);
  }

  async send(request: DriverProduceRequest): Promise<DriverRecordMetadata[]> {
    const { topic } = request;
    const messages = request.records.map((r) => {
      const { key, value, headers, partition } = encodeRecord(r);
      return partition === undefined
        ? { topic, key, value, headers }
        : { topic, key, value, headers, partition };
    });
    const promise = this.#producer.send({
      messages,
      acks: request.acks,
      compression: request.compression,
    });
    this.#inFlight.add(promise);
    let result: ProduceResult;
    try {
      result = await promise;
    } catch (error) {
      throw normalizePlatformaticError(error);
    } finally {
      this.#inFlight.delete(promise);
    }
    return (result.offsets ?? []).map((o) => ({
      topic: o.topic,
      partition: o.partition,
      baseOffset: o.offset.toString(),
    }));
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      await new Promise<void>((resolve, reject) =>
        this.#producer.close(true, (error) => (error ? reject(error) : resolve())),
      );
    })();
    return this.#closing;
  }
}
