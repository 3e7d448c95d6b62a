import { GomesError } from '../errors/gomes-error.js';
import type { ActionClass, ActionKind, ResultOf } from './action.js';
import { getHandlerDescriptor } from './action-metadata.js';
import {
  defineBatchEventHandler,
  getBatchHandlerDescriptor,
  type BatchActionHandler,
  type BatchEventHandlerFn,
} from './batch-event-handler.js';
import { define, isDefinition } from './define-handler.js';
import type { HandlerContext } from './handler-context.js';

/**
 * A class-based handler: the shape decorated with `@CommandHandler` & co.
 *
 * @public
 */
export interface ActionHandler<A extends object = object, R = unknown> {
  /** Handles one action; what it returns is the command/query result. */
  handle(action: A, context: HandlerContext): Promise<R> | R;
}

/**
 * A registered handler: the primitive that the decorators desugar to. Create one with
 * {@link defineCommandHandler}, {@link defineQueryHandler} or {@link defineEventHandler}.
 *
 * @public
 */
export interface HandlerDefinition<A extends object = object, R = unknown> {
  /** Kind of action handled. */
  readonly kind: ActionKind;
  /** The action class. */
  readonly action: ActionClass<A>;
  /** The handler function (method syntax: definitions of any action fit `HandlerDefinition`). */
  handle(action: A, context: HandlerContext): Promise<R> | R;
  /** Name for logs and endpoint tables. */
  readonly handlerName: string;
}

/**
 * Defines a command handler without decorators.
 *
 * @example
 * ```ts
 * gomes.addActionHandler(defineCommandHandler(CreateOrder, async (cmd, ctx) => repo.create(cmd)));
 * ```
 * @public
 */
export function defineCommandHandler<A extends object>(
  action: ActionClass<A>,
  handle: (command: A, context: HandlerContext) => Promise<ResultOf<A>> | ResultOf<A>,
): HandlerDefinition<A, ResultOf<A>> {
  return define('command', action, handle);
}

/** Defines a query handler without decorators (see {@link defineCommandHandler}). @public */
export function defineQueryHandler<A extends object>(
  action: ActionClass<A>,
  handle: (query: A, context: HandlerContext) => Promise<ResultOf<A>> | ResultOf<A>,
): HandlerDefinition<A, ResultOf<A>> {
  return define('query', action, handle);
}

/** Defines an event handler without decorators; an event may have any number of handlers. @public */
export function defineEventHandler<A extends object>(
  action: ActionClass<A>,
  handle: (event: A, context: HandlerContext) => Promise<void> | void,
): HandlerDefinition<A, void> {
  return define('event', action, handle);
}

/** Anything `addActionHandler` accepts: a definition or an instance of a decorated handler class. @public */
export type HandlerRegistration =
  HandlerDefinition<never, unknown> | ActionHandler<never, unknown> | BatchActionHandler<never>;

/**
 * Turns what `addActionHandler` received into a definition, reading decorator metadata from the
 * handler's class.
 *
 * @throws GomesError `GOMES_CONFIGURATION` when it is neither a definition nor a decorated handler.
 * @internal
 */
export function toHandlerDefinition(registration: unknown): HandlerDefinition {
  if (isDefinition(registration)) return registration;
  if (typeof registration === 'object' && registration !== null) {
    const ctor = (registration as { constructor: object }).constructor;
    const descriptor = getHandlerDescriptor(ctor);
    const handle = (registration as Partial<ActionHandler>).handle;
    const batch = getBatchHandlerDescriptor(ctor);
    if (batch && typeof handle === 'function') {
      return defineBatchEventHandler(
        batch.event,
        (handle as unknown as BatchEventHandlerFn<object>).bind(registration),
        batch.options,
        (ctor as { name: string }).name,
      );
    }
    if (descriptor && typeof handle === 'function') {
      return define(
        descriptor.kind,
        descriptor.action,
        handle.bind(registration),
        (ctor as { name: string }).name,
      );
    }
  }
  throw new GomesError(
    'CONFIGURATION',
    'addActionHandler expects a handler defined with defineCommandHandler/defineQueryHandler/defineEventHandler/defineBatchEventHandler ' +
      'or an instance of a class decorated with @CommandHandler/@QueryHandler/@EventHandler/@BatchEventHandler that has a handle() method',
  );
}
