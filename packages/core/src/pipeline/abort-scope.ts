import type { ProcessingContext } from './processing-context.js';

/**
 * A cheap, lazily materialised abort signal for the per-message hot path.
 *
 * Creating an `AbortSignal` costs several microseconds in Node 20 (it is an `EventTarget`), and
 * linking two with `AbortSignal.any` costs far more; most messages never look at their signal. A
 * scope tracks the aborted state itself and creates the real `AbortController` only when someone
 * reads {@link AbortScope.signal} (aborting it right away when the scope is already aborted), so
 * observable behaviour is that of an eagerly created signal. Child scopes (one per processing
 * attempt) are linked by a plain callback list instead of event listeners.
 *
 * @internal
 */
export class AbortScope {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listeners: ((reason: unknown) => void)[] | undefined;
  /** The context built around this scope by {@link scopedContext}. */
  owner: object | undefined;

  /** Whether the scope was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The abort reason (`undefined` while not aborted). */
  get reason(): unknown {
    return this.#reason;
  }

  /** The scope as an `AbortSignal`, created on first use. */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.#controller = controller;
      if (this.#aborted) controller.abort(this.#reason);
    }
    return controller.signal;
  }

  /** Aborts the scope (once): its signal, when created, then the listeners, in order. */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason =
      reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.#controller?.abort(this.#reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener(this.#reason);
  }

  /** Calls `listener` once when the scope aborts (not when it already did). Returns a remover. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.#aborted) return noop;
    (this.#listeners ??= []).push(listener);
    return () => this.offAbort(listener);
  }

  /** Removes `listener` (added by {@link AbortScope.onAbort}); nothing when it is not there. */
  offAbort(listener: (reason: unknown) => void): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    // The latest first: an attempt usually removes the listener it added last.
    const index = listeners.lastIndexOf(listener);
    if (index === listeners.length - 1) listeners.pop();
    else if (index >= 0) listeners.splice(index, 1);
  }
}

const noop = (): void => undefined;

type Logger = ProcessingContext['logger'];

/** Slots of a context built here: its scope and its logger (or the factory making it). */
const SCOPE: unique symbol = Symbol('gomes.abortScope');
const LOGGER: unique symbol = Symbol('gomes.logger');
const MAKE_LOGGER: unique symbol = Symbol('gomes.makeLogger');

interface Slots {
  [SCOPE]?: AbortScope;
  [LOGGER]?: Logger;
  [MAKE_LOGGER]?: () => Logger;
}

type Scoped = ProcessingContext & Slots;

/** Replaces a lazy property by a plain data property (an assignment to `signal` / `logger`). */
function overwrite(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * An own, enumerable accessor (so `{ ...ctx }` copies the value, as with a plain property),
 * shared by every context: `Object.defineProperty` with one descriptor is much cheaper than an
 * object literal with getters, which V8 builds in the runtime. Assigning replaces it by a value.
 */
function lazyProperty(name: string, get: (this: Slots) => unknown): PropertyDescriptor {
  return {
    get,
    set(this: object, value: unknown): void {
      overwrite(this, name, value);
    },
    enumerable: true,
    configurable: true,
  };
}

const SIGNAL_FROM_SCOPE = lazyProperty('signal', function (this: Slots) {
  return this[SCOPE]!.signal;
});

const LOGGER_MADE_ONCE = lazyProperty('logger', function (this: Slots) {
  let logger = this[LOGGER];
  if (logger === undefined) {
    logger = this[MAKE_LOGGER]!();
    this[LOGGER] = logger;
  }
  return logger;
});

/**
 * The scope whose lazy signal `context.signal` is, when `context` was built by
 * {@link scopedContext} or {@link childContext} itself (a copy made by spreading it, e.g.
 * `{ ...ctx, logger }`, does not count: its `signal` is a plain property and may be another one).
 * `undefined` means: use `context.signal`.
 *
 * @internal
 */
export function abortScopeOf(context: ProcessingContext): AbortScope | undefined {
  const scope = (context as Scoped)[SCOPE];
  return scope !== undefined && scope.owner === context ? scope : undefined;
}

/** Whether `context.logger` is made on first read and not made yet. */
function loggerPending(context: ProcessingContext): boolean {
  const slots = context as Scoped;
  return slots[MAKE_LOGGER] !== undefined && slots[LOGGER] === undefined;
}

/**
 * A processing context whose `signal` is `scope`'s lazy signal: an own enumerable accessor, so
 * reading it (spreading the context reads it) creates the real `AbortSignal`. The logger is
 * `logger`, or made by `makeLogger` on first read when `logger` is undefined.
 *
 * @internal
 */
export function scopedContext(
  scope: AbortScope,
  fields: Omit<ProcessingContext, 'signal' | 'logger'>,
  logger: Logger | undefined,
  makeLogger?: () => Logger,
): ProcessingContext {
  const context: Scoped = {
    endpointName: fields.endpointName,
    delivery: fields.delivery,
    channels: fields.channels,
    state: fields.state,
    [SCOPE]: scope,
    [LOGGER]: logger,
    [MAKE_LOGGER]: logger === undefined ? makeLogger : undefined,
  } as Slots as Scoped;
  Object.defineProperty(context, 'signal', SIGNAL_FROM_SCOPE);
  if (logger === undefined) Object.defineProperty(context, 'logger', LOGGER_MADE_ONCE);
  else (context as { logger: Logger }).logger = logger;
  scope.owner = context;
  return context;
}

/**
 * The context of a nested step (one attempt of `processingTimeout`): `parent`'s fields with
 * `scope`'s lazy signal. When `parent` is not a scoped context (`parentScope` undefined), it is
 * copied with a spread, so fields other middleware added survive.
 *
 * @internal
 */
export function childContext(
  parent: ProcessingContext,
  parentScope: AbortScope | undefined,
  scope: AbortScope,
): ProcessingContext {
  if (parentScope !== undefined) {
    return loggerPending(parent)
      ? scopedContext(scope, parent, undefined, () => parent.logger)
      : scopedContext(scope, parent, parent.logger);
  }
  const context = { ...parent, [SCOPE]: scope } as Scoped;
  Object.defineProperty(context, 'signal', SIGNAL_FROM_SCOPE);
  scope.owner = context;
  return context;
}
