#!/usr/bin/env node
// `pnpm test:faults`: the fault-tolerance suite (packages/kafka/faults) against a broker of its own.
//   node scripts/run-fault-tests.mjs [--kafka-version 3.9.1] [jest args...]
// The suite SIGKILLs and restarts its broker, so it never shares one: it runs on the port base
// GOMES_KAFKA_FAULTS_PORT_BASE, default GOMES_KAFKA_PORT_BASE + 4 (19096 by default), with its own run
// folder, started for the run and stopped after it. It writes docs/reliability.md after a full run
// (FAULTS_WRITE_DOCS=0: print only). Knobs: FAULTS_MESSAGES (20000), FAULTS_LONG_OUTAGE_S (120).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.KAFKA_BROKERS) {
  process.stderr.write(
    'run-fault-tests: KAFKA_BROKERS is set, but the fault suite kills and restarts its broker: it always starts its own. Unset KAFKA_BROKERS.\n',
  );
  process.exit(2);
}
const base = Number(
  process.env.GOMES_KAFKA_FAULTS_PORT_BASE || Number(process.env.GOMES_KAFKA_PORT_BASE || 19092) + 4,
);
process.env.GOMES_KAFKA_PORT_BASE = String(base);
const { runWithBroker, takeKafkaVersion } = await import('./kafka-broker.mjs');

// The fault apps run from packages/kafka/faults/dist: build (incrementally) first.
execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b', 'tsconfig.json'], {
  cwd: ROOT,
  stdio: 'inherit',
});

const { version, rest } = takeKafkaVersion(process.argv.slice(2));
const jestArgs = ['-c', path.join(ROOT, 'jest.faults.config.js'), '--runInBand', ...rest];
if (/^(1|true)$/i.test(process.env.CI ?? '') && !jestArgs.includes('--ci')) jestArgs.unshift('--ci');
await runWithBroker({ command: path.join(ROOT, 'node_modules', '.bin', 'jest'), args: jestArgs, version });
