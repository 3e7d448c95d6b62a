// Constants, ports and file locations of the test broker (shared by every module of the tool).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_KAFKA_VERSION = '4.4.0';
export const HOST = '127.0.0.1';
// GOMES_KAFKA_PORT_BASE=29092 runs a second, independent broker (ports base..base+3, run dir
// .kafka/run-29092) next to the default one, e.g. to test another Kafka version while a teammate's
// broker is in use on the shared machine.
const PORT_BASE = Number(process.env.GOMES_KAFKA_PORT_BASE || 19092);
if (!Number.isInteger(PORT_BASE) || PORT_BASE < 1024 || PORT_BASE > 65532) {
  throw new Error(
    `GOMES_KAFKA_PORT_BASE must be an integer port in 1024..65532, got ${process.env.GOMES_KAFKA_PORT_BASE}`,
  );
}
export const PORTS = Object.freeze({
  plaintext: PORT_BASE,
  controller: PORT_BASE + 1,
  sasl: PORT_BASE + 2,
  ssl: PORT_BASE + 3,
});
export const RUN_DIR_NAME = PORT_BASE === 19092 ? 'run' : `run-${PORT_BASE}`;
export const USERS = Object.freeze({
  plain: [
    { username: 'admin', password: 'admin-secret' },
    { username: 'alice', password: 'alice-secret' },
  ],
  scram: [{ username: 'alice', password: 'alice-secret', mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] }],
});

// Sized for a 2-core machine; the broker is throwaway test infrastructure.
export const JVM_FLAGS = [
  '-Xms256m',
  '-Xmx768m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];
// C1 only: on 2 busy cores the C2 compiler threads compete with startup; measured ~40% faster to ready
// (docs/compatibility.md). `fullJit` / --full-jit / GOMES_KAFKA_FULL_JIT=1 keeps C2 (e.g. for benchmarks).
export const FAST_START_FLAGS = ['-XX:TieredStopAtLevel=1'];
export const TOOL_JVM_FLAGS = [
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
];

/** Every file and folder of the broker run by this checkout on this port base. */
export function paths(root = ROOT) {
  const kafkaDir = path.join(root, '.kafka');
  const runDir = path.join(kafkaDir, RUN_DIR_NAME);
  return {
    kafkaDir,
    runDir,
    libDir: (version) => path.join(kafkaDir, 'lib', version),
    dataDir: path.join(runDir, 'data'),
    logsDir: path.join(runDir, 'logs'),
    tlsDir: path.join(runDir, 'tls'),
    logFile: path.join(runDir, 'logs', 'broker.out'),
    pidFile: path.join(runDir, 'kafka.pid'),
    cdsFile: path.join(runDir, 'cds-dump.json'),
    /** What the running broker is (removed when it stops). */
    infoFile: path.join(runDir, 'broker.json'),
    /** What the formatted cluster is (kept across stops, for a restart with its data). */
    clusterFile: path.join(runDir, 'cluster.json'),
    propsFile: path.join(runDir, 'server.properties'),
  };
}

export const isKafka3 = (version) => /^3\./.test(version);
export const defaultLog = (msg) => process.stderr.write(`[kafka] ${msg}\n`);

export { readJson, sleep } from '../shared/processes.mjs';
