import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { PartitionedSource } from '../transport/spi/partitioned-source.js';
import type { PartitionIntake } from './partition-intake.js';

/** What {@link OffsetCommits} commits and through what. @internal */
export interface OffsetCommitsParams {
  readonly source: PartitionedSource;
  readonly logger: Logger;
  /** The owned partitions (revoked ones are committed by their revoke). */
  readonly owned: () => Iterable<PartitionIntake>;
  /** False once stopping: no new commit timer is started (stop commits itself). */
  readonly open: () => boolean;
}

/**
 * Gap-safe commit scheduling of a consumer on a {@link PartitionedSource} (`settlement: 'offsets'`),
 * shared by the consume engine and the source subscription: the settled prefix of each partition
 * ({@link PartitionIntake.pendingCommit}) is committed at the end of the turn (`commitIntervalMs`
 * 0) or of the commit interval, and on revoke and stop; one commit at a time; a failed commit is
 * logged and retried with the next one.
 *
 * @internal
 */
export class OffsetCommits {
  readonly #p: OffsetCommitsParams;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #committing: Promise<void> | undefined;

  constructor(params: OffsetCommitsParams) {
    this.#p = params;
  }

  /**
   * After the settled prefix moved: commits it at the end of this turn (`commitIntervalMs` 0) or at
   * the end of the commit interval (also on revoke and stop), so a member that dies between settle
   * and commit gets the records redelivered.
   */
  schedule(): void {
    const interval = this.#p.source.commitIntervalMs ?? 0;
    if (interval <= 0) {
      if (this.#immediate !== undefined) return;
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined;
        void this.commitNow();
      });
    } else if (this.#timer === undefined && this.#p.open()) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.commitNow();
      }, interval);
    }
  }

  /** Cancels the interval timer (stop commits itself). */
  cancelTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Commits the settled prefix of `intakes` (default: every owned partition not revoked); one
   * commit at a time. Never rejects.
   */
  async commitNow(intakes?: readonly PartitionIntake[]): Promise<void> {
    while (this.#committing) await this.#committing;
    const targets = intakes ?? [...this.#p.owned()].filter((i) => !i.revoked);
    const offsets = new Map<number, bigint>();
    for (const intake of targets) {
      const next = intake.pendingCommit;
      if (next !== undefined) offsets.set(intake.partition, next);
    }
    if (offsets.size === 0 || this.#p.source.settlement !== 'offsets') return;
    this.#committing = this.#p.source.commit(offsets).then(
      () => {
        for (const intake of targets) {
          const next = offsets.get(intake.partition);
          if (next !== undefined) intake.committed = next;
        }
      },
      (error: unknown) => {
        this.#p.logger.warn('Commit failed; retried with the next one', {
          errorMessage: toError(error).message,
        });
      },
    );
    try {
      await this.#committing;
    } finally {
      this.#committing = undefined;
    }
  }
}
