// Is the broker there, and is it ready for clients (listeners, metadata, group coordinator)?
import { createRequire } from 'node:module';
import path from 'node:path';
import { HOST, PORTS, ROOT, paths, readJson, sleep } from './config.mjs';
import { errorLines, isAlive, portOpen, readPid, rssKb, tail } from './processes.mjs';

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

export function throwIfAborted(signal) {
  if (signal?.aborted) {
    const err = new Error(`broker startup aborted (${signal.reason ?? 'signal'})`);
    err.code = 'KAFKA_START_ABORTED';
    throw err;
  }
}

/** Resolves once the broker `pid` serves clients; rejects when it dies or the deadline passes. */
export async function waitForReady({ pid, p, root, deadline, version, signal }) {
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
