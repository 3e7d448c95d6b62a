import type { ActionClass, ActionKind } from './action.js';
import type { HandlerContext } from './handler-context.js';
import type { HandlerDefinition } from './handler-definition.js';

const DEFINITION_BRAND = Symbol.for('@gomes/core:handler-definition');

/**
 * Makes a frozen, branded {@link HandlerDefinition} (what every `define*Handler` returns).
 *
 * @internal
 */
export function define<A extends object, R>(
  kind: ActionKind,
  action: ActionClass<A>,
  handle: (action: A, context: HandlerContext) => Promise<R> | R,
  handlerName?: string,
): HandlerDefinition<A, R> {
  const definition = {
    kind,
    action,
    handle,
    handlerName: handlerName ?? (handle.name || `${action.name}Handler`),
  };
  Object.defineProperty(definition, DEFINITION_BRAND, { value: true });
  return Object.freeze(definition);
}

/** Whether `value` was made by {@link define}. @internal */
export function isDefinition(value: unknown): value is HandlerDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[DEFINITION_BRAND] === true
  );
}
