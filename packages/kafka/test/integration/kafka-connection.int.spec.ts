// KafkaConnection against the real broker: PLAINTEXT, fail-fast on unreachable brokers, SASL
// (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), wrong password, SSL with and without the CA.
import { isGomesError } from '@gomes/core';
import { KafkaConnection, Secret, type KafkaConnectionOptions } from '@gomes/kafka';
import { readFileSync } from 'node:fs';
import { KAFKA_TEST_USERS } from '../support/kafka-test-env.js';
import { closeAll, env, testDriverName, track } from '../support/kafka-harness.js';

afterEach(closeAll);

async function connectWith(brokers: string[], options: KafkaConnectionOptions): Promise<KafkaConnection> {
  const c = track(
    new KafkaConnection('kafka', brokers, {
      driver: testDriverName(),
      socketConnectTimeoutMs: 5000,
      ...options,
    }),
  );
  await c.connect();
  return c;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGomesError(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as Error;
}

describe('KafkaConnection (real broker)', () => {
  it('connects to the PLAINTEXT listener and verifies the cluster', async () => {
    const c = await connectWith(env.brokers, {});
    expect(c.state).toBe('connected');
    // The suite runs once per driver (GOMES_KAFKA_DRIVER, passed as the driver option): it is the one used.
    expect(c.driverName).toBe(testDriverName());
    expect(c.driver.name).toBe(testDriverName());
  });

  it('fails fast with GOMES_CONNECTION_FAILED when no broker listens', async () => {
    const started = Date.now();
    const error = await expectCode(
      connectWith(['127.0.0.1:1'], {
        socketConnectTimeoutMs: 1000,
        connectRetries: 1,
        initialRetryTimeMs: 100,
      }),
      'GOMES_CONNECTION_FAILED',
    );
    expect(Date.now() - started).toBeLessThan(10000);
    expect(error.message).toContain('127.0.0.1:1');
  });

  it.each([
    ['plain', KAFKA_TEST_USERS.plain],
    ['scram-sha-256', KAFKA_TEST_USERS.scram],
    ['scram-sha-512', KAFKA_TEST_USERS.scram],
  ] as const)('authenticates with SASL %s', async (mechanism, user) => {
    const c = await connectWith(env.saslBrokers, {
      sasl: { mechanism, username: user.username, password: Secret.of(user.password) },
    });
    expect(c.state).toBe('connected');
  });

  it('rejects a wrong password with GOMES_AUTHENTICATION_FAILED and never leaks it', async () => {
    const error = await expectCode(
      connectWith(env.saslBrokers, {
        sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'not-the-password' },
      }),
      'GOMES_AUTHENTICATION_FAILED',
    );
    expect(
      JSON.stringify({ message: error.message, details: (error as unknown as { details: unknown }).details }),
    ).not.toContain('not-the-password');
  });

  it('connects over SSL when given the CA', async () => {
    const c = await connectWith(env.sslBrokers, { tls: { ca: readFileSync(env.sslCa) } });
    expect(c.state).toBe('connected');
  });

  it('rejects an untrusted broker certificate with GOMES_AUTHENTICATION_FAILED', async () => {
    await expectCode(
      connectWith(env.sslBrokers, { tls: true, connectRetries: 0 }),
      'GOMES_AUTHENTICATION_FAILED',
    );
  });
});
