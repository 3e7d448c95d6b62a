import type { ActionKind, SubjectOf } from './action.js';
import { defineActionDescriptor } from './action-metadata.js';

/** Options of the action decorators. @public */
export interface ActionDecoratorOptions {
  /** Contract version written to the `version` header (default `1.0`). */
  version?: string;
  /**
   * Derives the subject of each sent action (header `gomes.subject`, CloudEvents `subject`):
   * `(e: OrderPlaced) => e.orderId`. Called with the action as sent (validated copy included);
   * `undefined` or `''` sets none; the bus option `subject` overrides it.
   */
  subject?: SubjectOf;
}

function actionDecorator(kind: ActionKind, name: string, options: ActionDecoratorOptions): ClassDecorator {
  return (target) => {
    defineActionDescriptor(target, {
      kind,
      name,
      version: options.version,
      ...(options.subject === undefined ? {} : { subject: options.subject }),
    });
  };
}

/**
 * Names a command class. The name is the wire `route`: keep it stable (renaming it is a breaking
 * change for other services).
 *
 * @example
 * ```ts
 * @Command('createOrder') class CreateOrder extends Action<string> { ... }
 * ```
 * @public
 */
export function Command(name: string, options: ActionDecoratorOptions = {}): ClassDecorator {
  return actionDecorator('command', name, options);
}

/** Names a query class (see {@link Command}). @public */
export function Query(name: string, options: ActionDecoratorOptions = {}): ClassDecorator {
  return actionDecorator('query', name, options);
}

/** Names an event class (see {@link Command}). @public */
export function Event(name: string, options: ActionDecoratorOptions = {}): ClassDecorator {
  return actionDecorator('event', name, options);
}
