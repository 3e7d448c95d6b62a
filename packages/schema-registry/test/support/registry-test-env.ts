// The environment contract of the schema-registry integration tests: SCHEMA_REGISTRY_URL (+ _TLS_URL,
// _CA, _USERNAME, _PASSWORD) for an external registry, or — under the test runner (scripts/run-tests.mjs
// sets GOMES_SCHEMA_REGISTRY_ON_DEMAND) — a local Apicurio Registry started on first use with a lease of
// the runner, which stops it when the run ends. A missing registry is an error, never a skip.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { SchemaRegistryClient } from '@gomes/schema-registry';

export interface RegistryTestEnv {
  /** Plain HTTP URL of the Confluent API (basic auth required). */
  readonly url: string;
  /** HTTPS URL of the same registry (certificate signed by `ca`). */
  readonly tlsUrl: string;
  /** PEM file of the CA that signed the registry's certificate. */
  readonly ca: string;
  readonly username: string;
  readonly password: string;
}

const ROOT = path.resolve(__dirname, '../../../..');
const VARS = [
  'SCHEMA_REGISTRY_URL',
  'SCHEMA_REGISTRY_TLS_URL',
  'SCHEMA_REGISTRY_CA',
  'SCHEMA_REGISTRY_USERNAME',
  'SCHEMA_REGISTRY_PASSWORD',
] as const;

/** The registry to test against, started on demand under the test runner. */
export function registryTestEnv(): RegistryTestEnv {
  if (!process.env['SCHEMA_REGISTRY_URL'] && process.env['GOMES_SCHEMA_REGISTRY_ON_DEMAND'] === '1') {
    const lease = process.env['GOMES_TEST_RUNNER_PID'] ?? String(process.ppid);
    const out = execFileSync(
      process.execPath,
      [path.join(ROOT, 'scripts', 'schema-registry.mjs'), 'start', '--auto-stop', '--json', '--lease', lease],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 },
    );
    const env = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, string>;
    for (const name of VARS) process.env[name] = env[name];
  }
  const value = (name: (typeof VARS)[number]): string => {
    const v = process.env[name];
    if (!v)
      throw new Error(
        `${name} is not set: the schema-registry integration tests need a registry. Run them through ` +
          '`pnpm test` / `node scripts/run-tests.mjs` (which starts Apicurio Registry on demand), or start one with ' +
          '`node scripts/schema-registry.mjs start` and export what it prints.',
      );
    return v;
  };
  return {
    url: value('SCHEMA_REGISTRY_URL'),
    tlsUrl: value('SCHEMA_REGISTRY_TLS_URL'),
    ca: value('SCHEMA_REGISTRY_CA'),
    username: value('SCHEMA_REGISTRY_USERNAME'),
    password: value('SCHEMA_REGISTRY_PASSWORD'),
  };
}

/** A client of the test registry over plain HTTP with its credentials. */
export function registryClient(env: RegistryTestEnv, url = env.url): SchemaRegistryClient {
  return new SchemaRegistryClient({ url, auth: { username: env.username, password: env.password } });
}
