#!/usr/bin/env node
// A real Apache Kafka broker (single-node KRaft, broker+controller in one JVM) on 127.0.0.1,
// run as a plain Java process. No Docker, no committed jars: the jars come from Maven Central
// through tools/kafka/pom.xml and are cached in .kafka/lib/<version>/ (gitignored).
//
// CLI:     node scripts/kafka-broker.mjs start|stop|status [--kafka-version 3.9.1] [--timeout 120]
// Library: startBroker(opts), stopBroker(opts), brokerStatus(opts), brokerEnv(info), runWithBroker(opts)
//
// Listeners (all on 127.0.0.1):
//   19092 PLAINTEXT       -> KAFKA_BROKERS
//   19093 CONTROLLER      (KRaft quorum, not for clients)
//   19094 SASL_PLAINTEXT  -> KAFKA_SASL_BROKERS  (PLAIN admin/admin-secret, alice/alice-secret;
//                                                 SCRAM-SHA-256 and SCRAM-SHA-512 alice/alice-secret)
//   19095 SSL             -> KAFKA_SSL_BROKERS   (server cert signed by a throwaway CA: KAFKA_SSL_CA)
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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
const RUN_DIR_NAME = PORT_BASE === 19092 ? 'run' : `run-${PORT_BASE}`;
export const USERS = Object.freeze({
  plain: [
    { username: 'admin', password: 'admin-secret' },
    { username: 'alice', password: 'alice-secret' },
  ],
  scram: [{ username: 'alice', password: 'alice-secret', mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] }],
});

