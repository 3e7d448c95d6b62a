#!/usr/bin/env node
// A real schema registry for the @gomes/schema-registry tests: Apicurio Registry (Confluent-compatible
// API at /apis/ccompat/v7), in-memory storage, run as a plain Java process (Java 21+) on 127.0.0.1.
// Nothing is committed: Maven unpacks io.apicurio:apicurio-registry-app:<version>:tar.gz:all
// (tools/apicurio/pom.xml) into .apicurio/<version>/ (gitignored) on first use.
//
// CLI:     node scripts/schema-registry.mjs start|stop|status|release [--json] [--auto-stop] [--lease <pid>]
//          (release --lease <pid>: drops that lease and stops an auto-stop registry nobody uses)
// Library: startRegistry(opts), stopRegistry(opts), registryStatus(opts), registryEnv(info), releaseRegistry(opts)
//
// Ports (base = GOMES_SCHEMA_REGISTRY_PORT_BASE, default 18081; a busy base that is not this checkout's
// registry moves to the next free one): base HTTP, base+1 management (GET /health/ready), base+2 HTTPS
// (certificate signed by a throwaway CA: SCHEMA_REGISTRY_CA). Every /apis/* request needs HTTP basic
// auth (USER below), so clients are tested with credentials, and TLS on the HTTPS port.
//
// On demand: the test runner (scripts/run-tests.mjs) does not start the registry; a test that needs it
// runs `start --auto-stop --lease <runner pid>` (packages/schema-registry/test/support), and the runner
// stops an auto-stop registry when it ends and no other runner holds a lease.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addLeaseIn, liveLeasesIn, removeLeaseIn, withLockFile } from './shared/coordination.mjs';
import { isAlive, portOpen, readJson, runAsCli, sleep, tail } from './shared/processes.mjs';
import { generateServerTls } from './shared/tls.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const APICURIO_VERSION = process.env.GOMES_APICURIO_VERSION || '3.3.3';
export const HOST = '127.0.0.1';
export const USER = Object.freeze({ username: 'alice', password: 'alice-secret' });
const DEFAULT_PORT_BASE = 18081;
const POM = path.join(ROOT, 'tools', 'apicurio', 'pom.xml');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const JVM_FLAGS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];
const CCOMPAT = '/apis/ccompat/v7';

const defaultLog = (msg) => process.stderr.write(`[schema-registry] ${msg}\n`);

function paths(root = ROOT) {
  const dir = path.join(root, '.apicurio');
  const runDir = path.join(dir, 'run');
  return {
    dir,
    appDir: (version) => path.join(dir, version),
    runDir,
    infoFile: path.join(runDir, 'registry.json'),
    logFile: path.join(runDir, 'registry.out'),
    tlsDir: path.join(runDir, 'tls'),
    lockFile: path.join(dir, 'run.lock'),
    leaseDir: path.join(dir, 'run.leases'),
  };
}

// ---------------------------------------------------------------------------------------------
// the app and a Java 21+

