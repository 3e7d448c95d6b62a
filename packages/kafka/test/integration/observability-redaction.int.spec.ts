// Redaction against the real broker: SASL passwords and TLS private keys given to a KafkaConnection
// never reach a real pino logger (kafkajs logs included), error messages, describe() or JSON, on the
// start() success path and on its failure paths.
import 'reflect-metadata';
import { inspect } from 'node:util';
import pino from 'pino';
import { createGomes, pinoLogger, type Gomes, type Logger } from '@gomes/core';
import {
  KafkaConnection,
  KafkaPublisherChannelBuilder,
  Secret,
  type KafkaConnectionOptions,
} from '@gomes/kafka';
import { KAFKA_TEST_USERS, uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, env, testDriverName, track } from '../support/kafka-harness.js';

afterEach(closeAll);

const TLS_KEY_SECRET = 'TLS-KEY-SECRET-9f3a1c';
const TLS_KEY = `-----BEGIN PRIVATE KEY-----\nMIIEv${TLS_KEY_SECRET}QIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n`;
const WRONG_PASSWORD = 'wrong-PASSWORD-s3cret-77';

/** A real pino logger (trace level) writing into a string. */
function capturedPino(): { logger: Logger; output: () => string } {
  let out = '';
  const stream = { write: (chunk: string) => void (out += chunk) };
  return { logger: pinoLogger(pino({ level: 'trace' }, stream)), output: () => out };
}

function appWith(
  logger: Logger,
  brokers: readonly string[],
  options: KafkaConnectionOptions,
): { app: Gomes; connection: KafkaConnection } {
  const connection = new KafkaConnection('kafka', brokers, {
    driver: testDriverName(),
    logger,
    socketConnectTimeoutMs: 3000,
    connectBudgetMs: 8000,
    retries: 0,
    ...options,
  });
  const app = createGomes({ name: 'redaction', logger }).addChannelConnection(connection);
  track({ close: async () => app.shutdown().catch(() => undefined) });
  return { app, connection };
}

/** Every rendering of `things` a log line, a crash report or a debugger could show. */
function renderings(...things: unknown[]): string {
  return things
    .flatMap((t) => [
      String(t),
      JSON.stringify(t) ?? '',
      inspect(t, { depth: 20, showHidden: true, getters: true }),
    ])
    .join('\n');
}

function expectNoSecret(text: string, ...secrets: string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

it('a SASL password never appears in logs, describe() or JSON on a successful start and send', async () => {
  const { password, username } = KAFKA_TEST_USERS.plain;
  const topic = await createTopic(uniqueTopic('obs-redaction'), 1);
  const { logger, output } = capturedPino();
  const { app, connection } = appWith(logger, env.saslBrokers, {
    sasl: { mechanism: 'plain', username, password: Secret.of(password) },
  });
  app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic));
  await app.start();
  await app.publisherChannel(topic).close();
  logger.info('connection', { connection, described: connection.describe() });
  await app.shutdown();

  expect(output()).toContain('Kafka connection verified');
  expect(output()).toContain('[REDACTED]');
  expectNoSecret(output() + renderings(connection, connection.describe()), password);
});

it('a wrong SASL password never appears in the error, its cause chain or the logs', async () => {
  const { logger, output } = capturedPino();
  const { app, connection } = appWith(logger, env.saslBrokers, {
    sasl: { mechanism: 'scram-sha-256', username: KAFKA_TEST_USERS.scram.username, password: WRONG_PASSWORD },
  });
  const error = await app.start().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as { code?: string }).code).toBe('GOMES_AUTHENTICATION_FAILED');
  logger.error('start failed', { error, cause: (error as Error).cause });
  expectNoSecret(output() + renderings(error, (error as Error).cause, connection), WRONG_PASSWORD);
});

it('a TLS private key never appears in the error, the logs, describe() or JSON', async () => {
  const { logger, output } = capturedPino();
  const { readFileSync } = await import('node:fs');
  const { app, connection } = appWith(logger, env.sslBrokers, {
    tls: {
      ca: readFileSync(env.sslCa),
      cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      key: TLS_KEY,
    },
    sasl: { mechanism: 'plain', username: 'alice', password: WRONG_PASSWORD },
  });
  const error = await app.start().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  logger.error('start failed', { error, message: (error as Error).message });
  expectNoSecret(
    output() + renderings(error, (error as Error).cause, connection, connection.describe()),
    TLS_KEY_SECRET,
    WRONG_PASSWORD,
  );
});
