// The environment contract between the test runner (scripts/run-tests.mjs, which starts a real broker
// through scripts/kafka-broker.mjs when KAFKA_BROKERS is unset) and the Kafka integration tests.
// A missing variable is an error, never a skip: integration tests must fail when no broker is there.
import { randomBytes } from 'node:crypto';

export interface KafkaTestEnv {
  /** PLAINTEXT listener(s), e.g. ['127.0.0.1:19092'] (KAFKA_BROKERS, comma-separated). */
  brokers: string[];
  /** SASL_PLAINTEXT listener(s) with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (KAFKA_SASL_BROKERS). */
  saslBrokers: string[];
  /** SSL listener(s) (KAFKA_SSL_BROKERS). */
  sslBrokers: string[];
  /** Absolute path of the PEM CA certificate that signed the SSL listener's certificate (KAFKA_SSL_CA). */
  sslCa: string;
  /** Broker version, e.g. '4.4.0' or '3.9.1' (KAFKA_VERSION). */
  version: string;
}

/** Credentials provisioned by scripts/kafka-broker.mjs. */
export const KAFKA_TEST_USERS = {
  plain: { username: 'alice', password: 'alice-secret' },
  plainAdmin: { username: 'admin', password: 'admin-secret' },
  scram: { username: 'alice', password: 'alice-secret' },
} as const;

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) {
    throw new Error(
      `${name} is not set: the Kafka integration tests need a running broker. ` +
        'Run them through `pnpm test` (node scripts/run-tests.mjs), which starts a local broker, ' +
        'or export KAFKA_BROKERS (and KAFKA_SASL_BROKERS, KAFKA_SSL_BROKERS, KAFKA_SSL_CA, KAFKA_VERSION for ' +
        'the SASL/SSL tests) for an external broker.',
    );
  }
  return value;
}

function list(name: string): string[] {
  const items = required(name)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new Error(`${name} does not contain any host:port`);
  return items;
}

/**
 * Reads the broker environment. KAFKA_BROKERS is checked at once; the other fields are read when first
 * accessed, so a PLAINTEXT-only broker (e.g. `docker compose up`, which exports only KAFKA_BROKERS) runs
 * the PLAINTEXT tests while SASL/SSL tests fail with an error naming the missing variable.
 */
export function kafkaTestEnv(): KafkaTestEnv {
  const brokers = list('KAFKA_BROKERS');
  return {
    brokers,
    get saslBrokers() {
      return list('KAFKA_SASL_BROKERS');
    },
    get sslBrokers() {
      return list('KAFKA_SSL_BROKERS');
    },
    get sslCa() {
      return required('KAFKA_SSL_CA');
    },
    get version() {
      return required('KAFKA_VERSION');
    },
  };
}

/** A topic name unique to this run: `<prefix>-<time>-<random>`, restricted to legal topic characters. */
export function uniqueTopic(prefix: string): string {
  const safe = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 180);
  return `${safe}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
