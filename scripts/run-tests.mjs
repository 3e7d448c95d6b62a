#!/usr/bin/env node
// The README test command (`pnpm test`).
//   node scripts/run-tests.mjs [--kafka-version 3.9.1] [jest args...]
// KAFKA_BROKERS unset -> start the real Kafka broker (scripts/kafka-broker.mjs), export
//   KAFKA_BROKERS / KAFKA_SASL_BROKERS / KAFKA_SSL_BROKERS / KAFKA_SSL_CA / KAFKA_VERSION,
//   run jest, stop the broker on exit (also on failure, SIGINT, SIGTERM), exit with jest's code.
//   A broker of the same version that is already running (`pnpm kafka:start`) is reused and left running.
// KAFKA_BROKERS set   -> run jest with the environment as is (external broker, e.g. docker compose).
// SCHEMA_REGISTRY_URL unset -> tests that need a schema registry start one on demand (scripts/schema-registry.mjs);
//   it is stopped when jest ends.
// PostgreSQL and Redis (idempotency stores) are started first when not running (scripts/local-services.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chooseBrokerPortBase } from './free-port-base.mjs';
import { ensureLocalServices } from './local-services.mjs';

await chooseBrokerPortBase();
try {
  await ensureLocalServices();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const { ROOT, runWithBroker, takeKafkaVersion } = await import('./kafka-broker.mjs');

// Example tests run the built examples: build (incrementally) so they never run stale output.
execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b', 'tsconfig.json'], {
  cwd: ROOT,
  stdio: 'inherit',
});

const { version, rest } = takeKafkaVersion(process.argv.slice(2));
const jestArgs = [...rest];
if (/^(1|true)$/i.test(process.env.CI ?? '') && !jestArgs.includes('--ci')) jestArgs.unshift('--ci');

// A plain closing line ("N passed, N failed, N skipped") from jest's JSON results, for CI logs.
const resultsFile = path.join(ROOT, '.jest-results.json');
fs.rmSync(resultsFile, { force: true });
jestArgs.push('--json', `--outputFile=${resultsFile}`);
process.on('exit', () => {
  try {
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    process.stdout.write(
      `\n${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped\n`,
    );
  } catch {
    // jest did not get far enough to write results; its own output says why
  }
});

// The schema registry (scripts/schema-registry.mjs) is started on demand by the tests that need it
// (SCHEMA_REGISTRY_URL unset), with a lease of this runner; it is stopped when the run ends.
const registryOnDemand = !process.env.SCHEMA_REGISTRY_URL;
if (registryOnDemand) {
  process.env.GOMES_SCHEMA_REGISTRY_ON_DEMAND = '1';
  process.env.GOMES_TEST_RUNNER_PID = String(process.pid);
}

await runWithBroker({
  command: path.join(ROOT, 'node_modules', '.bin', 'jest'),
  args: jestArgs,
  version,
  afterRun: registryOnDemand
    ? async () => {
        const { releaseRegistry } = await import('./schema-registry.mjs');
        await releaseRegistry({ pid: process.pid });
      }
    : undefined,
});
