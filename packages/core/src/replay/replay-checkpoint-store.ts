/**
 * Where a replay got to: for each partition it reached, the offset of the next record to handle.
 * Saved by `gomes.replay` under the checkpoint `id` every `every` records and when the run ends.
 *
 * @public
 */
export interface ReplayCheckpoint {
  /** The replayed channel. */
  readonly channel: string;
  /** Start of the replayed window (inclusive). */
  readonly from: Date;
  /** End of the replayed window (exclusive). */
  readonly to: Date;
  /** Per partition, the offset of the next record to handle (a decimal string). */
  readonly offsets: Readonly<Record<number, string>>;
  /** When it was saved. */
  readonly updatedAt: Date;
}

/**
 * Stores replay checkpoints by id, so a replay run with the same checkpoint id resumes where the
 * last one stopped (after an abort, a failure or a crash). Implementations: the in-memory
 * {@link InMemoryReplayCheckpointStore} (tests, one process) and `PostgresReplayCheckpointStore`
 * of `@gomes/idempotency-postgres`. A store is the caller's: `gomes.replay` never closes it.
 *
 * @public
 */
export interface ReplayCheckpointStore {
  /** What it is, for logs (e.g. `postgres table gomes_replay_checkpoints`). */
  readonly description: string;
  /** The checkpoint saved under `id`, or `undefined` when there is none. */
  load(id: string): Promise<ReplayCheckpoint | undefined>;
  /** Saves `checkpoint` under `id`, replacing the previous one; resolves once it is stored. */
  save(id: string, checkpoint: ReplayCheckpoint): Promise<void>;
  /** Deletes the checkpoint saved under `id` (to replay the window again from its start). */
  delete(id: string): Promise<void>;
}
