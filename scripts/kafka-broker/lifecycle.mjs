// Starting, stopping, killing and restarting (with its data) the broker of this port base.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_KAFKA_VERSION,
  FAST_START_FLAGS,
  HOST,
  JVM_FLAGS,
  PORTS,
  ROOT,
  USERS,
  defaultLog,
  paths,
  readJson,
  sleep,
} from './config.mjs';
import { cds, commitCds } from './class-data-sharing.mjs';
import {
  formatStorage,
  generateTls,
  newClusterId,
  serverProperties,
  tlsFiles,
  writeLoggingConfig,
} from './cluster-files.mjs';
import { addLease, liveLeases, withStartLock } from './coordination.mjs';
import { ensureJars, jarStats } from './jars.mjs';
import { isAlive, portOpen, readPid, rssKb } from './processes.mjs';
import { brokerStatus, waitForReady } from './readiness.mjs';

/**
 * Starts a broker and resolves with the broker.json info once it is ready. When a broker of the same
 * version already runs, resolves with its info and `reused: true`.
 *
 * A fresh start wipes the run folder and formats a new cluster. `keepData: true` starts the cluster
 * left in the run folder by the last start instead (after `stop` or `kill`): same cluster id, ports,
 * TLS material, topics, records and committed offsets; it fails when there is none.
 *
 * Options: version, timeoutMs, log, keepData, extraProperties (server.properties overrides, fresh
 * start only), extraJvmFlags, fullJit, reuse, autoStop (recorded in broker.json, see coordination.mjs;
 * a restart keeps the cluster's), lease (register this process as a user, atomically with the
 * start/reuse), signal (AbortSignal: kills a broker this call spawned).
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
  keepData = false,
  extraProperties = {},
  extraJvmFlags = (process.env.GOMES_KAFKA_JVM_OPTS ?? '').split(/\s+/).filter(Boolean),
  fullJit = /^(1|true|yes)$/i.test(process.env.GOMES_KAFKA_FULL_JIT ?? ''),
  reuse = true,
  autoStop,
  signal,
} = {}) {
  const p = paths(root);
  const status = await brokerStatus({ root });
  if (status.running) {
    if (reuse && status.info.version === version) {
      if (!keepData && !autoStop && status.info.autoStop) {
        // an explicit `start` adopts a runner's broker: runners no longer stop it
        status.info.autoStop = false;
        fs.writeFileSync(p.infoFile, `${JSON.stringify(status.info, null, 2)}\n`);
        const cluster = readJson(p.clusterFile);
        if (cluster)
          fs.writeFileSync(p.clusterFile, `${JSON.stringify({ ...cluster, autoStop: false }, null, 2)}\n`);
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

  let cluster;
  let formatMs = 0;
  if (keepData) {
    cluster = readJson(p.clusterFile);
    if (!cluster || !fs.existsSync(path.join(p.dataDir, 'meta.properties'))) {
      throw new Error(`no cluster to restart in ${p.runDir}: start one first (without --keep-data)`);
    }
    if (cluster.version !== version) {
      throw new Error(
        `the cluster in ${p.runDir} is Kafka ${cluster.version}; it cannot be restarted as Kafka ${version}`,
      );
    }
    cluster = { ...cluster, starts: (cluster.starts ?? 1) + 1 };
  } else {
    // fresh run directory on every start: formatting is cheap and avoids cluster-id / format-version clashes.
    fs.rmSync(p.runDir, { recursive: true, force: true });
    fs.mkdirSync(p.dataDir, { recursive: true });
    const { keystoreFile } = generateTls(p.tlsDir);
    fs.writeFileSync(p.propsFile, serverProperties({ version, p, keystoreFile, extraProperties }));
    cluster = { version, clusterId: newClusterId(), autoStop: autoStop ?? false, starts: 1 };
  }
  fs.mkdirSync(p.logsDir, { recursive: true });
  const logFlags = writeLoggingConfig(version, p);
  if (!keepData) {
    formatMs = formatStorage({ root, version, classpath, logFlags, clusterId: cluster.clusterId, p });
  }
  cluster.autoStop = keepData ? (autoStop ?? cluster.autoStop) : cluster.autoStop;
  fs.writeFileSync(p.clusterFile, `${JSON.stringify(cluster, null, 2)}\n`);

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
  log(
    `Kafka ${version} broker spawned (pid ${pid}, ` +
      `${keepData ? `restart ${cluster.starts - 1} with its data` : `format ${formatMs} ms`}), waiting for readiness ...`,
  );

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
    clusterId: cluster.clusterId,
    host: HOST,
    ports: { ...PORTS },
    brokers: `${HOST}:${PORTS.plaintext}`,
    saslBrokers: `${HOST}:${PORTS.sasl}`,
    sslBrokers: `${HOST}:${PORTS.ssl}`,
    sslCa: tlsFiles(p.tlsDir).caFile,
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
    autoStop: cluster.autoStop,
    restartedWithData: keepData,
    starts: cluster.starts,
    timings: {
      formatMs,
      spawnToPortsOpenMs: ready.portsOpenAt - tSpawn,
      spawnToAdminReadyMs: ready.adminReadyAt - tSpawn,
      spawnToReadyMs: readyAt - tSpawn,
    },
    readyAt: new Date(readyAt).toISOString(),
    rssKbAtReady: rssKb(pid),
  };
  fs.writeFileSync(p.infoFile, `${JSON.stringify(info, null, 2)}\n`);
  log(
    `Kafka ${version} ready on ${info.brokers} (SASL ${info.saslBrokers}, SSL ${info.sslBrokers}) ` +
      `in ${info.timings.spawnToReadyMs} ms after spawn` +
      `${keepData ? ' (restarted with its data)' : ` (+${formatMs} ms format)`}`,
  );
  return { ...info, reused: false };
}

/**
 * Stops the broker: SIGTERM (controlled shutdown), a bounded wait, then SIGKILL; with `kill: true`,
 * SIGKILL at once (a crash: no controlled shutdown, no flush). Either way the run folder (cluster,
 * records, committed offsets) is kept for `startBroker({ keepData: true })`. Resolves with what happened.
 */