/** Unpacks the Apicurio app into .apicurio/<version>/ with Maven (idempotent). */
export function ensureApp({ version = APICURIO_VERSION, root = ROOT, log = defaultLog } = {}) {
  const appDir = paths(root).appDir(version);
  if (fs.existsSync(path.join(appDir, '.complete'))) return appDir;
  const tmpDir = `${appDir}.tmp-${process.pid}`;
  fs.rmSync(tmpDir, { recursive: true, force: true });
  log(`fetching Apicurio Registry ${version} with Maven into ${path.relative(root, appDir)} ...`);
  const t0 = Date.now();
  try {
    execFileSync(
      'mvn',
      [
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        POM,
        `${DEPENDENCY_PLUGIN}:unpack`,
        `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
        `-DoutputDirectory=${tmpDir}`,
        // the plugin skips an artifact it unpacked before (its marker files): unpack again regardless
        '-Dmdep.overWriteReleases=true',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`mvn unpack of apicurio-registry-app ${version} failed:\n${out || err.message}`);
  }
  if (!fs.existsSync(path.join(tmpDir, 'quarkus-run.jar'))) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw new Error(`mvn did not unpack quarkus-run.jar for apicurio-registry-app ${version}`);
  }
  fs.writeFileSync(path.join(tmpDir, '.complete'), `${version}\n`);
  fs.rmSync(appDir, { recursive: true, force: true });
  fs.renameSync(tmpDir, appDir);
  log(`fetched in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return appDir;
}

/** A java binary of version 21 or later: GOMES_REGISTRY_JAVA_HOME, JAVA_HOME, PATH, then /usr/lib/jvm/*. */
export function findJava21() {
  const candidates = [];
  for (const home of [process.env.GOMES_REGISTRY_JAVA_HOME, process.env.JAVA_HOME])
    if (home) candidates.push(path.join(home, 'bin', 'java'));
  candidates.push('java');
  for (const base of ['/usr/lib/jvm', '/usr/local/lib/jvm', '/opt/java']) {
    let names = [];
    try {
      names = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names.sort().reverse()) candidates.push(path.join(base, name, 'bin', 'java'));
  }
  const seen = new Set();
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    if (c !== 'java' && !fs.existsSync(c)) continue;
    const major = javaSpecVersion(c);
    if (major >= 21) return { java: c, major };
  }
  throw new Error(
    'Apicurio Registry needs Java 21 or later and none was found (looked at GOMES_REGISTRY_JAVA_HOME, ' +
      'JAVA_HOME, PATH and /usr/lib/jvm/*). Install a JDK 21+ or point GOMES_REGISTRY_JAVA_HOME at one.',
  );
}

function javaSpecVersion(javaBin) {
  // `java -XshowSettings:properties -version` prints the properties on stderr
  const r = spawnSync(javaBin, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  return Number(/java\.specification\.version = (\d+)/.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`)?.[1] ?? 0);
}

// ---------------------------------------------------------------------------------------------
// processes and ports

function isRegistryProcess(pid) {
  return isAlive(pid, { commandLine: (argv) => argv.some((a) => a.endsWith('quarkus-run.jar')) });
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function choosePortBase(log) {
  const requested = Number(process.env.GOMES_SCHEMA_REGISTRY_PORT_BASE || DEFAULT_PORT_BASE);
  if (!Number.isInteger(requested) || requested < 1024 || requested > 65530)
    throw new Error(`GOMES_SCHEMA_REGISTRY_PORT_BASE must be a port in 1024..65530, got ${requested}`);
  for (let base = requested; base < requested + 300; base += 3) {
    const free = await Promise.all([base, base + 1, base + 2].map(portFree));
    if (free.every(Boolean)) {
      if (base !== requested) log(`ports ${requested}-${requested + 2} are busy; using ${base}-${base + 2}`);
      return base;
    }
  }
  throw new Error(`no three free ports from ${requested} on for the schema registry`);
}

function httpStatus(port, pathname, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get({ host: HOST, port, path: pathname, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// ---------------------------------------------------------------------------------------------
// one registry per checkout: a lock while starting/stopping, leases of the runners using it

function withLock(root, timeoutMs, fn) {
  return withLockFile(paths(root).lockFile, timeoutMs, fn);
}

// ---------------------------------------------------------------------------------------------
// status / start / stop

/** The recorded registry.json when its process is alive and ready. */
export async function registryStatus({ root = ROOT } = {}) {
  const info = readJson(paths(root).infoFile);
  const alive = info !== undefined && isRegistryProcess(info.pid);
  const ready = alive && (await httpStatus(info.ports.management, '/health/ready')) === 200;
  return { running: ready, alive, info };
}

/**
 * Starts the registry (fetching it first) and resolves with its info once `/health/ready` answers;
 * a running one is reused. `autoStop` marks it for `releaseRegistry`; `lease` registers a runner pid.
 */
export async function startRegistry({
  root = ROOT,
  version = APICURIO_VERSION,
  timeoutMs = 180_000,
  autoStop = false,
  lease,
  log = defaultLog,
} = {}) {
  return withLock(root, timeoutMs, async () => {
    const p = paths(root);
    const status = await registryStatus({ root });
    if (status.running) {
      if (lease) addLeaseIn(paths(root).leaseDir, lease);
      return { ...status.info, reused: true };
    }
    if (status.alive) await stopProcess(status.info.pid, log);
    const appDir = ensureApp({ version, root, log });
    const { java, major } = findJava21();
    const base = await choosePortBase(log);
    const ports = { http: base, management: base + 1, https: base + 2 };
    fs.rmSync(p.runDir, { recursive: true, force: true });
    fs.mkdirSync(p.runDir, { recursive: true });
    const tls = generateServerTls(p.tlsDir, 'gomes-registry-ca');
    const props = {
      'quarkus.http.host': HOST,
      'quarkus.http.port': ports.http,
      'quarkus.http.ssl-port': ports.https,
      'quarkus.http.ssl.certificate.files': tls.cert,
      'quarkus.http.ssl.certificate.key-files': tls.key,
      'quarkus.management.host': HOST,
      'quarkus.management.port': ports.management,
      // HTTP basic auth on the APIs (Quarkus' embedded user realm); health stays open. Quarkus warns that
      // quarkus.http.auth.basic is fixed at build time, yet without it every request is rejected.
      'quarkus.http.auth.basic': 'true',
      'quarkus.security.users.embedded.enabled': 'true',
      'quarkus.security.users.embedded.plain-text': 'true',
      [`quarkus.security.users.embedded.users.${USER.username}`]: USER.password,
      'quarkus.http.auth.permission.apis.paths': '/apis/*',
      'quarkus.http.auth.permission.apis.policy': 'authenticated',
    };
    const args = [
      ...JVM_FLAGS,
      ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
      '-jar',
      'quarkus-run.jar',
    ];
    const out = fs.openSync(p.logFile, 'a');
    const child = spawn(java, args, { cwd: appDir, detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.on('error', () => {});
    child.unref();
    const pid = child.pid;
    const t0 = Date.now();
    log(`Apicurio Registry ${version} spawned (pid ${pid}, Java ${major}), waiting for /health/ready ...`);
    for (;;) {
      if (!isAlive(pid))
        throw new Error(
          `the schema registry exited during startup. Last lines of ${p.logFile}:\n${tail(p.logFile, 40)}`,
        );
      const ready =
        (await httpStatus(ports.management, '/health/ready')) === 200 &&
        (await httpStatus(ports.http, `${CCOMPAT}/subjects`)) !== 0 &&
        (await portOpen(ports.https, HOST));
      if (ready) break;
      if (Date.now() - t0 > timeoutMs) {
        await stopProcess(pid, log);
        throw new Error(
          `the schema registry was not ready within ${timeoutMs} ms. Last lines:\n${tail(p.logFile, 40)}`,
        );
      }
      await sleep(250);
    }
    const info = {
      version,
      pid,
      java,
      ports,
      url: `http://${HOST}:${ports.http}${CCOMPAT}`,
      tlsUrl: `https://localhost:${ports.https}${CCOMPAT}`,
      ca: tls.ca,
      username: USER.username,
      password: USER.password,
      autoStop,
      startedAt: new Date(t0).toISOString(),
      readyMs: Date.now() - t0,
      logFile: p.logFile,
    };
    fs.writeFileSync(p.infoFile, `${JSON.stringify(info, null, 2)}\n`);
    if (lease) addLeaseIn(paths(root).leaseDir, lease);
    log(`ready on ${info.url} (HTTPS ${info.tlsUrl}) in ${info.readyMs} ms`);
    return { ...info, reused: false };
  });
}

async function stopProcess(pid, log, graceMs = 15_000) {
  if (!isAlive(pid)) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const t0 = Date.now();
  while (isAlive(pid)) {
    if (Date.now() - t0 > graceMs) {
      log(`registry pid ${pid} ignored SIGTERM for ${graceMs} ms; sending SIGKILL`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      break;
    }
    await sleep(50);
  }
  return true;
}

/** Stops the checkout's registry (whoever started it). */
export async function stopRegistry({ root = ROOT, log = defaultLog } = {}) {
  const p = paths(root);
  const info = readJson(p.infoFile);
  const stopped = info !== undefined && isRegistryProcess(info.pid) && (await stopProcess(info.pid, log));
  fs.rmSync(p.infoFile, { force: true });
  if (stopped) log(`schema registry pid ${info.pid} stopped`);
  return { stopped };
}

/** Drops `pid`'s lease; stops an auto-stop registry that no live runner uses any more. */
export async function releaseRegistry({ root = ROOT, pid = process.pid, log = defaultLog } = {}) {
  removeLeaseIn(paths(root).leaseDir, pid);
  await withLock(root, 60_000, async () => {
    const status = await registryStatus({ root });
    if (!status.alive || !status.info?.autoStop) return;
    if (liveLeasesIn(paths(root).leaseDir).length > 0) return;
    await stopRegistry({ root, log });
  });
}

/** The environment contract of the schema-registry integration tests. */
export function registryEnv(info) {
  return {
    SCHEMA_REGISTRY_URL: info.url,
    SCHEMA_REGISTRY_TLS_URL: info.tlsUrl,
    SCHEMA_REGISTRY_CA: info.ca,
    SCHEMA_REGISTRY_USERNAME: info.username,
    SCHEMA_REGISTRY_PASSWORD: info.password,
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  const cmd = argv[0];
  const json = argv.includes('--json');
  const leaseAt = argv.indexOf('--lease');
  const lease = leaseAt >= 0 ? Number(argv[leaseAt + 1]) : undefined;
  const log = json ? (m) => process.stderr.write(`[schema-registry] ${m}\n`) : defaultLog;
  switch (cmd) {
    case 'start': {
      const info = await startRegistry({ autoStop: argv.includes('--auto-stop'), lease, log });
      const env = registryEnv(info);
      if (json) process.stdout.write(`${JSON.stringify(env)}\n`);
      else for (const [k, v] of Object.entries(env)) process.stdout.write(`${k}=${v}\n`);
      return 0;
    }
    case 'stop': {
      const r = await stopRegistry({ log });
      if (!r.stopped) process.stdout.write('schema registry: not running\n');
      return 0;
    }
    case 'release': {
      await releaseRegistry({ pid: lease ?? process.ppid, log });
      return 0;
    }
    case 'status': {
      const s = await registryStatus();
      if (s.running) {
        process.stdout.write(
          `Apicurio Registry ${s.info.version}: running (pid ${s.info.pid}) on ${s.info.url}\n`,
        );
        for (const [k, v] of Object.entries(registryEnv(s.info))) process.stdout.write(`${k}=${v}\n`);
        return 0;
      }
      process.stdout.write('schema registry: not running\n');
      return 1;
    }
    default:
      process.stderr.write(
        'usage: node scripts/schema-registry.mjs start|stop|status|release [--json] [--auto-stop] [--lease <pid>]\n',
      );
      return 2;
  }
}

runAsCli(import.meta.url, main);
