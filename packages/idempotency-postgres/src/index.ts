/**
 * `@gomes/idempotency-postgres`: an idempotent-consumer store on PostgreSQL (pg), with marking done
 * inside the handler's own transaction.
 *
 * @packageDocumentation
 */
export {
  PostgresIdempotencyStore,
  DEFAULT_POSTGRES_IDEMPOTENCY_STORE_OPTIONS,
  type IdempotentTransactionResult,
  type PostgresIdempotencyStoreOptions,
} from './postgres-idempotency-store.js';
