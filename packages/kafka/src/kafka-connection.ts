import { ConfigurationError, GomesError, noopLogger, type ChannelConnection, type Logger } from '@gomes/core';
import type { ExistingTopic, TopicAdmin } from '@gomes/core/transport';
import type { DriverAdmin } from './driver/kafka-driver.js';
import type { KafkaDriver, KafkaDriverFactory, KafkaDriverName } from './driver/kafka-driver.js';
import { createKafkajsDriver } from './driver/kafkajs-driver.js';
import { toConnectionError } from './kafka-errors.js';
import { withTimeout } from './internal/async-utils.js';
import { Secret } from './internal/secret.js';
import {
  DEFAULT_KAFKA_CONNECTION_OPTIONS,
  toTlsSettings,
  validateKafkaConnectionOptions,
  type KafkaConnectionOptions,
  connectTimeoutsOf,
} from './kafka-connection-options.js';

/** Connection state. @public */
export type KafkaConnectionState = 'disconnected' | 'connecting' | 'connected';

/**
 * A Kafka cluster connection (Go gomes' `kafka.NewConnection(name, brokers, opts...)`), shared by the
 * Kafka publisher and consumer channels that name it.
 *
 * Unlike Go gomes, `connect()` really reaches the cluster: it describes it with a short, bounded
 * retry and fails fast with `GOMES_CONNECTION_FAILED` (unreachable, timeout, TLS handshake) or
 * `GOMES_AUTHENTICATION_FAILED` (SASL credentials or mechanism, broker certificate not trusted).
 * Passwords and private keys are held as {@link Secret}s and never logged.
 *
 * @example
 * ```ts
 * const kafka = new KafkaConnection('kafka', ['broker-1:9093'], {
 *   tls: { ca: readFileSync('ca.pem') },
 *   sasl: { mechanism: 'scram-sha-512', username: 'orders', password: Secret.of(process.env.KAFKA_PASSWORD!) },
 * });
 * gomes.addChannelConnection(kafka);
 * ```
 * @public
 */
export class KafkaConnection implements ChannelConnection {
  /** @inheritDoc */
  readonly name: string;
  /** Bootstrap brokers (`host:port`). */
  readonly brokers: readonly string[];
  /** Transport id, used as `messaging.system` by gomes' tracing and metrics. */
  readonly transport = 'kafka';
  readonly #options: KafkaConnectionOptions;
  readonly #logger: Logger;
  #driver: KafkaDriver | undefined;
  #state: KafkaConnectionState = 'disconnected';
  #connecting: Promise<void> | undefined;

  constructor(name: string, brokers: readonly string[], options: KafkaConnectionOptions = {}) {
    this.name = name;
    this.brokers = Object.freeze([...brokers]);
    this.#options = { ...options };
    this.#logger = (options.logger ?? noopLogger).child({ connection: name });
  }

  /**
   * The driver this connection runs on: the `driver` option, else `kafkajs` (an unknown name is
   * reported by `validate()`).
   */
  get driverName(): KafkaDriverName {
    return this.#options.driver ?? 'kafkajs';
  }

  /** Current state. */
  get state(): KafkaConnectionState {
    return this.#state;
  }

  /** The logger of this connection. */
  get logger(): Logger {
    return this.#logger;
  }

  /**
   * The driver of the connected cluster.
   *
   * @throws GomesError `GOMES_ILLEGAL_STATE` before `connect()`.
   * @internal
   */
  get driver(): KafkaDriver {
    if (!this.#driver || this.#state !== 'connected') {
      throw new GomesError('ILLEGAL_STATE', `Kafka connection "${this.name}" is not connected`);
    }
    return this.#driver;
  }

