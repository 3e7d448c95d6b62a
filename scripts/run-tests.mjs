#!/usr/bin/env node
// The test matrix: `pnpm test:quick` (this Node.js, both drivers); `pnpm test` (the README's and CI's
// command, scripts/run-all-tests.mjs) runs it with `--nodes current,24`, then the fault suite.
//   node scripts/run-tests.mjs [--kafka-version 3.9.1] [--drivers kafkajs,platformatic] [--nodes current,24] [jest args...]
// The test matrix (scripts/test-passes.mjs): jest runs once per Node.js (`--nodes`, default the
// running one; `24` installs the pinned Node 24 from the npm registry, scripts/node-runtime.mjs) and
// Kafka driver (`--drivers`, default both; GOMES_KAFKA_DRIVER set: that one), in sequence, on one
// broker: the unit tests once per Node.js, the integration tests once per driver and Node.js.
// KAFKA_BROKERS unset -> start the real Kafka broker (scripts/kafka-broker.mjs), export
//   KAFKA_BROKERS / KAFKA_SASL_BROKERS / KAFKA_SSL_BROKERS / KAFKA_SSL_CA / KAFKA_VERSION,
//   run jest, stop the broker on exit (also on failure, SIGINT, SIGTERM), exit with jest's code.
//   A broker of the same version that is already running (`pnpm kafka:start`) is reused and left running.
// KAFKA_BROKERS set   -> run jest with the environment as is (external broker, e.g. docker compose).
// SCHEMA_REGISTRY_URL unset -> tests that need a schema registry start one on demand (scripts/schema-registry.mjs);
//   it is stopped when jest ends.
// PostgreSQL and Redis (idempotency stores) are started first when not running (scripts/local-services.mjs).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chooseBrokerPortBase } from './free-port-base.mjs';
import { ensureLocalServices } from './local-services.mjs';
import { nodeBinary } from './node-runtime.mjs';

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
const { value: driversArg, rest: afterDrivers } = takeOption(rest, '--drivers');
const { value: nodesArg, rest: jestArgs } = takeOption(afterDrivers, '--nodes');
if (/^(1|true)$/i.test(process.env.CI ?? '') && !jestArgs.includes('--ci')) jestArgs.unshift('--ci');
const passes = testPasses({
  drivers: (driversArg ?? process.env.GOMES_KAFKA_DRIVER ?? 'kafkajs,platformatic').split(','),
  nodes: (nodesArg ?? 'current').split(','),
  projects: takeProjects(jestArgs),
});

/** Removes `--name value` / `--name=value` from argv. */
function takeOption(argv, name) {
  const rest = [];
  let value;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) value = argv[++i];
    else if (argv[i].startsWith(`${name}=`)) value = argv[i].slice(name.length + 1);
    else rest.push(argv[i]);
  }
  return { value, rest };
}

/** Removes `--selectProjects <project...>` from argv (in place); returns the projects (default all). */
function takeProjects(argv) {
  const known = new Set(['unit', 'integration']);
  const at = argv.indexOf('--selectProjects');
  if (at < 0) return ['unit', 'integration'];
  let end = at + 1;
  while (end < argv.length && known.has(argv[end])) end++;
  const projects = argv.slice(at + 1, end);
  argv.splice(at, end - at);
  return projects;
}

/** One pass per Node.js and driver; the unit tests only in the first pass of each Node.js. */
function testPasses({ drivers, nodes, projects }) {
  for (const d of drivers)
    if (d !== 'kafkajs' && d !== 'platformatic') throw new Error(`--drivers: unknown driver "${d}"`);
  const out = [];
  for (const node of nodes) {
    const binary = nodeBinary(node);
    const nodeLabel =
      node === 'current'
        ? process.versions.node
        : execFileSync(binary, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    drivers.forEach((driver, i) => {
      const selected = i === 0 ? projects : projects.filter((p) => p !== 'unit');
      if (selected.length > 0) out.push({ node: binary, nodeLabel, driver, projects: selected });
    });
  }
  return out;
}

// The schema registry (scripts/schema-registry.mjs) is started on demand by the tests that need it
// (SCHEMA_REGISTRY_URL unset), with a lease of this runner; it is stopped when the run ends.
const registryOnDemand = !process.env.SCHEMA_REGISTRY_URL;
if (registryOnDemand) {
  process.env.GOMES_SCHEMA_REGISTRY_ON_DEMAND = '1';
  process.env.GOMES_TEST_RUNNER_PID = String(process.pid);
}

await runWithBroker({
  command: process.execPath,
  args: [path.join(ROOT, 'scripts', 'test-passes.mjs'), JSON.stringify(passes), ...jestArgs],
  version,
  afterRun: registryOnDemand
    ? async () => {
        const { releaseRegistry } = await import('./schema-registry.mjs');
        await releaseRegistry({ pid: process.pid });
      }
    : undefined,
});
