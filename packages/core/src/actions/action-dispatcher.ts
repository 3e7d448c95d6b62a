import { ActionEnvelope } from '../bus/action-envelope.js';
import { runHandling } from '../bus/causation-scope.js';
import { GomesError, toError } from '../errors/gomes-error.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { traceHandler } from '../observability/handler-tracing.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import type { ProcessingContext } from '../pipeline/processing-context.js';
import type { ActionEntry, ActionRegistry } from './action-registry.js';
import { checkAction, needsValidation, toActionInstance } from './action-validation.js';
import type { ResolvedActionValidationOptions } from './action-validation-options.js';
import { DispatchHandlerContext, messageOf, type DispatchSource } from './dispatch-source.js';
import type { HandlerDefinition } from './handler-definition.js';

/** Options of {@link ActionDispatcher}. @internal */
export interface ActionDispatcherOptions {
  /** Validate payloads with class-validator before handling. */
  readonly validate: boolean;
  /** class-validator options (whitelist, …) applied when validating. */
  readonly validation: ResolvedActionValidationOptions;
  /** Tracing: each handler call gets its own span when tracing is on. */
  readonly telemetry?: GomesTelemetry;
  /**
   * Each handler call runs in the causation scope of its message, so bus calls inside it inherit
   * its ids (`GomesOptions.inheritCausation`). @default false
   */
  readonly inheritCausation?: boolean;
}

/**
 * Finds the handlers of a message's `route`, turns the payload into the action class (nested
 * `@Type` classes included), validates it and calls the handler(s). Commands and queries have one handler, whose result is the result;
 * events run every local handler and fail if any failed.
 *
 * Two entries, one behaviour: {@link ActionDispatcher.handle} is the terminal step of every consumer
 * pipeline (it returns the reply message: payload = handler result, causationId = the request's
 * messageId); {@link ActionDispatcher.invoke} serves the in-process buses and resolves to the
 * handler's result itself (no reply message is built).
 *
 * Errors: no route / unknown route → `GOMES_HANDLER_NOT_FOUND`, invalid payload →
 * `GOMES_VALIDATION`; both non-retriable, so they go straight to the dead-letter channel.
 *
 * @internal
 */
export class ActionDispatcher {
  readonly #registry: ActionRegistry;
  readonly #options: ActionDispatcherOptions;

  constructor(registry: ActionRegistry, options: ActionDispatcherOptions) {
    this.#registry = registry;
    this.#options = options;
  }

  /** The pipeline terminal step: handles `message`; commands and queries return their reply. */
  readonly handle: MessageHandlerFn = async (message, context) => {
    const entry = this.#entry(message);
    // Awaited only when it is a promise: a handler that finished synchronously costs no extra one.
    const pending = this.#run(entry, message, context);
    const result = isThenable(pending) ? await pending : pending;
    if (entry.descriptor.kind === 'event') return undefined;
    const reply = MessageBuilder.withPayload(result).messageType('Document').causationId(message.messageId);
    if (message.correlationId !== undefined) reply.correlationId(message.correlationId);
    return reply.build();
  };

  /**
   * Runs the handler(s) of `source` in process; resolves to the handler's result (`undefined` for
   * events). Never throws: failures reject.
   */
  // Not `async`: the handler's own promise is handed back, without an extra hop per call.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  invoke(source: DispatchSource, context: ProcessingContext): Promise<unknown> {
    try {
      return Promise.resolve(this.#run(this.#entry(source), source, context));
    } catch (error) {
      // Rejects with what was thrown, as an `async` function would.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  #entry(source: DispatchSource): ActionEntry {
    const route = source.route;
    const entry = route === undefined ? undefined : this.#registry.get(route);
    if (!entry) {
      throw new GomesError(
        'HANDLER_NOT_FOUND',
        route === undefined ? 'Message has no route header' : `No handler is registered for "${route}"`,
        { details: { route, messageId: source.messageId } },
      );
    }
    return entry;
  }

  /**
   * Converts and validates the payload, then calls the handler(s). An in-process action the bus
   * validated at send (the action itself, or the copy `validateAction` restored and stripped) is
   * not validated again when it reaches the handler as that same object (same constraints, nothing
   * ran in between). May throw synchronously.
   */
  #run(entry: ActionEntry, source: DispatchSource, context: ProcessingContext): unknown {
    const action = toActionInstance(entry.action, source.payload, entry.descriptor.name);
    const validatedOnSend =
      source instanceof ActionEnvelope && source.validatedOnSend && action === source.payload;
    if (this.#options.validate && !validatedOnSend && needsValidation(action)) {
      return checkAction(action, entry.descriptor.name, this.#options.validation).then(() =>
        this.#handlers(entry, action, source, context),
      );
    }
    return this.#handlers(entry, action, source, context);
  }

