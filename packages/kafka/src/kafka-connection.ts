import {
  ConfigurationError,
  GomesError,
  noopLogger,
  type ChannelConnection,
  type ExistingTopic,
  type Logger,
  type TopicAdmin,
} from '@gomes/core';
import type { DriverAdmin } from './driver/kafka-driver.js';
import type {
  KafkaDriver,
  KafkaDriverFactory,
  KafkaDriverName,
  SaslMechanism,
  TlsSettings,
} from './driver/kafka-driver.js';
import { createKafkajsDriver } from './driver/kafkajs-driver.js';
import { toConnectionError } from './kafka-errors.js';
import { withTimeout } from './internal/async-utils.js';
import { Secret } from './internal/secret.js';

/** TLS options of a {@link KafkaConnection} (PEM strings or buffers). @public */
export interface KafkaTlsOptions {
  /** CA certificate(s) the broker certificate must chain to; omit to trust the system CAs. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate (mutual TLS). */
  cert?: string | Buffer;
  /** Client private key (mutual TLS); never logged. */
  key?: string | Buffer | Secret;
  /** Verify the broker certificate and host name. @default true */
  rejectUnauthorized?: boolean;
  /** SNI / verification host name when it differs from the broker host. */
  servername?: string;
}

/** SASL options of a {@link KafkaConnection}. @public */
export interface KafkaSaslOptions {
  /** `plain`, `scram-sha-256` or `scram-sha-512`. */
  mechanism: SaslMechanism;
  /** User name. */
  username: string;
  /** Password; wrap it in {@link Secret} or pass a string (it is wrapped). Never logged. */
  password: string | Secret;
}

/**
 * Options of {@link KafkaConnection}. Durations are milliseconds.
 *
 * @public
 */
export interface KafkaConnectionOptions {
  /**
   * The Kafka client library: `kafkajs` (2.2.4, bundled) or `platformatic` (`@platformatic/kafka`
   * 1.x, an optional peer dependency the application installs; faster, KIP-848). Both give the same
   * behaviour above the driver (see docs/kafka.md, "Choosing a driver"). The library reads no
   * environment variable for it: an application that wants to switch by configuration passes its own
   * setting here.
   * @default 'kafkajs'
   */
  driver?: KafkaDriverName;
  /** Client id sent to the brokers. @default the connection name */
  clientId?: string;
  /** TLS; `true` = TLS with the system CAs. @default no TLS */
  tls?: KafkaTlsOptions | boolean;
  /** SASL authentication. @default none */
  sasl?: KafkaSaslOptions;
  /** TCP (and TLS) connect timeout per broker. @default 3000 */
  connectionTimeoutMs?: number;
  /** Timeout of one broker request. @default 30000 */
  requestTimeoutMs?: number;
  /** Timeout of the SASL handshake (kafkajs driver only: platformatic bounds it with `requestTimeoutMs`). @default 10000 */
  authenticationTimeoutMs?: number;
  /** Retries of a failing request by producers, consumers and admin calls. @default 5 */
  retries?: number;
  /** Retries while `connect()` verifies the cluster (kept low to fail fast). @default 1 */
  connectRetries?: number;
  /** Upper bound of the whole `connect()` verification. @default 15000 */
  connectTimeoutMs?: number;
  /** First retry delay (exponential backoff with jitter). @default 300 */
  initialRetryTimeMs?: number;
  /** Largest retry delay. @default 5000 */
  maxRetryTimeMs?: number;
  /** Logger for the connection and its clients (kafkajs logs are forwarded to it). @default no-op */
  logger?: Logger;
  /** @internal Replaces the driver (tests). */
  driverFactory?: KafkaDriverFactory;
}

/** Defaults of {@link KafkaConnectionOptions}. @public */
export const DEFAULT_KAFKA_CONNECTION_OPTIONS = Object.freeze({
  connectionTimeoutMs: 3000,
  requestTimeoutMs: 30000,
  authenticationTimeoutMs: 10000,
  retries: 5,
  connectRetries: 1,
  connectTimeoutMs: 15000,
  initialRetryTimeMs: 300,
  maxRetryTimeMs: 5000,
});