  /** @inheritDoc */
  validate(): string[] {
    return validateKafkaConnectionOptions(this.name, this.brokers, this.#options);
  }

  /** @inheritDoc */
  async connect(): Promise<void> {
    if (this.#state === 'connected') return;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** @inheritDoc */
  async disconnect(): Promise<void> {
    if (this.#state === 'disconnected') return;
    this.#state = 'disconnected';
    this.#driver = undefined;
    this.#logger.info('Kafka connection closed');
  }

  /**
   * Topic administration for `gomes.addTopics`: describes topics (partitions, replication factor
   * of the first partition, the broker's value of each declared config) and creates missing ones
   * (waiting for their leaders). Needs the connection to be connected.
   */
  topicAdmin(): TopicAdmin {
    const withAdmin = async <T>(work: (admin: DriverAdmin) => Promise<T>): Promise<T> => {
      const admin = this.driver.createAdmin();
      try {
        await admin.connect();
        return await work(admin);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    };
    return {
      describeTopics: async (names, configNames) =>
        withAdmin(async (admin) => {
          const found = new Map<string, ExistingTopic>();
          for (const info of await admin.describeTopics(names)) {
            const configs =
              configNames.length > 0 ? await admin.describeTopicConfigs(info.topic, configNames) : {};
            found.set(info.topic, {
              partitions: info.partitions,
              replicationFactor: info.replicationFactor,
              configs,
            });
          }
          return found;
        }),
      createTopics: async (topics) =>
        withAdmin(async (admin) => {
          try {
            await admin.createTopics(
              topics.map((t) => ({
                topic: t.name,
                partitions: t.partitions,
                replicationFactor: t.replicationFactor,
                configs: { ...t.configs },
              })),
            );
          } catch (error) {
            // Both drivers aggregate one error per topic (kafkajs names the topic, platformatic adds
            // the broker's own message): surface the broker's reasons.
            const errors = (
              error as { errors?: { topic?: string; message?: string; serverErrorMessage?: unknown }[] }
            ).errors;
            if (!Array.isArray(errors) || errors.length === 0) throw error;
            const reasons = errors.map((e) => {
              const detail = typeof e.serverErrorMessage === 'string' ? ` ${e.serverErrorMessage}` : '';
              return `${e.topic === undefined ? '' : `${e.topic}: `}${e.message ?? 'unknown error'}${detail}`;
            });
            throw new Error(`${(error as Error).message} (${reasons.join('; ')})`, { cause: error });
          }
        }),
    };
  }

  /** A log-safe description (no secrets). */
  describe(): Record<string, unknown> {
    const o = this.#options;
    return {
      name: this.name,
      brokers: [...this.brokers],
      clientId: o.clientId ?? this.name,
      driver: this.driverName,
      tls:
        o.tls === undefined
          ? false
          : o.tls === true
            ? 'system CAs'
            : typeof o.tls === 'object'
              ? 'custom'
              : false,
      sasl: o.sasl
        ? { mechanism: o.sasl.mechanism, username: o.sasl.username, password: '[REDACTED]' }
        : undefined,
    };
  }

  /** Same as {@link KafkaConnection.describe}: serialising a connection never leaks secrets. */
  toJSON(): Record<string, unknown> {
    return this.describe();
  }

  async #connect(): Promise<void> {
    ConfigurationError.throwIfAny(this.validate(), `Kafka connection "${this.name}"`);
    const o = this.#options;
    const d = DEFAULT_KAFKA_CONNECTION_OPTIONS;
    this.#state = 'connecting';
    let factory: KafkaDriverFactory;
    try {
      factory = o.driverFactory ?? (await driverFactory(this.driverName));
    } catch (error) {
      this.#state = 'disconnected';
      throw error;
    }
    const driver = factory({
      brokers: this.brokers,
      clientId: o.clientId ?? this.name,
      tls: toTlsSettings(o.tls),
      sasl: o.sasl
        ? { mechanism: o.sasl.mechanism, username: o.sasl.username, password: Secret.of(o.sasl.password) }
        : undefined,
      connectionTimeoutMs: connectTimeoutsOf(o).socketConnectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs ?? d.requestTimeoutMs,
      authenticationTimeoutMs: o.authenticationTimeoutMs ?? d.authenticationTimeoutMs,
      retries: o.retries ?? d.retries,
      initialRetryTimeMs: o.initialRetryTimeMs ?? d.initialRetryTimeMs,
      maxRetryTimeMs: o.maxRetryTimeMs ?? d.maxRetryTimeMs,
      logger: this.#logger,
    });
    const admin = driver.createAdmin({ retries: o.connectRetries ?? d.connectRetries });
    const where = `Kafka "${this.name}" at ${this.brokers.join(',')}`;
    const timeoutMs = connectTimeoutsOf(o).connectBudgetMs;
    try {
      const cluster = await withTimeout(
        (async () => {
          await admin.connect();
          return admin.describeCluster();
        })(),
        timeoutMs,
        () =>
          new GomesError('CONNECTION_FAILED', `Cannot connect to ${where}: no answer within ${timeoutMs} ms`),
      );
      this.#driver = driver;
      this.#state = 'connected';
      this.#logger.info('Kafka connection verified', {
        clusterId: cluster.clusterId,
        brokers: cluster.brokers.map((b) => `${b.host}:${b.port}`),
      });
    } catch (error) {
      this.#state = 'disconnected';
      const mapped = toConnectionError(error, where, this.describe());
      this.#logger.error('Kafka connection failed', { code: mapped.code, reason: mapped.message });
      throw mapped;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/** The factory of a driver; the platformatic one loads `@platformatic/kafka` first. */
async function driverFactory(name: KafkaDriverName): Promise<KafkaDriverFactory> {
  if (name === 'kafkajs') return createKafkajsDriver;
  const { platformaticDriverFactory } = await import('./driver/platformatic-loader.js');
  return platformaticDriverFactory();
}
