// The machine services the integration tests use besides Kafka: PostgreSQL (127.0.0.1:5432, trust
// auth, database `test`) and Redis (127.0.0.1:6379). `ensureLocalServices()` starts each one that is
// not answering, with the machine's documented start command, and fails with a clear message when a
// service is absent — the tests never skip.
//   GOMES_TEST_POSTGRES_URL / GOMES_TEST_REDIS_URL set -> that service is external: left alone.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const SERVICES = [
  {
    name: 'PostgreSQL',
    port: 5432,
    external: 'GOMES_TEST_POSTGRES_URL',
    binary: 'pg_ctlcluster',
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    install: 'apt-get install -y postgresql',
    after: ensureTestDatabase,
  },
  {
    name: 'Redis',
    port: 6379,
    external: 'GOMES_TEST_REDIS_URL',
    binary: 'redis-server',
    start:
      'mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 ' +
      '--save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    install: 'apt-get install -y redis-server',
  },
];

function answers(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function onPath(binary) {
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((d) => d && fs.existsSync(`${d}/${binary}`));
}

async function waitUntilAnswering(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Creates the `test` database when the server lacks it. */
function ensureTestDatabase() {
  if (!onPath('psql')) return;
  const psql = (sql) =>
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-tAc', sql], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  if (psql("SELECT 1 FROM pg_database WHERE datname = 'test'") !== '1') {
    console.log('[services] creating PostgreSQL database "test"');
    psql('CREATE DATABASE test');
  }
}

/** Starts PostgreSQL and Redis when they are not answering; throws when one cannot be started. */
export async function ensureLocalServices() {
  const problems = [];
  for (const s of SERVICES) {
    if (process.env[s.external]) continue;
    if (!(await answers(s.port))) {
      if (!onPath(s.binary)) {
        problems.push(
          `${s.name} is not running on 127.0.0.1:${s.port} and \`${s.binary}\` is not installed ` +
            `(install it: \`${s.install}\`, or set ${s.external} to an external server)`,
        );
        continue;
      }
      console.log(`[services] starting ${s.name}: ${s.start}`);
      try {
        execFileSync('bash', ['-c', s.start], { stdio: 'inherit' });
      } catch (error) {
        problems.push(`${s.name} could not be started with \`${s.start}\`: ${error.message}`);
        continue;
      }
      if (!(await waitUntilAnswering(s.port, 30_000))) {
        problems.push(`${s.name} was started but does not answer on 127.0.0.1:${s.port} within 30 s`);
        continue;
      }
    }
    try {
      s.after?.();
    } catch (error) {
      problems.push(`${s.name}: ${error.message}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `The integration tests need these services:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}
