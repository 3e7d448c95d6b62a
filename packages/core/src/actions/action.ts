declare const RESULT_TYPE: unique symbol;

/**
 * Optional base class of commands, queries and events that carries the handler's result type, so
 * `commandBus().send(cmd)` infers it.
 *
 * @example
 * ```ts
 * @Command('createOrder')
 * class CreateOrder extends Action<string> { @IsString() customerId!: string; }
 * const orderId: string = await gomes.commandBus().send(new CreateOrder());
 * ```
 * @typeParam TResult - what the handler returns
 * @public
 */
export abstract class Action<TResult = void> {
  /** Type-only marker; never present at run time. */
  declare readonly [RESULT_TYPE]?: TResult;
}

/** The result type of an action class instance. @public */
export type ResultOf<A> = A extends Action<infer R> ? R : unknown;

/** What an action is. @public */
export type ActionKind = 'command' | 'query' | 'event';

/** A class whose instances are actions (any constructor). @public */
export type ActionClass<A extends object = object> = abstract new (...args: never[]) => A;

/** What `@Command` / `@Query` / `@Event` record on a class. @public */
export interface ActionDescriptor {
  /** command, query or event. */
  readonly kind: ActionKind;
  /** Wire name: the `route` header (e.g. `createOrder`). Unique per gomes instance. */
  readonly name: string;
  /** Contract version written to the `version` header. */
  readonly version: string | undefined;
  /**
   * Derives the subject of a sent action (header `gomes.subject`, CloudEvents `subject`) from the
   * action; `undefined` or `''` sets none. The bus option `subject` overrides it.
   */
  readonly subject?: SubjectOf;
}

/**
 * A function of an action that returns its subject (see `ActionDecoratorOptions.subject`). Typed
 * with a `never` parameter so a function of any action class fits: `(e: OrderPlaced) => e.orderId`.
 *
 * @public
 */
export type SubjectOf = (action: never) => string | undefined;

/** An action kind with its indefinite article, for messages: `a command`, `a query`, `an event`. @internal */
export function withArticle(kind: ActionKind): string {
  return kind === 'event' ? 'an event' : `a ${kind}`;
}

/** The `messageType` header value of an action kind. @internal */
export function messageTypeOf(kind: ActionKind): 'Command' | 'Query' | 'Event' {
  return kind === 'command' ? 'Command' : kind === 'query' ? 'Query' : 'Event';
}
