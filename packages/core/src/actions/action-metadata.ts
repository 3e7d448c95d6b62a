import 'reflect-metadata';
import type { ActionClass, ActionDescriptor, ActionKind } from './action.js';

// The only module that touches reflect-metadata: decorators write inert metadata here and an
// explicit registration (`gomes.addActionHandler`) reads it.
const ACTION_KEY = Symbol.for('@gomes/core:action');
const HANDLER_KEY = Symbol.for('@gomes/core:handler');

/** What `@CommandHandler` / `@QueryHandler` / `@EventHandler` record on a handler class. @public */
export interface HandlerDescriptor {
  /** Kind of action handled. */
  readonly kind: ActionKind;
  /** The action class handled. */
  readonly action: ActionClass;
}

/** @internal */
export function defineActionDescriptor(target: object, descriptor: ActionDescriptor): void {
  Reflect.defineMetadata(ACTION_KEY, Object.freeze({ ...descriptor }), target);
}

/** The `@Command`/`@Query`/`@Event` metadata of a class, or `undefined`. @public */
export function getActionDescriptor(target: object): ActionDescriptor | undefined {
  return Reflect.getOwnMetadata(ACTION_KEY, target) as ActionDescriptor | undefined;
}

/** @internal */
export function defineHandlerDescriptor(target: object, descriptor: HandlerDescriptor): void {
  Reflect.defineMetadata(HANDLER_KEY, Object.freeze({ ...descriptor }), target);
}

/** The handler-decorator metadata of a class, or `undefined`. @public */
export function getHandlerDescriptor(target: object): HandlerDescriptor | undefined {
  return Reflect.getMetadata(HANDLER_KEY, target) as HandlerDescriptor | undefined;
}
