import type { ReplayCheckpoint, ReplayCheckpointStore } from './replay-checkpoint-store.js';

/**
 * A {@link ReplayCheckpointStore} in this process's memory (tests, examples, a replay that need
 * not survive a restart). It keeps copies: changing a saved or loaded checkpoint changes nothing.
 *
 * @public
 */
export class InMemoryReplayCheckpointStore implements ReplayCheckpointStore {
  /** @inheritDoc */
  readonly description = 'in-memory';
  readonly #checkpoints = new Map<string, ReplayCheckpoint>();

  /** @inheritDoc */
  async load(id: string): Promise<ReplayCheckpoint | undefined> {
    const checkpoint = this.#checkpoints.get(id);
    return checkpoint && copy(checkpoint);
  }

  /** @inheritDoc */
  async save(id: string, checkpoint: ReplayCheckpoint): Promise<void> {
    this.#checkpoints.set(id, copy(checkpoint));
  }

  /** @inheritDoc */
  async delete(id: string): Promise<void> {
    this.#checkpoints.delete(id);
  }
}

function copy(checkpoint: ReplayCheckpoint): ReplayCheckpoint {
  return Object.freeze({
    channel: checkpoint.channel,
    from: new Date(checkpoint.from.getTime()),
    to: new Date(checkpoint.to.getTime()),
    offsets: Object.freeze({ ...checkpoint.offsets }),
    updatedAt: new Date(checkpoint.updatedAt.getTime()),
  });
}