export async function stopBroker({ root = ROOT, graceMs, kill = false, log = defaultLog } = {}) {
  const p = paths(root);
  const pid = readPid(p);
  const cdsDump = readJson(p.cdsFile);
  // dumping the class archive at exit takes a few extra seconds (once per version)
  graceMs ??= kill ? 0 : cdsDump ? 30_000 : 15_000;
  if (pid === undefined || !isAlive(pid, { kafkaOnly: true })) {
    if (cdsDump) fs.rmSync(cdsDump.tmp, { force: true });
    fs.rmSync(p.cdsFile, { force: true });
    fs.rmSync(p.pidFile, { force: true });
    fs.rmSync(p.infoFile, { force: true });
    return { stopped: false, reason: 'not running' };
  }
  const t0 = Date.now();
  try {
    process.kill(pid, kill ? 'SIGKILL' : 'SIGTERM');
  } catch {
    // already gone
  }
  let forced = kill;
  while (isAlive(pid)) {
    if (Date.now() - t0 > graceMs) {
      if (!forced) {
        forced = true;
        log(`broker pid ${pid} did not exit within ${graceMs} ms of SIGTERM; sending SIGKILL`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      const tKill = Date.now();
      while (isAlive(pid) && Date.now() - tKill < 5000) await sleep(20);
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
  log(
    `Kafka broker pid ${pid} ${kill ? 'killed (SIGKILL)' : 'stopped'} in ${ms} ms${forced && !kill ? ' (SIGKILL)' : ''}`,
  );
  return { stopped: true, pid, ms, forced, killedAt: new Date().toISOString() };
}

/**
 * Restarts the broker with its data: stop (or SIGKILL with `kill: true`), wait `downMs`, then start
 * the same cluster on the same ports. Resolves with the new broker.json info.
 */
export async function restartBroker({
  root = ROOT,
  kill = false,
  downMs = 0,
  log = defaultLog,
  ...start
} = {}) {
  const before = readJson(paths(root).clusterFile);
  const stopped = await stopBroker({ root, kill, log });
  if (downMs > 0) await sleep(downMs);
  const info = await startBroker({ root, log, keepData: true, version: before?.version, ...start });
  return { ...info, stopped };
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
