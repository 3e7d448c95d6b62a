/**
 * `@gomes/idempotency-postgres`: an idempotent-consumer store on PostgreSQL (pg), with marking done
 * inside the handler's own transaction, and a replay checkpoint store (`gomes.replay`).
 *
 * @packageDocumentation
 */
export {
  PostgresIdempotencyStore,
  DEFAULT_POSTGRES_IDEMPOTENCY_STORE_OPTIONS,
  type IdempotentTransactionResult,
  type PostgresIdempotencyStoreOptions,
} from './postgres-idempotency-store.js';
export {
  PostgresReplayCheckpointStore,
  DEFAULT_POSTGRES_REPLAY_CHECKPOINT_STORE_OPTIONS,
  type PostgresReplayCheckpointStoreOptions,
} from './postgres-replay-checkpoint-store.js';
