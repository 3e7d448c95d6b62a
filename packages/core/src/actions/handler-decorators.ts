import type { ActionClass, ActionKind } from './action.js';
import { defineHandlerDescriptor } from './action-metadata.js';

function handlerDecorator(kind: ActionKind, action: ActionClass): ClassDecorator {
  return (target) => {
    defineHandlerDescriptor(target, { kind, action });
  };
}

/**
 * Marks a class as the handler of a command. It only records metadata: register an instance with
 * `gomes.addActionHandler(new CreateOrderHandler(deps))`.
 *
 * @example
 * ```ts
 * @CommandHandler(CreateOrder)
 * class CreateOrderHandler { async handle(cmd: CreateOrder, ctx: HandlerContext) { return 'id'; } }
 * ```
 * @public
 */
export function CommandHandler(command: ActionClass): ClassDecorator {
  return handlerDecorator('command', command);
}

/** Marks a class as the handler of a query (see {@link CommandHandler}). @public */
export function QueryHandler(query: ActionClass): ClassDecorator {
  return handlerDecorator('query', query);
}

/** Marks a class as a handler of an event; an event may have many (see {@link CommandHandler}). @public */
export function EventHandler(event: ActionClass): ClassDecorator {
  return handlerDecorator('event', event);
}
