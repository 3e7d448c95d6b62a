/**
 * `@gomes/idempotency-redis`: an idempotent-consumer store on Redis (ioredis).
 *
 * @packageDocumentation
 */
export {
  RedisIdempotencyStore,
  DEFAULT_REDIS_IDEMPOTENCY_STORE_OPTIONS,
  type RedisIdempotencyStoreOptions,
} from './redis-idempotency-store.js';
