#!/usr/bin/env node
// Runs an arbitrary command against the real Kafka broker (examples, benchmarks):
//   node scripts/run-with-kafka.mjs [--kafka-version 3.9.1] <command> [args...]
// Same broker handling as scripts/run-tests.mjs: KAFKA_BROKERS set -> use it as is; a running
// broker (broker.json + live pid + open port) of the same version is reused and left running;
// otherwise a broker is started for the command and stopped afterwards.
import { chooseBrokerPortBase } from './free-port-base.mjs';

await chooseBrokerPortBase();
const { runWithBroker, takeKafkaVersion } = await import('./kafka-broker.mjs');

const argv = process.argv.slice(2);
// Only options before the command belong to us (`--` may end them explicitly):
//   run-with-kafka.mjs --kafka-version 3.9.1 --full-jit node bench.js --kafka-version y
// --full-jit keeps the C2 compiler in the broker JVM (slower start, full speed: use it for benchmarks).
let version;
let fullJit;
let withRegistry = false;
let i = 0;
let bad = false;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    i++;
    break;
  } else if (a === '--kafka-version' || a.startsWith('--kafka-version=')) {
    const taken = takeKafkaVersion(a === '--kafka-version' ? [a, argv[++i] ?? ''] : [a]);
    version = taken.version;
  } else if (a === '--full-jit') {
    fullJit = true;
  } else if (a === '--with-schema-registry') {
    withRegistry = true;
  } else if (a.startsWith('-')) {
    bad = true;
    break;
  } else {
    break;
  }
}
const command = argv.slice(i);
if (bad || command.length === 0 || version === '') {
  process.stderr.write(
    'usage: node scripts/run-with-kafka.mjs [--kafka-version <x.y.z>] [--full-jit] [--with-schema-registry] [--] <command> [args...]\n',
  );
  process.exit(2);
}

// --with-schema-registry: also a schema registry (scripts/schema-registry.mjs) unless SCHEMA_REGISTRY_URL is
// set; its SCHEMA_REGISTRY_* variables are exported to the command, and it is stopped afterwards.
let afterRun;
if (withRegistry && !process.env.SCHEMA_REGISTRY_URL) {
  const { startRegistry, registryEnv, releaseRegistry } = await import('./schema-registry.mjs');
  Object.assign(process.env, registryEnv(await startRegistry({ autoStop: true, lease: process.pid })));
  afterRun = async () => releaseRegistry({ pid: process.pid });
}

await runWithBroker({
  command: command[0],
  args: command.slice(1),
  version: version ?? takeKafkaVersion([]).version,
  fullJit,
  afterRun,
});
