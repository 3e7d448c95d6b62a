import { GomesError, NonRetriableError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import {
  processorHandOff,
  type ProcessorHandOff,
  type ProcessorResumer,
} from '../consume/processor-release.js';
import { AbortScope } from '../pipeline/abort-scope.js';
import { runOutsideHandling } from '../bus/causation-scope.js';
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

/**
 * One event waiting for its batch: settles its `add` call once it holds its processor again (when
 * it gave it back). One object per event, that is also the scheduler's resumer: no promise, closure
 * or async frame per event beyond the `add` promise and its abort listener.
 */
class Entry<A> implements ProcessorResumer {
  /** The failure the event ended with (`undefined`: done), read by {@link Entry.resumed}. */
  #error: Error | undefined;
  /** The abort scope listened to, with {@link Entry.onAbort} (else `detach` removes a signal listener). */
  scope: AbortScope | undefined;
  onAbort: ((reason: unknown) => void) | undefined;
  detach: (() => void) | undefined;

  constructor(
    readonly event: A,
    readonly context: HandlerContext,
    readonly handOff: ProcessorHandOff | undefined,
    readonly resolve: () => void,
    readonly reject: (error: Error) => void,
  ) {}

  /** Ends the wait: `error` undefined = done. The call settles once the event holds a processor again. */
  finish(error: Error | undefined): void {
    if (this.scope) this.scope.offAbort(this.onAbort!);
    else this.detach?.();
    this.#error = error;
    if (this.handOff) this.handOff.reacquire(this);
    else this.resumed();
  }

  /** @inheritDoc */
  resumed(): void {
    if (this.#error === undefined) this.resolve();
    else this.reject(this.#error);
  }
}

/**
 * Collects the events of one batch handler into batches (full at `maxSize`, or `maxWaitMs` after
 * the first event) and settles each event's call from its outcome. An event aborted while it waits
 * leaves the batch. An event coming from the consume engine gives its processor back while it waits
 * (see `processorHandOff`).
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
  readonly #flushLater = (): void => this.#flush();

  constructor(name: string, maxSize: number, maxWaitMs: number, handle: BatchEventHandlerFn<A>) {
    this.#name = name;
    this.#maxSize = maxSize;
    this.#maxWaitMs = maxWaitMs;
    this.#handle = handle;
  }

  /** Adds one event; resolves when its outcome is done, rejects with its failure otherwise. */
  // Not `async`: one promise per event, settled by its entry (no async frame held while it waits).
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  add(event: A, context: HandlerContext): Promise<void> {
    // The context's abort scope when it has one: its signal is then never made (see `AbortScope`).
    const scope = DispatchHandlerContext.scopeOf(context);
    const signal = scope === undefined ? context.signal : undefined;
    if (scope ? scope.aborted : signal!.aborted)
      return Promise.reject(toError(scope ? scope.reason : signal!.reason));
    const handOff = processorHandOff(context.message, DispatchHandlerContext.deliveryOf(context));
    return new Promise<void>((resolve, reject) => {
      const entry = new Entry(event, context, handOff, resolve, reject);
      const onAbort = (reason: unknown): void => {
        const at = this.#pending.indexOf(entry);
        if (at < 0) return;
        this.#pending.splice(at, 1);
        if (this.#pending.length === 0) this.#clearTimer();
        entry.finish(toError(reason));
      };
      if (scope) {
        scope.onAbort(onAbort);
        entry.scope = scope;
        entry.onAbort = onAbort;
      } else {
        const listener = (): void => onAbort(signal!.reason);
        signal!.addEventListener('abort', listener, { once: true });
        entry.detach = () => signal!.removeEventListener('abort', listener);
      }
      handOff?.release();
      this.#pending.push(entry);
      if (this.#pending.length >= this.#maxSize) this.#flush();
      else this.#timer ??= setTimeout(this.#flushLater, this.#maxWaitMs);
    });
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    this.#clearTimer();
    const entries = this.#pending.splice(0, this.#maxSize);
    if (this.#pending.length > 0) this.#timer = setTimeout(this.#flushLater, this.#maxWaitMs);
    if (entries.length > 0) void this.#run(entries);
  }

  async #run(entries: readonly Entry<A>[]): Promise<void> {
    const contexts = entries.map((e) => e.context);
    const logger = (contexts[0] as HandlerContext).logger;
    const scopes = entries.map((e) => e.scope);
    let batch: BatchContext;
    if (scopes.every((s) => s !== undefined)) {
      // AbortSignal.any of the events' signals, made only when the handler reads it: until then no
      // listener on the events' scopes (one per event, and its removal, showed in the profile).
      let any: AbortScope | undefined;
      batch = {
        get signal(): AbortSignal {
          any ??= anyScope(scopes);
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
      // Outside any one event's causation scope: the call handles every event of the batch.
      const events = entries.map((e) => e.event);
      outcomes = await runOutsideHandling(async () => this.#handle(events, batch));
    } catch (thrown) {
      const error = toError(thrown);
      for (const entry of entries) entry.finish(error);
      return;
    }
    if (outcomes === undefined) {
      for (const entry of entries) entry.finish(undefined);
      return;
    }
    if (!Array.isArray(outcomes) || outcomes.length !== entries.length) {
      const error = new GomesError(
        'HANDLER_FAILED',
        `Batch handler "${this.#name}" returned ${Array.isArray(outcomes) ? outcomes.length : typeof outcomes} outcomes for ${entries.length} events; the batch is retried`,
        { details: { handler: this.#name } },
      );
      for (const entry of entries) entry.finish(error);
      return;
    }
    entries.forEach((entry, i) => entry.finish(this.#errorOf(outcomes[i] as BatchRecordOutcome, entry)));
  }

  /** The failure an outcome stands for (`undefined`: done). */
  #errorOf(outcome: BatchRecordOutcome, entry: Entry<A>): Error | undefined {
    if (outcome === 'done') return undefined;
    const details = { handler: this.#name, messageId: entry.context.messageId };
    if (outcome === 'dead-letter')
      return new NonRetriableError(`Batch handler "${this.#name}" dead-lettered the event`, { details });
    return new GomesError('HANDLER_FAILED', `Batch handler "${this.#name}" asked to retry the event`, {
      details: { ...details, outcome: String(outcome) },
    });
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
