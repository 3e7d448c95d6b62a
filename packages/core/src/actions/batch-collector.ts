import { GomesError, NonRetriableError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import { waitWithoutProcessor } from '../consume/processor-release.js';
import { AbortScope } from '../pipeline/abort-scope.js';
import { DispatchHandlerContext } from './dispatch-source.js';
import type { HandlerContext } from './handler-context.js';

/**
 * What a batch handler decides for one event: `'done'` (acked), `'retry'` (failed, retriable: the
 * consumer's retry rules run it again, in a later batch), `'dead-letter'` (failed, not retriable:
 * dead-lettered at once, or redelivered when the consumer has no dead-letter channel).
 *
 * @public
 */
export type BatchRecordOutcome = 'done' | 'retry' | 'dead-letter';

/**
 * What a batch handler receives next to its events.
 *
 * @public
 */
export interface BatchContext {
  /** Aborted when any event of the batch is aborted (timeout, revoke, shutdown). */
  readonly signal: AbortSignal;
  /** The logger of the batch's first event. */
  readonly logger: Logger;
  /** The context of each event, in the order of the events. */
  readonly contexts: readonly HandlerContext[];
}

/**
 * A batch event handler: gets up to `maxSize` events and returns nothing (all done) or one outcome
 * per event, in the same order. Throwing fails every event of the call (each is retried by the
 * consumer's retry rules, then dead-lettered or redelivered, as for a single handler).
 *
 * @public
 */
export type BatchEventHandlerFn<A> = (
  events: readonly A[],
  context: BatchContext,
) => Promise<readonly BatchRecordOutcome[] | void> | readonly BatchRecordOutcome[] | void;

type Settled = { readonly ok: true } | { readonly ok: false; readonly error: Error };

interface Entry<A> {
  readonly event: A;
  readonly context: HandlerContext;
  readonly settle: (settled: Settled) => void;
}

const DONE: Settled = Object.freeze({ ok: true });

/**
 * Collects the events of one batch handler into batches (full at `maxSize`, or `maxWaitMs` after
 * the first event) and settles each event's call from its outcome. An event aborted while it waits
 * leaves the batch.
 *
 * @internal
 */
export class BatchCollector<A> {
  readonly #name: string;
  readonly #maxSize: number;
  readonly #maxWaitMs: number;
  readonly #handle: BatchEventHandlerFn<A>;
  #pending: Entry<A>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(name: string, maxSize: number, maxWaitMs: number, handle: BatchEventHandlerFn<A>) {
    this.#name = name;
    this.#maxSize = maxSize;
    this.#maxWaitMs = maxWaitMs;
    this.#handle = handle;
  }

  /** Adds one event; resolves when its outcome is done, rejects with its failure otherwise. */
  async add(event: A, context: HandlerContext): Promise<void> {
    // The context's abort scope when it has one: its signal is then never made (see `AbortScope`).
    const scope = DispatchHandlerContext.scopeOf(context);
    const signal = scope === undefined ? context.signal : undefined;
    if (scope ? scope.aborted : signal!.aborted) throw toError(scope ? scope.reason : signal!.reason);
    let entry: Entry<A> | undefined;
    const outcome = new Promise<Settled>((resolve) => {
      entry = { event, context, settle: resolve };
    });
    const added = entry as unknown as Entry<A>;
    const onAbort = (reason: unknown): void => {
      const at = this.#pending.indexOf(added);
      if (at < 0) return;
      this.#pending.splice(at, 1);
      if (this.#pending.length === 0) this.#clearTimer();
      added.settle({ ok: false, error: toError(reason) });
    };
    const listener = signal ? (): void => onAbort(signal.reason) : undefined;
    if (scope) scope.onAbort(onAbort);
    else signal!.addEventListener('abort', listener!, { once: true });
    this.#pending.push(added);
    if (this.#pending.length >= this.#maxSize) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.#maxWaitMs);
    try {
      const delivery = DispatchHandlerContext.deliveryOf(context);
      const settled = await waitWithoutProcessor(context.message, delivery, async () => outcome);
      if (!settled.ok) throw settled.error;
    } finally {
      if (scope) scope.offAbort(onAbort);
      else signal!.removeEventListener('abort', listener!);
    }
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    this.#clearTimer();
    const entries = this.#pending.splice(0, this.#maxSize);
    if (this.#pending.length > 0) this.#timer = setTimeout(() => this.#flush(), this.#maxWaitMs);
    if (entries.length > 0) void this.#run(entries);
  }

  async #run(entries: readonly Entry<A>[]): Promise<void> {
    const contexts = entries.map((e) => e.context);
    const logger = (contexts[0] as HandlerContext).logger;
    const scopes = contexts.map((c) => DispatchHandlerContext.scopeOf(c));
    let batch: BatchContext;
    if (scopes.every((s) => s !== undefined)) {
      // AbortSignal.any of the events' signals, made only when the handler reads it.
      const any = anyScope(scopes);
      batch = {
        get signal(): AbortSignal {
          return any.signal;
        },
        logger,
        contexts,
      };
    } else {
      batch = { signal: AbortSignal.any(contexts.map((c) => c.signal)), logger, contexts };
    }
    let outcomes: readonly BatchRecordOutcome[] | void;
    try {
      outcomes = await this.#handle(
        entries.map((e) => e.event),
        batch,
      );
    } catch (thrown) {
      const error = toError(thrown);
      for (const entry of entries) entry.settle({ ok: false, error });
      return;
    }
    if (outcomes === undefined) {
      for (const entry of entries) entry.settle(DONE);
      return;
    }
    if (!Array.isArray(outcomes) || outcomes.length !== entries.length) {
      const error = new GomesError(
        'HANDLER_FAILED',
        `Batch handler "${this.#name}" returned ${Array.isArray(outcomes) ? outcomes.length : typeof outcomes} outcomes for ${entries.length} events; the batch is retried`,
        { details: { handler: this.#name } },
      );
      for (const entry of entries) entry.settle({ ok: false, error });
      return;
    }
    entries.forEach((entry, i) => entry.settle(this.#settledOf(outcomes[i] as BatchRecordOutcome, entry)));
  }

  #settledOf(outcome: BatchRecordOutcome, entry: Entry<A>): Settled {
    const details = { handler: this.#name, messageId: entry.context.messageId };
    switch (outcome) {
      case 'done':
        return DONE;
      case 'dead-letter':
        return {
          ok: false,
          error: new NonRetriableError(`Batch handler "${this.#name}" dead-lettered the event`, { details }),
        };
      case 'retry':
      default:
        return {
          ok: false,
          error: new GomesError('HANDLER_FAILED', `Batch handler "${this.#name}" asked to retry the event`, {
            details: { ...details, outcome: String(outcome) },
          }),
        };
    }
  }
}

/**
 * A scope that aborts, with its reason, as soon as one of `scopes` aborts (at once when one already
 * did): `AbortSignal.any` of their signals, without making them.
 */
function anyScope(scopes: readonly AbortScope[]): AbortScope {
  const any = new AbortScope();
  const aborted = scopes.find((s) => s.aborted);
  if (aborted) {
    any.abort(aborted.reason);
    return any;
  }
  const follow = (reason: unknown): void => any.abort(reason);
  for (const scope of scopes) scope.onAbort(follow);
  return any;
}