const POM = path.join(ROOT, 'tools', 'kafka', 'pom.xml');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
// Sized for a 2-core machine; the broker is throwaway test infrastructure.
const JVM_FLAGS = [
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
const FAST_START_FLAGS = ['-XX:TieredStopAtLevel=1'];
const TOOL_JVM_FLAGS = [
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
];

// ---------------------------------------------------------------------------------------------
// AppCDS (dynamic class-data archive, JDK 13+): the first run of each JVM (format tool, broker) dumps the
// classes it loaded at exit; later runs map the archive. Keyed by Kafka version and java binary, stored in
// .kafka/cds/. Disable with GOMES_KAFKA_CDS=0. The JVM ignores (with a warning) an archive it cannot use.

function javaKey() {
  const candidates = [];
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    if (dir) candidates.push(path.join(dir, 'java'));
  for (const c of candidates) {
    try {
      const real = fs.realpathSync(c);
      const st = fs.statSync(real);
      if (st.isFile())
        return crypto
          .createHash('sha1')
          .update(`${real}:${st.size}:${st.mtimeMs}`)
          .digest('hex')
          .slice(0, 10);
    } catch {
      // next
    }
  }
  return 'java';
}

/** JVM flags to use or create the archive `name`; `commit()` publishes a freshly dumped archive. */
function cds(root, version, name) {
  if (/^(0|false|no)$/i.test(process.env.GOMES_KAFKA_CDS ?? ''))
    return { flags: [], dumping: false, commit() {} };
  const dir = path.join(root, '.kafka', 'cds', `${version}-${javaKey()}`);
  const file = path.join(dir, `${name}.jsa`);
  if (fs.existsSync(file) && fs.statSync(file).size > 0) {
    return { flags: [`-XX:SharedArchiveFile=${file}`], dumping: false, file, commit() {} };
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${tmp}`],
    dumping: true,
    file,
    tmp,
    commit() {
      commitCds({ tmp, file });
    },
  };
}

function commitCds({ tmp, file }) {
  try {
    if (fs.existsSync(tmp) && fs.statSync(tmp).size > 0) fs.renameSync(tmp, file);
  } catch {
    // best effort
  }
  fs.rmSync(tmp, { force: true });
}

function paths(root = ROOT) {
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
    infoFile: path.join(runDir, 'broker.json'),
    propsFile: path.join(runDir, 'server.properties'),
  };
}

const isKafka3 = (version) => /^3\./.test(version);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const defaultLog = (msg) => process.stderr.write(`[kafka] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// jars

/** Fills .kafka/lib/<version>/ with the broker's runtime closure (idempotent). */
export function ensureJars({ version = DEFAULT_KAFKA_VERSION, root = ROOT, log = defaultLog } = {}) {
  return fetchJars({
    version,
    root,
    log,
    libDir: paths(root).libDir(version),
    profiles: isKafka3(version) ? ['kafka39'] : [],
    what: `Kafka ${version} jars`,
    mustContain: /^kafka_2\.13-.*\.jar$/,
  });
}

/**
 * Fills .kafka/tools/<version>/ with Kafka's own performance tools (`kafka-tools`: ProducerPerformance,
 * ConsumerPerformance) of that version and slf4j-nop, for the benchmark's Java reference (idempotent).
 */
export function ensurePerfToolJars({ version = DEFAULT_KAFKA_VERSION, root = ROOT, log = defaultLog } = {}) {
  return fetchJars({
    version,
    root,
    log,
    libDir: path.join(paths(root).kafkaDir, 'tools', version),
    profiles: ['perf-tools'],
    what: `Kafka ${version} performance tools`,
    mustContain: /^kafka-tools-.*\.jar$/,
  });
}

function fetchJars({ version, root, log, libDir, profiles, what, mustContain }) {
  const marker = path.join(libDir, '.complete');
  if (fs.existsSync(marker)) return libDir;
  fs.rmSync(libDir, { recursive: true, force: true });
  const tmpDir = `${libDir}.tmp-${process.pid}`;
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const args = ['-B', '-q', '-Dstyle.color=never', '-f', POM];
  for (const profile of profiles) args.push('-P', profile);
  args.push(
    `-Dkafka.version=${version}`,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${tmpDir}`,
  );
  log(`fetching ${what} with Maven into ${path.relative(root, libDir)} ...`);
  const t0 = Date.now();
  try {
    execFileSync('mvn', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`mvn copy-dependencies failed for ${what}:\n${out || err.message}`);
  }
  const jars = fs.readdirSync(tmpDir).filter((f) => f.endsWith('.jar'));
  if (!jars.some((f) => mustContain.test(f))) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw new Error(`mvn did not produce the expected jar (${mustContain}) for ${what} in ${tmpDir}`);
  }
  fs.writeFileSync(path.join(tmpDir, '.complete'), `${version}\n`);
  fs.mkdirSync(path.dirname(libDir), { recursive: true });
  fs.renameSync(tmpDir, libDir);
  log(`fetched ${jars.length} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return libDir;
}

function jarStats(libDir) {
  const jars = fs.readdirSync(libDir).filter((f) => f.endsWith('.jar'));
  const bytes = jars.reduce((sum, f) => sum + fs.statSync(path.join(libDir, f)).size, 0);
  return { count: jars.length, bytes };
}

// ---------------------------------------------------------------------------------------------
// process helpers

/** True when pid is a live (non-zombie) process; when `kafkaOnly`, also that it runs kafka.Kafka. */
export function isAlive(pid, { kafkaOnly = false } = {}) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (kafkaOnly) {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmdline.includes('kafka.Kafka');
    }
  } catch {
    // no procfs (not Linux): fall back to the kill(0) answer
  }
  return true;
}

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs. */
export function portOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function tail(file, lines = 60) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function errorLines(file, max = 8) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /\] (ERROR|FATAL) |^Exception in thread/.test(l))
      .slice(0, max)
      .join('\n');
  } catch {
    return '';
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function readPid(p) {
  const info = readJson(p.infoFile);
  if (info && Number.isInteger(info.pid)) return info.pid;
  try {
    const pid = Number(fs.readFileSync(p.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// configuration files

function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && !/^A+[AQgw]?$/.test(id)) return id;
  }
}

function generateTls(tlsDir) {
  fs.mkdirSync(tlsDir, { recursive: true });
  const run = (...args) =>
    execFileSync('openssl', args, { cwd: tlsDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=gomes-it-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  fs.writeFileSync(
    path.join(tlsDir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
  const key = fs.readFileSync(path.join(tlsDir, 'server.key'), 'utf8');
  if (!key.includes('BEGIN PRIVATE KEY')) {
    throw new Error(
      'openssl did not write an unencrypted PKCS#8 key ("BEGIN PRIVATE KEY"), which Kafka PEM needs',
    );
  }
  // Kafka PEM keystore: PKCS#8 key followed by the certificate chain, in one file.
  fs.writeFileSync(
    path.join(tlsDir, 'server.pem'),
    key +
      fs.readFileSync(path.join(tlsDir, 'server.crt'), 'utf8') +
      fs.readFileSync(path.join(tlsDir, 'ca.crt'), 'utf8'),
  );
  return { caFile: path.join(tlsDir, 'ca.crt'), keystoreFile: path.join(tlsDir, 'server.pem') };
}

function serverProperties({ version, p, keystoreFile, extraProperties = {} }) {
  const { plaintext, controller, sasl, ssl } = PORTS;
  const plainUsers = USERS.plain.map((u) => `user_${u.username}="${u.password}"`).join(' ');
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${HOST}:${controller}`,
    'controller.listener.names': 'CONTROLLER',
    listeners: `PLAINTEXT://${HOST}:${plaintext},CONTROLLER://${HOST}:${controller},SASL_PLAINTEXT://${HOST}:${sasl},SSL://${HOST}:${ssl}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${plaintext},SASL_PLAINTEXT://${HOST}:${sasl},SSL://${HOST}:${ssl}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map':
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
    'log.dirs': p.dataDir,
    'num.partitions': '1',
    'default.replication.factor': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'true',
    'delete.topic.enable': 'true',
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'background.threads': '4',
    'log.cleaner.threads': '1',
    'log.cleaner.dedupe.buffer.size': String(8 * 1024 * 1024),
    // SASL_PLAINTEXT: PLAIN users inline; SCRAM users live in the metadata log (format --add-scram).
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" ${plainUsers};`,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    // SSL with a PEM keystore (no JKS, no keytool, no password for an unencrypted key).
    'listener.name.ssl.ssl.keystore.type': 'PEM',
    'listener.name.ssl.ssl.keystore.location': keystoreFile,
  };
  if (!isKafka3(version)) {
    props['share.coordinator.state.topic.replication.factor'] = '1';
    props['share.coordinator.state.topic.min.isr'] = '1';
  }
  Object.assign(props, extraProperties);
  return `# generated by scripts/kafka-broker.mjs for Kafka ${version}\n${Object.entries(props)
    .map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\')}`)
    .join('\n')}\n`;
}

function writeLoggingConfig(version, p) {
  if (isKafka3(version)) {
    const file = path.join(p.runDir, 'log4j.properties');
    fs.writeFileSync(
      file,
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.kafka.network.RequestChannel$=WARN',
        'log4j.logger.state.change.logger=WARN',
        'log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN',
        '',
      ].join('\n'),
    );
    return [`-Dlog4j.configuration=file:${file}`];
  }
  const file = path.join(p.runDir, 'log4j2.properties');
  fs.writeFileSync(
    file,
    [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = STDOUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.out.ref = STDOUT',
      'logger.req.name = kafka.request.logger',
      'logger.req.level = WARN',
      'logger.rc.name = kafka.network.RequestChannel$',
      'logger.rc.level = WARN',
      'logger.sc.name = state.change.logger',
      'logger.sc.level = WARN',
      '',
    ].join('\n'),
  );
  return [`-Dlog4j2.configurationFile=${file}`];
}

// ---------------------------------------------------------------------------------------------
// status / readiness

/** Returns the recorded broker.json when its process is alive (and it answers on the PLAINTEXT port). */
export async function brokerStatus({ root = ROOT } = {}) {
  const p = paths(root);
  const info = readJson(p.infoFile);
  const pid = readPid(p);
  const alive = pid !== undefined && isAlive(pid, { kafkaOnly: true });
  const open = alive ? await portOpen(PORTS.plaintext) : false;
  return {
    running: alive && open && !!info,
    alive,
    portOpen: open,
    pid,
    info,
    rssKb: alive ? rssKb(pid) : undefined,
  };
}

function loadKafkajs(root) {
  const require = createRequire(path.join(root, 'packages', 'kafka', 'package.json'));
  return require('kafkajs');
}

function throwIfAborted(signal) {
  if (signal?.aborted) {
    const err = new Error(`broker startup aborted (${signal.reason ?? 'signal'})`);
    err.code = 'KAFKA_START_ABORTED';
    throw err;
  }
}

async function waitForReady({ pid, p, root, deadline, version, signal }) {
  const died = () => {
    const err = new Error(
      `Kafka ${version} broker (pid ${pid}) exited during startup.\n` +
        `First errors in ${p.logFile}:\n${errorLines(p.logFile) || '(none)'}\nLast lines:\n${tail(p.logFile)}`,
    );
    err.code = 'KAFKA_BROKER_DIED';
    return err;
  };
  const timedOut = (what) =>
    new Error(
      `Kafka ${version} broker (pid ${pid}) not ready within the timeout (${what}). Last lines of ${p.logFile}:\n${tail(p.logFile)}`,
    );

  // 1. the client acceptors open only once the broker is unfenced (SocketServer defers the bind).
  for (;;) {
    throwIfAborted(signal);
    if (!isAlive(pid)) throw died();
    const open = await Promise.all(
      [PORTS.plaintext, PORTS.sasl, PORTS.ssl].map((port) => portOpen(port, HOST, 500)),
    );
    if (open.every(Boolean)) break;
    if (Date.now() > deadline) throw timedOut('listener ports not open');
    await sleep(100);
  }
  const portsOpenAt = Date.now();

  // 2. an Admin round trip through kafkajs (metadata + controller known).
  const { Kafka, logLevel } = loadKafkajs(root);
  let lastError;
  let adminReadyAt;
  for (;;) {
    throwIfAborted(signal);
    if (!isAlive(pid)) throw died();
    const kafka = new Kafka({
      clientId: 'gomes-broker-readiness',
      brokers: [`${HOST}:${PORTS.plaintext}`],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 5000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.listTopics();
      if (cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller !== undefined) {
        adminReadyAt ??= Date.now();
        // 3. the group coordinator: FindCoordinator creates __consumer_offsets; until its partition is
        // loaded, JoinGroup answers COORDINATOR_LOAD_IN_PROGRESS, which kafkajs turns into a consumer
        // crash + restart. Warm it up here so the first test's consumer group joins cleanly.
        const { groups } = await admin.describeGroups(['gomes-broker-readiness']);
        if (groups.every((g) => !g.errorCode)) return { portsOpenAt, adminReadyAt, cluster };
        lastError = new Error(`describeGroups errorCode ${groups.map((g) => g.errorCode).join(',')}`);
      } else {
        lastError = new Error(`describeCluster: ${JSON.stringify(cluster)}`);
      }
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (Date.now() > deadline) throw timedOut(`admin readiness check failed: ${lastError?.message}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// coordination between concurrent users of the one broker (same checkout, fixed ports)
//   .kafka/run.lock        held (O_EXCL file with the holder's pid) while a broker is checked/started/stopped
//   .kafka/run.leases/<pid> one per runner process (run-tests / run-with-kafka) currently using the broker
// A broker started by a runner has autoStop=true and is stopped by the last runner that leaves;
// one started with `kafka-broker.mjs start` is never stopped by a runner.

async function withStartLock(root, timeoutMs, fn, signal) {
  const lockFile = path.join(root, '.kafka', `${RUN_DIR_NAME}.lock`);
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    throwIfAborted(signal);
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockFile, 'utf8').trim() || NaN);
      if (!isAlive(holder) || holder === process.pid) {
        fs.rmSync(lockFile, { force: true }); // stale: its holder died
        continue;
      }
      if (!announced) {
        defaultLog(`waiting for process ${holder}, which is starting/stopping the broker ...`);
        announced = true;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFile} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

function leaseDir(root) {
  return path.join(root, '.kafka', `${RUN_DIR_NAME}.leases`);
}

/** pids of live runner processes using the broker (stale lease files are removed). */
export function liveLeases(root = ROOT) {
  const dir = leaseDir(root);
  let names = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const live = [];
  for (const name of names) {
    const pid = Number(name);
    if (isAlive(pid)) live.push(pid);
    else fs.rmSync(path.join(dir, name), { force: true });
  }
  return live;
}

function addLease(root) {
  fs.mkdirSync(leaseDir(root), { recursive: true });
  fs.writeFileSync(path.join(leaseDir(root), String(process.pid)), `${new Date().toISOString()}\n`);
}

function removeLease(root) {
  fs.rmSync(path.join(leaseDir(root), String(process.pid)), { force: true });
}

// ---------------------------------------------------------------------------------------------
// start / stop

/**
 * Starts a fresh broker (wiping .kafka/run) and resolves with the broker.json info once it is ready.
 * When a broker of the same version already runs, resolves with its info and `reused: true`.
 * Options: version, timeoutMs, log, extraProperties (server.properties overrides), extraJvmFlags,
 * fullJit, reuse, autoStop (recorded in broker.json, see above), lease (register this process as a
 * user, atomically with the start/reuse), signal (AbortSignal: kills a broker this call spawned).
 */
export async function startBroker(opts = {}) {
  const { root = ROOT, timeoutMs = 180_000, lease = false, signal } = opts;
  return withStartLock(
    root,
    timeoutMs,
    async () => {
      const info = await startBrokerLocked(opts);
      if (lease) addLease(root);
      return info;
    },
    signal,
  );
}

async function startBrokerLocked({
  version = DEFAULT_KAFKA_VERSION,
  root = ROOT,
  timeoutMs = 180_000,
  log = defaultLog,
  extraProperties = {},
  extraJvmFlags = (process.env.GOMES_KAFKA_JVM_OPTS ?? '').split(/\s+/).filter(Boolean),
  fullJit = /^(1|true|yes)$/i.test(process.env.GOMES_KAFKA_FULL_JIT ?? ''),
  reuse = true,
  autoStop = false,
  signal,
} = {}) {
  const p = paths(root);
  const status = await brokerStatus({ root });
  if (status.running) {
    if (reuse && status.info.version === version) {
      if (!autoStop && status.info.autoStop) {
        // an explicit `start` adopts a runner's broker: runners no longer stop it
        status.info.autoStop = false;
        fs.writeFileSync(p.infoFile, `${JSON.stringify(status.info, null, 2)}\n`);
      }
      log(`reusing the running Kafka ${version} broker (pid ${status.pid})`);
      return { ...status.info, reused: true };
    }
    const users = liveLeases(root);
    if (!status.info.autoStop || users.length > 0) {
      throw new Error(
        `a Kafka ${status.info.version} broker is already running (pid ${status.pid}` +
          `${users.length ? `, in use by process(es) ${users.join(', ')}` : ', started by `kafka-broker.mjs start`'}); ` +
          `cannot start ${version}. Stop it first with \`node scripts/kafka-broker.mjs stop\``,
      );
    }
    log(`stopping the unused Kafka ${status.info.version} broker (pid ${status.pid}) to start ${version}`);
    await stopBroker({ root, log });
  } else if (status.alive) {
    // alive but not answering while we hold the start lock: a leftover (stuck or crashed start).
    log(`stopping unresponsive broker pid ${status.pid}`);
    await stopBroker({ root, log });
  }
  for (const port of Object.values(PORTS)) {
    if (await portOpen(port)) {
      throw new Error(
        `port ${HOST}:${port} is already in use by another process (not a broker started by this script)`,
      );
    }
  }

  const libDir = ensureJars({ version, root, log });
  const jars = jarStats(libDir);
  const classpath = `${libDir}${path.sep}*`;

  // fresh run directory on every start: formatting is cheap and avoids cluster-id / format-version clashes.
  fs.rmSync(p.runDir, { recursive: true, force: true });
  fs.mkdirSync(p.dataDir, { recursive: true });
  fs.mkdirSync(p.logsDir, { recursive: true });
  const { caFile, keystoreFile } = generateTls(p.tlsDir);
  fs.writeFileSync(p.propsFile, serverProperties({ version, p, keystoreFile, extraProperties }));
  const logFlags = writeLoggingConfig(version, p);
  const clusterId = newClusterId();

  const tFormat = Date.now();
  const scramArgs = USERS.scram.flatMap((u) =>
    u.mechanisms.flatMap((m) => ['--add-scram', `${m}=[name=${u.username},password=${u.password}]`]),
  );
  const toolCds = cds(root, version, 'storage-tool');
  try {
    execFileSync(
      'java',
      [
        ...TOOL_JVM_FLAGS,
        ...toolCds.flags,
        ...logFlags,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        p.propsFile,
        ...scramArgs,
      ],
      { cwd: p.runDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
    toolCds.commit();
  } catch (err) {
    if (toolCds.tmp) fs.rmSync(toolCds.tmp, { force: true });
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`
      .trim()
      .split('\n')
      .filter((l) => !/^\s/.test(l))
      .slice(-30)
      .join('\n');
    throw new Error(`kafka-storage format failed (Kafka ${version}):\n${out || err.message}`);
  }
  const formatMs = Date.now() - tFormat;

  const brokerCds = cds(root, version, 'broker');
  // the broker's archive is written when the JVM exits after SIGTERM; stopBroker publishes it.
  if (brokerCds.dumping)
    fs.writeFileSync(p.cdsFile, JSON.stringify({ tmp: brokerCds.tmp, file: brokerCds.file }));
  const jvmFlags = [...JVM_FLAGS, ...(fullJit ? [] : FAST_START_FLAGS), ...brokerCds.flags, ...extraJvmFlags];
  const tSpawn = Date.now();
  const out = fs.openSync(p.logFile, 'a');
  const child = spawn(
    'java',
    [...jvmFlags, `-Dkafka.logs.dir=${p.logsDir}`, ...logFlags, '-cp', classpath, 'kafka.Kafka', p.propsFile],
    { cwd: p.runDir, detached: true, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  child.on('error', () => {}); // ENOENT etc. shows up as a dead pid below
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error('failed to spawn java (is a JDK 17+ on PATH?)');
  fs.writeFileSync(p.pidFile, `${pid}\n`);
  log(`Kafka ${version} broker spawned (pid ${pid}, format ${formatMs} ms), waiting for readiness ...`);

  let ready;
  try {
    ready = await waitForReady({ pid, p, root, deadline: tSpawn + timeoutMs, version, signal });
  } catch (err) {
    await stopBroker({ root, log: () => {} }).catch(() => {});
    throw err;
  }
  const readyAt = Date.now();
  const info = {
    version,
    pid,
    clusterId,
    host: HOST,
    ports: { ...PORTS },
    brokers: `${HOST}:${PORTS.plaintext}`,
    saslBrokers: `${HOST}:${PORTS.sasl}`,
    sslBrokers: `${HOST}:${PORTS.ssl}`,
    sslCa: caFile,
    users: USERS,
    runDir: p.runDir,
    logFile: p.logFile,
    propertiesFile: p.propsFile,
    libDir,
    jars,
    jvmFlags,
    cds: brokerCds.dumping ? 'dumping on exit' : brokerCds.file ? 'using archive' : 'off',
    startedAt: new Date(tSpawn).toISOString(),
    startedByPid: process.pid,
    autoStop,
    timings: {
      formatMs,
      spawnToPortsOpenMs: ready.portsOpenAt - tSpawn,
      spawnToAdminReadyMs: ready.adminReadyAt - tSpawn,
      spawnToReadyMs: readyAt - tSpawn,
    },
    rssKbAtReady: rssKb(pid),
  };
  fs.writeFileSync(p.infoFile, `${JSON.stringify(info, null, 2)}\n`);
  log(
    `Kafka ${version} ready on ${info.brokers} (SASL ${info.saslBrokers}, SSL ${info.sslBrokers}) ` +
      `in ${info.timings.spawnToReadyMs} ms after spawn (+${formatMs} ms format)`,
  );
  return { ...info, reused: false };
}

/** SIGTERM (controlled shutdown), bounded wait, then SIGKILL. Resolves with what happened. */
export async function stopBroker({ root = ROOT, graceMs, log = defaultLog } = {}) {
  const p = paths(root);
  const pid = readPid(p);
  const cdsDump = readJson(p.cdsFile);
  // dumping the class archive at exit takes a few extra seconds (once per version)
  graceMs ??= cdsDump ? 30_000 : 15_000;
  if (pid === undefined || !isAlive(pid, { kafkaOnly: true })) {
    if (cdsDump) fs.rmSync(cdsDump.tmp, { force: true });
    fs.rmSync(p.cdsFile, { force: true });
    fs.rmSync(p.pidFile, { force: true });
    fs.rmSync(p.infoFile, { force: true });
    return { stopped: false, reason: 'not running' };
  }
  const t0 = Date.now();
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  let forced = false;
  while (isAlive(pid)) {
    if (Date.now() - t0 > graceMs) {
      forced = true;
      log(`broker pid ${pid} did not exit within ${graceMs} ms of SIGTERM; sending SIGKILL`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      const tKill = Date.now();
      while (isAlive(pid) && Date.now() - tKill < 5000) await sleep(50);
      break;
    }
    await sleep(50);
  }
  const ms = Date.now() - t0;
  if (cdsDump) {
    if (!forced) commitCds(cdsDump);
    else fs.rmSync(cdsDump.tmp, { force: true });
    fs.rmSync(p.cdsFile, { force: true });
  }
  fs.rmSync(p.pidFile, { force: true });
  fs.rmSync(p.infoFile, { force: true });
  log(`Kafka broker pid ${pid} stopped in ${ms} ms${forced ? ' (SIGKILL)' : ''}`);
  return { stopped: true, pid, ms, forced };
}

/** The environment contract used by the Kafka integration tests. */
export function brokerEnv(info) {
  return {
    KAFKA_BROKERS: info.brokers,
    KAFKA_SASL_BROKERS: info.saslBrokers,
    KAFKA_SSL_BROKERS: info.sslBrokers,
    KAFKA_SSL_CA: info.sslCa,
    KAFKA_VERSION: info.version,
  };
}

// ---------------------------------------------------------------------------------------------
// shared runner for scripts/run-tests.mjs and scripts/run-with-kafka.mjs

/** Removes `--kafka-version X` / `--kafka-version=X` from argv; returns the version and the rest. */
export function takeKafkaVersion(argv, fallback = process.env.GOMES_KAFKA_VERSION || DEFAULT_KAFKA_VERSION) {
  const rest = [];
  let version = fallback;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kafka-version') {
      version = argv[++i];
      if (!version) throw new Error('--kafka-version needs a value, e.g. --kafka-version 3.9.1');
    } else if (a.startsWith('--kafka-version=')) {
      version = a.slice('--kafka-version='.length);
    } else {
      rest.push(a);
    }
  }
  return { version, rest };
}

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Leaves the broker: drops this process's lease; stops an autoStop broker when nobody else uses it. */
export async function releaseBroker({ root = ROOT, log = defaultLog } = {}) {
  removeLease(root);
  await withStartLock(root, 60_000, async () => {
    const status = await brokerStatus({ root });
    if (!status.alive || !status.info?.autoStop) return;
    const users = liveLeases(root);
    if (users.length > 0) {
      log(`leaving the Kafka broker running for process(es) ${users.join(', ')}`);
      return;
    }
    await stopBroker({ root, log });
  });
}

/**
 * Runs `command args` with the broker environment and exits the process with the command's exit code.
 * KAFKA_BROKERS already set -> no broker handling. Otherwise start the broker (autoStop) or reuse a running
 * one of the same version, holding a lease. On exit (also on failure, SIGINT, SIGTERM) the lease is dropped
 * and an autoStop broker nobody else uses is stopped; a broker started by `kafka-broker.mjs start` stays.
 */
export async function runWithBroker({
  command,
  args = [],
  version = DEFAULT_KAFKA_VERSION,
  fullJit,
  root = ROOT,
  log = defaultLog,
}) {
  let child;
  let signalled;
  let leased = false;
  const aborter = new AbortController();

  const onSignal = (sig) => {
    signalled ??= sig;
    if (child) {
      if (child.exitCode === null && child.signalCode === null) {
        // a terminal's SIGINT reaches the child directly (same process group); forward anything else
        try {
          child.kill(sig);
        } catch {
          // gone
        }
      }
    } else {
      aborter.abort(sig); // during broker startup: kill what we spawned and leave
    }
  };
  for (const sig of Object.keys(SIGNAL_EXIT)) process.on(sig, onSignal);

  let env = process.env;
  if (!process.env.KAFKA_BROKERS) {
    try {
      const info = await startBroker({
        version,
        root,
        log,
        reuse: true,
        autoStop: true,
        lease: true,
        signal: aborter.signal,
        ...(fullJit === undefined ? {} : { fullJit }),
      });
      leased = true;
      env = { ...process.env, ...brokerEnv(info) };
      throwIfAborted(aborter.signal);
    } catch (err) {
      log(err.code === 'KAFKA_START_ABORTED' ? err.message : err.stack || String(err));
      if (leased) await releaseBroker({ root, log }).catch((e) => log(`release failed: ${e.message}`));
      process.exit(signalled ? SIGNAL_EXIT[signalled] : 1);
    }
  }

  const code = await new Promise((resolve) => {
    child = spawn(command, args, { stdio: 'inherit', env });
    child.on('error', (err) => {
      log(`failed to run ${command}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (c, sig) => resolve(c ?? 128 + (os.constants.signals[sig] ?? 0)));
  });
  if (leased) await releaseBroker({ root, log }).catch((e) => log(`release failed: ${e.message}`));
  process.exit(signalled && code === 0 ? SIGNAL_EXIT[signalled] : code);
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  const { version, rest } = takeKafkaVersion(argv, process.env.GOMES_KAFKA_VERSION || DEFAULT_KAFKA_VERSION);
  let timeoutMs = 180_000;
  let fullJit;
  const positional = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--timeout') timeoutMs = Number(rest[++i]) * 1000;
    else if (rest[i] === '--full-jit') fullJit = true;
    else positional.push(rest[i]);
  }
  const cmd = positional[0];
  switch (cmd) {
    case 'start': {
      const info = await startBroker({ version, timeoutMs, ...(fullJit ? { fullJit } : {}) });
      for (const [k, v] of Object.entries(brokerEnv(info))) process.stdout.write(`${k}=${v}\n`);
      return 0;
    }
    case 'stop': {
      const r = await stopBroker();
      if (!r.stopped) process.stdout.write('Kafka broker: not running\n');
      return 0;
    }
    case 'status': {
      const s = await brokerStatus();
      if (s.running) {
        process.stdout.write(
          `Kafka ${s.info.version} broker: running (pid ${s.pid}, RSS ${Math.round((s.rssKb ?? 0) / 1024)} MiB) ` +
            `on ${s.info.brokers}\n`,
        );
        for (const [k, v] of Object.entries(brokerEnv(s.info))) process.stdout.write(`${k}=${v}\n`);
        return 0;
      }
      process.stdout.write(
        s.alive ? `Kafka broker: process ${s.pid} alive but not ready\n` : 'Kafka broker: not running\n',
      );
      return 1;
    }
    default:
      process.stderr.write(
        'usage: node scripts/kafka-broker.mjs start|stop|status [--kafka-version <x.y.z>] [--timeout <s>] [--full-jit]\n' +
          `       default version ${DEFAULT_KAFKA_VERSION}; 3.x versions use the kafka39 Maven profile\n`,
      );
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${err.stack || err}\n`);
      process.exit(1);
    },
  );
}