const KNOWN_OPTIONS = new Set([
  'driver',
  'clientId',
  'tls',
  'sasl',
  'connectionTimeoutMs',
  'requestTimeoutMs',
  'authenticationTimeoutMs',
  'retries',
  'connectRetries',
  'connectTimeoutMs',
  'initialRetryTimeMs',
  'maxRetryTimeMs',
  'logger',
  'driverFactory',
]);
const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
const DRIVERS: readonly KafkaDriverName[] = ['kafkajs', 'platformatic'];
const BROKER = /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d{1,5})$/;

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
    const problems: string[] = [];
    const o = this.#options;
    const where = `Kafka connection "${this.name}"`;
    if (!this.name) problems.push('a Kafka connection needs a non-empty name');
    for (const key of Object.keys(o))
      if (!KNOWN_OPTIONS.has(key)) problems.push(`${where}: unknown option "${key}"`);
    if (!DRIVERS.includes(this.driverName))
      problems.push(`${where}: driver "${this.driverName}" is not one of ${DRIVERS.join(', ')}`);
    if (this.driverName === 'platformatic' && o.authenticationTimeoutMs !== undefined) {
      problems.push(
        `${where}: authenticationTimeoutMs is not supported by the platformatic driver (it bounds the SASL exchange with requestTimeoutMs); remove it or use the kafkajs driver`,
      );
    }
    if (this.brokers.length === 0) problems.push(`${where} needs at least one broker ("host:port")`);
    for (const broker of this.brokers) {
      const match = BROKER.exec(broker);
      const port = match ? Number(match[2]) : NaN;
      if (!match || port < 1 || port > 65535)
        problems.push(`${where}: broker "${broker}" is not "host:port"`);
    }
    if (o.clientId !== undefined && o.clientId.trim() === '')
      problems.push(`${where}: clientId must not be empty`);
    for (const key of [
      'connectionTimeoutMs',
      'requestTimeoutMs',
      'authenticationTimeoutMs',
      'connectTimeoutMs',
      'initialRetryTimeMs',
      'maxRetryTimeMs',
    ] as const) {
      const v = o[key];
      if (v !== undefined && (!Number.isInteger(v) || v <= 0))
        problems.push(`${where}: ${key} must be a positive integer (ms), got ${String(v)}`);
    }
    for (const key of ['retries', 'connectRetries'] as const) {
      const v = o[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 0))
        problems.push(`${where}: ${key} must be an integer >= 0, got ${String(v)}`);
    }
    if (o.sasl !== undefined) {
      if (!MECHANISMS.includes(o.sasl.mechanism)) {
        problems.push(
          `${where}: SASL mechanism "${String(o.sasl.mechanism)}" is not one of ${MECHANISMS.join(', ')}`,
        );
      }
      if (!o.sasl.username) problems.push(`${where}: SASL username must not be empty`);
      if (Secret.of(o.sasl.password ?? '').isEmpty)
        problems.push(`${where}: SASL password must not be empty`);
    }
    if (typeof o.tls === 'object' && (o.tls.cert === undefined) !== (o.tls.key === undefined)) {
      problems.push(`${where}: TLS client authentication needs both cert and key`);
    }
    return problems;
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
      connectionTimeoutMs: o.connectionTimeoutMs ?? d.connectionTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs ?? d.requestTimeoutMs,
      authenticationTimeoutMs: o.authenticationTimeoutMs ?? d.authenticationTimeoutMs,
      retries: o.retries ?? d.retries,
      initialRetryTimeMs: o.initialRetryTimeMs ?? d.initialRetryTimeMs,
      maxRetryTimeMs: o.maxRetryTimeMs ?? d.maxRetryTimeMs,
      logger: this.#logger,
    });
    const admin = driver.createAdmin({ retries: o.connectRetries ?? d.connectRetries });
    const where = `Kafka "${this.name}" at ${this.brokers.join(',')}`;
    const timeoutMs = o.connectTimeoutMs ?? d.connectTimeoutMs;
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

function toTlsSettings(tls: KafkaTlsOptions | boolean | undefined): TlsSettings | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return { rejectUnauthorized: true };
  const key =
    tls.key === undefined
      ? undefined
      : Secret.of(Buffer.isBuffer(tls.key) ? tls.key.toString('utf8') : tls.key);
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(key === undefined ? {} : { key }),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
  };
}
