// The Redis the integration tests use: the machine's real server (scripts/run-tests.mjs starts it
// when it is not running). Unreachable is an error, never a skip.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** `GOMES_TEST_REDIS_URL`, else the local server. */
export const REDIS_URL = process.env['GOMES_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const clients: Redis[] = [];

/** A connected client, checked to answer; closed by `closeClients()`. */
export async function testRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
  clients.push(redis);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${(error as Error).message}). The idempotency integration ` +
        'tests need the real server: run them through `pnpm test` (scripts/run-tests.mjs starts it), or ' +
        'start it with `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" ' +
        '--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`, or set GOMES_TEST_REDIS_URL.',
    );
  }
  return redis;
}

/** Disconnects every client made by `testRedis()`. */
export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map(async (c) => c.quit().catch(() => c.disconnect())));
}

/** A key prefix no other test (or engineer sharing the server) uses. */
export function uniquePrefix(label = 'it'): string {
  return `gomes-test:${label}:${Date.now().toString(36)}-${randomBytes(4).toString('hex')}:`;
}
