import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { PartitionedSource } from '../transport/spi/partitioned-source.js';
import type { PartitionIntake } from './partition-intake.js';
import type { SeekedPartition, StartPosition } from './start-position.js';

/** What a {@link PartitionMover} needs from its engine (which owns intakes, work and commits). @internal */
export interface PartitionMoverHost {
  readonly name: string;
  readonly source: PartitionedSource;
  readonly startPosition: StartPosition | undefined;
  /** Delay before a failed resolution of the start position is tried again, in ms. */
  readonly retryDelayMs: number;
  readonly logger: Logger;
  readonly onSourceError: (error: Error) => void;
  /** The current intake of an owned partition. */
  intake(partition: number): PartitionIntake | undefined;
  /** Whether the engine still takes records (false once stopping). */
  open(): boolean;
  /** Drops the queued work of `intakes` and awaits their running work. */
  drain(intakes: ReadonlySet<PartitionIntake>): Promise<void>;
  /** Commits the settled prefix of `intakes`. */
  commit(intakes: readonly PartitionIntake[]): Promise<void>;
  /**
   * Ends `intake`'s ownership (its late work is never acked) and gives its partition a fresh intake,
   * placed at `movedTo` (its first commit).
   */
  replace(intake: PartitionIntake, movedTo: bigint): PartitionIntake;
}

/**
 * Moves owned partitions to a {@link StartPosition} — at their first assignment (the consumer's
 * start position) or on request (`seek`) — through the source's `pause` / `seek` / `resume`,
 * without losing work: buffered records not started are dropped untracked (so no commit passes
 * them), running handlers finish, what is done is committed, then the partition is read again
 * from its new position with a fresh intake, and the new position is committed at once (so the
 * move survives a crash restart or a rebalance). One move at a time.
 *
 * @internal
 */
export class PartitionMover {
  readonly #h: PartitionMoverHost;
  /** Partitions whose start position was applied (or is being applied): never applied twice. */
  readonly #positioned = new Set<number>();
  #moves: Promise<unknown> = Promise.resolve();

  constructor(host: PartitionMoverHost) {
    this.#h = host;
  }

  /** @throws ConfigurationError when the start position needs `resolveOffsets` and the source lacks it. */
  checkSupported(): void {
    const start = this.#h.startPosition;
    if (start && start.kind !== 'offsets' && !this.#h.source.resolveOffsets) {
      throw new ConfigurationError(
        [
          `startPosition "${start.kind}" needs a transport that resolves positions to offsets; ` +
            `channel "${this.#h.source.channelName}" does not: use explicit offsets`,
        ],
        `consumer "${this.#h.name}"`,
      );
    }
  }

  /**
   * Moves `partitions` (default: every owned one; for `offsets`, the listed ones) to `position`.
   *
   * @throws what the source throws resolving `position` (nothing moved then).
   */
  async seek(
    position: StartPosition,
    owned: readonly number[],
    partitions?: readonly number[],
  ): Promise<SeekedPartition[]> {
    let targets = partitions ? owned.filter((p) => partitions.includes(p)) : [...owned];
    if (position.kind === 'offsets') targets = targets.filter((p) => position.offsets[p] !== undefined);
    return this.#serialized(async () => this.#move(targets, position));
  }

  /** Newly assigned partitions: those seen for the first time are held until moved to the start position. */
  assigned(partitions: readonly number[]): void {
    const start = this.#h.startPosition;
    if (!start) return;
    const todo = partitions.filter(
      (p) => !this.#positioned.has(p) && (start.kind !== 'offsets' || start.offsets[p] !== undefined),
    );
    if (todo.length === 0) return;
    for (const p of todo) {
      this.#positioned.add(p);
      const intake = this.#h.intake(p);
      if (intake) intake.held = true;
    }
    this.#h.source.pause(todo);
    void this.#applyStart(todo, start);
  }

  /** Applies the start position; a failed resolution is reported and retried (the partitions stay held). */
  async #applyStart(partitions: readonly number[], start: StartPosition): Promise<void> {
    let pending = partitions;
    while (pending.length > 0 && this.#h.open()) {
      try {
        const moved = new Set(
          (await this.#serialized(async () => this.#move(pending, start))).map((m) => m.partition),
        );
        // Not moved because revoked meanwhile: applied at its next first assignment instead.
        for (const p of pending) if (!moved.has(p)) this.#positioned.delete(p);
        this.#h.logger.info('Start position applied', { startPosition: start.kind, partitions: [...moved] });
        return;
      } catch (error) {
        const e = toError(error);
        this.#h.logger.error('Start position could not be resolved; partitions stay paused, retrying', {
          partitions: pending,
          errorMessage: e.message,
        });
        this.#h.onSourceError(e);
        await new Promise((resolve) => setTimeout(resolve, this.#h.retryDelayMs));
        pending = pending.filter((p) => this.#h.intake(p)?.held === true);
      }
    }
  }

  async #serialized<T>(move: () => Promise<T>): Promise<T> {
    const run = this.#moves.then(move);
    this.#moves = run.catch(() => undefined);
    return run;
  }

  async #move(partitions: readonly number[], position: StartPosition): Promise<SeekedPartition[]> {
    const h = this.#h;
    const owned = partitions.filter((p) => h.intake(p) !== undefined);
    if (owned.length === 0 || !h.open()) return [];
    const offsets = await this.#resolve(owned, position);
    const intakes = owned.flatMap((p) => h.intake(p) ?? []);
    if (intakes.length === 0 || !h.open()) return [];
    h.source.pause(intakes.map((i) => i.partition));
    for (const intake of intakes) intake.held = true;
    await h.drain(new Set(intakes));
    await h.commit(intakes);
    const moved: SeekedPartition[] = [];
    const fresh: PartitionIntake[] = [];
    for (const intake of intakes) {
      const offset = offsets.get(intake.partition);
      // Revoked (or stopping) meanwhile: the partition is not ours to move any more.
      if (offset === undefined || h.intake(intake.partition) !== intake || !h.open()) continue;
      fresh.push(h.replace(intake, offset));
      h.source.seek(intake.partition, offset);
      moved.push({ partition: intake.partition, offset: offset.toString() });
    }
    if (moved.length > 0) h.source.resume(moved.map((m) => m.partition));
    // The new positions are committed at once: a restart or a rebalance before any record of them
    // is handled resumes there, not at the old committed offset (a failed commit is retried with
    // the partition's next one).
    await h.commit(fresh);
    h.logger.info('Partitions moved', { position: position.kind, moved });
    return moved;
  }

  async #resolve(partitions: readonly number[], position: StartPosition): Promise<Map<number, bigint>> {
    if (position.kind === 'offsets') {
      const offsets = new Map<number, bigint>();
      for (const p of partitions) {
        const given = position.offsets[p];
        if (given !== undefined) offsets.set(p, BigInt(given));
      }
      return offsets;
    }
    const source = this.#h.source;
    if (!source.resolveOffsets) {
      throw new GomesError(
        'NOT_SUPPORTED',
        `Channel "${source.channelName}" cannot resolve "${position.kind}" to offsets: seek to explicit offsets`,
      );
    }
    return new Map(await source.resolveOffsets(partitions, position));
  }
}