  #handlers(entry: ActionEntry, action: object, source: DispatchSource, context: ProcessingContext): unknown {
    const handlers = entry.handlers;
    if (entry.descriptor.kind !== 'event') return this.#call(handlers[0]!, action, source, context);
    if (handlers.length === 1) return this.#callOne(handlers[0]!, action, source, context);
    return Promise.all(handlers.map(async (h) => this.#settle(h, action, source, context))).then((errors) => {
      const failures = errors.flatMap((error, i) =>
        error === undefined ? [] : [{ handler: handlers[i]!.handlerName, error }],
      );
      if (failures.length === 1) throw failures[0]!.error;
      if (failures.length > 1) {
        throw new GomesError(
          'HANDLER_FAILED',
          `${failures.length} handlers of event "${entry.descriptor.name}" failed: ` +
            failures.map((f) => `${f.handler}: ${f.error.message}`).join('; '),
          {
            cause: failures[0]!.error,
            retriable: failures.every((f) => (f.error as { retriable?: boolean }).retriable !== false),
          },
        );
      }
      return undefined;
    });
  }

  /**
   * One handler call: its result, or its own promise. May throw synchronously. With
   * `inheritCausation`, the call runs in the causation scope of `source`: bus calls inside it inherit
   * its ids, read (and, for an in-process envelope, made) only when such a call happens.
   */
  #call(h: HandlerDefinition, action: object, source: DispatchSource, context: ProcessingContext): unknown {
    return this.#options.inheritCausation
      ? runHandling(source, this.#callHandler, h, action, source, context)
      : this.#callHandler(h, action, source, context);
  }

  readonly #callHandler = (
    h: HandlerDefinition,
    action: object,
    source: DispatchSource,
    context: ProcessingContext,
  ): unknown => {
    const telemetry = this.#options.telemetry;
    if (telemetry?.tracing) {
      return traceHandler(telemetry, h.handlerName, messageOf(source), context.logger, async (logger) =>
        h.handle(action as never, new DispatchHandlerContext(source, context, logger)),
      );
    }
    return h.handle(action, new DispatchHandlerContext(source, context, undefined));
  };

  /**
   * The only handler of an event: `undefined`, or a promise of it, failing with the handler's error
   * as an Error (what `#settle` gives, without its two promises when the handler returns no
   * promise).
   */
  #callOne(
    h: HandlerDefinition,
    action: object,
    source: DispatchSource,
    context: ProcessingContext,
  ): unknown {
    let result: unknown;
    try {
      result = this.#call(h, action, source, context);
    } catch (error) {
      throw toError(error);
    }
    return isThenable(result) ? Promise.resolve(result).then(toUndefined, rethrowAsError) : undefined;
  }

  /** One event handler call, settled: `undefined` when it succeeded, else its error (as an Error). */
  async #settle(
    h: HandlerDefinition,
    action: object,
    source: DispatchSource,
    context: ProcessingContext,
  ): Promise<Error | undefined> {
    try {
      await this.#call(h, action, source, context);
      return undefined;
    } catch (error) {
      return toError(error);
    }
  }
}

/** Whether `value` is a promise or another thenable (what `await` waits for). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const toUndefined = (): undefined => undefined;

const rethrowAsError = (error: unknown): never => {
  throw toError(error);
};

/**
 * The pipeline terminal step of a registry (see {@link ActionDispatcher.handle}).
 *
 * @internal
 */
export function createActionDispatcher(
  registry: ActionRegistry,
  options: ActionDispatcherOptions,
): MessageHandlerFn {
  return new ActionDispatcher(registry, options).handle;
}
