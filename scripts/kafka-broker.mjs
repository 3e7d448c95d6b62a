#!/usr/bin/env node
// A real Apache Kafka broker (single-node KRaft, broker+controller in one JVM) on 127.0.0.1,
// run as a plain Java process. No Docker, no committed jars: the jars come from Maven Central
// through tools/kafka/pom.xml and are cached in .kafka/lib/<version>/ (gitignored).
//
// CLI:
//   node scripts/kafka-broker.mjs start   [--keep-data] [--kafka-version 3.9.1] [--timeout 120] [--full-jit]
//   node scripts/kafka-broker.mjs stop                       SIGTERM (controlled shutdown); data kept
//   node scripts/kafka-broker.mjs kill                       SIGKILL (a crash); data kept
//   node scripts/kafka-broker.mjs restart [--kill] [--down <s>]   stop or kill, wait, start with the data
//   node scripts/kafka-broker.mjs status
// `start` formats a new cluster (wiping .kafka/run*) unless --keep-data: then the cluster of the last
// start comes back on the same ports with its topics, records and committed offsets.
// Library (re-exported below): startBroker, stopBroker, restartBroker, brokerStatus, brokerEnv,
// runWithBroker, releaseBroker, takeKafkaVersion, ensureJars, ensurePerfToolJars, isAlive, portOpen,
// liveLeases.
//
// Listeners (all on 127.0.0.1; ports move with GOMES_KAFKA_PORT_BASE):
//   19092 PLAINTEXT       -> KAFKA_BROKERS
//   19093 CONTROLLER      (KRaft quorum, not for clients)
//   19094 SASL_PLAINTEXT  -> KAFKA_SASL_BROKERS  (PLAIN admin/admin-secret, alice/alice-secret;
//                                                 SCRAM-SHA-256 and SCRAM-SHA-512 alice/alice-secret)
//   19095 SSL             -> KAFKA_SSL_BROKERS   (server cert signed by a throwaway CA: KAFKA_SSL_CA)
//
// The tool, one concern per module under scripts/kafka-broker/:
//   config.mjs              ports, run folder layout, JVM flags
//   jars.mjs                Maven fetch of the broker jars (and of Kafka's perf tools for the bench)
//   class-data-sharing.mjs  AppCDS archives (faster JVM start)
//   cluster-files.mjs       TLS material, server.properties, logging, storage format
//   processes.mjs           pid / port probes, broker log excerpts
//   readiness.mjs           status and readiness (listeners, metadata, group coordinator)
//   coordination.mjs        start lock and runner leases (several users of one broker)
//   lifecycle.mjs           start (fresh or with its data), stop, kill, restart
//   runner.mjs              run a command with the broker (run-tests, run-with-kafka, run-fault-tests)
// and, shared with scripts/schema-registry.mjs, scripts/shared/: processes.mjs (process / port / file
// probes, the CLI entry), coordination.mjs (lock and lease files), tls.mjs (a throwaway CA and cert).
import { DEFAULT_KAFKA_VERSION } from './kafka-broker/config.mjs';
import { brokerEnv, restartBroker, startBroker, stopBroker } from './kafka-broker/lifecycle.mjs';
import { brokerStatus } from './kafka-broker/readiness.mjs';
import { takeKafkaVersion } from './kafka-broker/runner.mjs';
import { runAsCli } from './shared/processes.mjs';

export { DEFAULT_KAFKA_VERSION, HOST, PORTS, ROOT, USERS } from './kafka-broker/config.mjs';
export { ensureJars, ensurePerfToolJars } from './kafka-broker/jars.mjs';
export { isAlive, portOpen } from './kafka-broker/processes.mjs';
export { brokerStatus } from './kafka-broker/readiness.mjs';
export { liveLeases } from './kafka-broker/coordination.mjs';
export { brokerEnv, restartBroker, startBroker, stopBroker } from './kafka-broker/lifecycle.mjs';
export { releaseBroker, runWithBroker, takeKafkaVersion } from './kafka-broker/runner.mjs';

const USAGE =
  'usage: node scripts/kafka-broker.mjs start|stop|kill|restart|status [--kafka-version <x.y.z>] [--timeout <s>] [--full-jit]\n' +
  '         start --keep-data     start the cluster of the last start with its data\n' +
  '         restart [--kill] [--down <s>]   stop (or SIGKILL), wait <s> seconds, start with the data\n' +
  `       default version ${DEFAULT_KAFKA_VERSION}; 3.x versions use the kafka39 Maven profile\n`;

async function main(argv) {
  const { version, rest } = takeKafkaVersion(argv, process.env.GOMES_KAFKA_VERSION || DEFAULT_KAFKA_VERSION);
  let timeoutMs = 180_000;
  let fullJit;
  let keepData = false;
  let kill = false;
  let downMs = 0;
  const positional = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--timeout') timeoutMs = Number(rest[++i]) * 1000;
    else if (rest[i] === '--full-jit') fullJit = true;
    else if (rest[i] === '--keep-data') keepData = true;
    else if (rest[i] === '--kill') kill = true;
    else if (rest[i] === '--down') downMs = Number(rest[++i]) * 1000;
    else positional.push(rest[i]);
  }
  if (!Number.isFinite(timeoutMs) || !Number.isFinite(downMs) || downMs < 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  const printEnv = (info) => {
    for (const [k, v] of Object.entries(brokerEnv(info))) process.stdout.write(`${k}=${v}\n`);
  };
  const cmd = positional[0];
  switch (cmd) {
    case 'start': {
      printEnv(await startBroker({ version, timeoutMs, keepData, ...(fullJit ? { fullJit } : {}) }));
      return 0;
    }
    case 'stop':
    case 'kill': {
      const r = await stopBroker({ kill: cmd === 'kill' });
      if (!r.stopped) process.stdout.write('Kafka broker: not running\n');
      return 0;
    }
    case 'restart': {
      printEnv(await restartBroker({ kill, downMs, timeoutMs, ...(fullJit ? { fullJit } : {}) }));
      return 0;
    }
    case 'status': {
      const s = await brokerStatus();
      if (s.running) {
        process.stdout.write(
          `Kafka ${s.info.version} broker: running (pid ${s.pid}, RSS ${Math.round((s.rssKb ?? 0) / 1024)} MiB) ` +
            `on ${s.info.brokers}\n`,
        );
        printEnv(s.info);
        return 0;
      }
      process.stdout.write(
        s.alive ? `Kafka broker: process ${s.pid} alive but not ready\n` : 'Kafka broker: not running\n',
      );
      return 1;
    }
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

runAsCli(import.meta.url, main);
