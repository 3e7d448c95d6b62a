import type { Logger } from '@gomes/core';
import type {
  KafkaDriverFactory,
  KafkaDriverName,
  SaslMechanism,
  TlsSettings,
} from './driver/kafka-driver.js';
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
  /** Timeout of one TCP (and TLS) socket connect to a broker (kafkajs' `connectionTimeout`). @default 3000 */
  socketConnectTimeoutMs?: number;
  /**
   * @deprecated Use `socketConnectTimeoutMs` (the same per-socket timeout; the old name was easy to
   * confuse with `connectTimeoutMs`). Giving both fails validation. Removed in the next release.
   */
  connectionTimeoutMs?: number;
  /** Timeout of one broker request. @default 30000 */
  requestTimeoutMs?: number;
  /** Timeout of the SASL handshake (kafkajs driver only: platformatic bounds it with `requestTimeoutMs`). @default 10000 */
  authenticationTimeoutMs?: number;
  /** Retries of a failing request by producers, consumers and admin calls. @default 5 */
  retries?: number;
  /** Retries while `connect()` verifies the cluster (kept low to fail fast). @default 1 */
  connectRetries?: number;
  /**
   * Budget of the whole `connect()` (connecting and verifying the cluster, with `connectRetries`):
   * past it, `connect()` (and `gomes.start()`) fails with `GOMES_CONNECTION_FAILED`. @default 15000
   */
  connectBudgetMs?: number;
  /**
   * @deprecated Use `connectBudgetMs` (the same bound of the whole `connect()`). Giving both fails
   * validation. Removed in the next release.
   */
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
  socketConnectTimeoutMs: 3000,
  /** @deprecated Use `socketConnectTimeoutMs`. */
  connectionTimeoutMs: 3000,
  requestTimeoutMs: 30000,
  authenticationTimeoutMs: 10000,
  retries: 5,
  connectRetries: 1,
  connectBudgetMs: 15000,
  /** @deprecated Use `connectBudgetMs`. */
  connectTimeoutMs: 15000,
  initialRetryTimeMs: 300,
  maxRetryTimeMs: 5000,
});

const KNOWN_OPTIONS = new Set([
  'driver',
  'clientId',
  'tls',
  'sasl',
  'socketConnectTimeoutMs',
  'connectionTimeoutMs',
  'requestTimeoutMs',
  'authenticationTimeoutMs',
  'retries',
  'connectRetries',
  'connectBudgetMs',
  'connectTimeoutMs',
  'initialRetryTimeMs',
  'maxRetryTimeMs',
  'logger',
  'driverFactory',
]);
/** Renamed options: [new name, deprecated alias]. */
const DEPRECATED_NAMES = [
  ['socketConnectTimeoutMs', 'connectionTimeoutMs'],
  ['connectBudgetMs', 'connectTimeoutMs'],
] as const;

/**
 * The per-socket connect timeout and the `connect()` budget of `o`, from the new names or their
 * deprecated aliases, else the defaults. @internal
 */
export function connectTimeoutsOf(o: KafkaConnectionOptions): {
  readonly socketConnectTimeoutMs: number;
  readonly connectBudgetMs: number;
} {
  const d = DEFAULT_KAFKA_CONNECTION_OPTIONS;
  return {
    socketConnectTimeoutMs: o.socketConnectTimeoutMs ?? o.connectionTimeoutMs ?? d.socketConnectTimeoutMs,
    connectBudgetMs: o.connectBudgetMs ?? o.connectTimeoutMs ?? d.connectBudgetMs,
  };
}

const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
const DRIVERS: readonly KafkaDriverName[] = ['kafkajs', 'platformatic'];
const BROKER = /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d{1,5})$/;

/**
 * Every problem of a {@link KafkaConnection}'s name, brokers and options, each with the fix (empty:
 * valid). @internal
 */
export function validateKafkaConnectionOptions(
  name: string,
  brokers: readonly string[],
  o: KafkaConnectionOptions,
): string[] {
  const problems: string[] = [];
  const driverName = o.driver ?? 'kafkajs';
  const where = `Kafka connection "${name}"`;
  if (!name) problems.push('a Kafka connection needs a non-empty name');
  for (const key of Object.keys(o))
    if (!KNOWN_OPTIONS.has(key)) problems.push(`${where}: unknown option "${key}"`);
  if (!DRIVERS.includes(driverName))
    problems.push(`${where}: driver "${driverName}" is not one of ${DRIVERS.join(', ')}`);
  if (driverName === 'platformatic' && o.authenticationTimeoutMs !== undefined) {
    problems.push(
      `${where}: authenticationTimeoutMs is not supported by the platformatic driver (it bounds the SASL exchange with requestTimeoutMs); remove it or use the kafkajs driver`,
    );
  }
  if (brokers.length === 0) problems.push(`${where} needs at least one broker ("host:port")`);
  for (const broker of brokers) {
    const match = BROKER.exec(broker);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) problems.push(`${where}: broker "${broker}" is not "host:port"`);
  }
  if (o.clientId !== undefined && o.clientId.trim() === '')
    problems.push(`${where}: clientId must not be empty`);
  for (const [name, deprecated] of DEPRECATED_NAMES) {
    if (o[name] !== undefined && o[deprecated] !== undefined) {
      problems.push(
        `${where}: both ${name} and its deprecated alias ${deprecated} are given; keep only ${name}`,
      );
    }
  }
  for (const key of [
    'socketConnectTimeoutMs',
    'connectionTimeoutMs',
    'requestTimeoutMs',
    'authenticationTimeoutMs',
    'connectBudgetMs',
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
    if (Secret.of(o.sasl.password ?? '').isEmpty) problems.push(`${where}: SASL password must not be empty`);
  }
  if (typeof o.tls === 'object' && (o.tls.cert === undefined) !== (o.tls.key === undefined)) {
    problems.push(`${where}: TLS client authentication needs both cert and key`);
  }
  return problems;
}

/** The driver's TLS settings of the `tls` option (keys held as {@link Secret}s). @internal */
export function toTlsSettings(tls: KafkaTlsOptions | boolean | undefined): TlsSettings | undefined {
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
