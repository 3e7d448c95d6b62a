import { GomesError } from '../errors/gomes-error.js';
import { withArticle, type ActionClass, type ActionDescriptor } from './action.js';
import { getActionDescriptor } from './action-metadata.js';
import { nestedTypeProblems } from './action-transformer.js';
import type { HandlerDefinition } from './handler-definition.js';

/** One registered action with its handlers. @internal */
export interface ActionEntry {
  readonly descriptor: ActionDescriptor;
  readonly action: ActionClass;
  readonly handlers: HandlerDefinition[];
}

/**
 * The handlers of one gomes instance, by action name. Registration never throws for configuration
 * mistakes: it records them, and `start()` reports them all in one ConfigurationError.
 *
 * @internal
 */
export class ActionRegistry {
  readonly #byName = new Map<string, ActionEntry>();
  readonly #byClass = new Map<ActionClass, ActionDescriptor>();
  readonly #problems: string[] = [];

  /** Adds a handler. */
  register(definition: HandlerDefinition): void {
    const descriptor = getActionDescriptor(definition.action);
    const className = definition.action.name || '(anonymous class)';
    if (!descriptor) {
      this.#problems.push(
        `handler ${definition.handlerName} handles ${className}, which is not decorated with @Command, @Query or @Event`,
      );
      return;
    }
    if (descriptor.kind !== definition.kind) {
      this.#problems.push(
        `handler ${definition.handlerName} is ${withArticle(definition.kind)} handler but ${className} is ${withArticle(descriptor.kind)}`,
      );
      return;
    }
    const entry = this.#byName.get(descriptor.name);
    if (entry && entry.action !== definition.action) {
      this.#problems.push(
        `action name "${descriptor.name}" is used by two classes: ${entry.action.name} and ${className}`,
      );
      return;
    }
    if (entry && descriptor.kind !== 'event' && entry.handlers.length > 0) {
      this.#problems.push(
        `${descriptor.kind} "${descriptor.name}" has more than one handler (${entry.handlers[0]!.handlerName} and ${definition.handlerName}); a ${descriptor.kind} has exactly one`,
      );
      return;
    }
    if (entry) entry.handlers.push(definition);
    else {
      this.#byName.set(descriptor.name, { descriptor, action: definition.action, handlers: [definition] });
      this.#problems.push(...nestedTypeProblems(definition.action));
    }
    this.#byClass.set(definition.action, descriptor);
  }

  /** Problems found while registering. */
  problems(): readonly string[] {
    return this.#problems;
  }

  /** The entry for a route, or `undefined`. */
  get(name: string): ActionEntry | undefined {
    return this.#byName.get(name);
  }

  /** Every entry. */
  entries(): readonly ActionEntry[] {
    return [...this.#byName.values()];
  }

  /**
   * The descriptor of an action instance's class (whether or not it has a local handler).
   *
   * @throws GomesError `GOMES_CONFIGURATION` when the class is not decorated.
   */
  describe(action: object): ActionDescriptor {
    const ctor = action.constructor as ActionClass;
    const descriptor = this.#byClass.get(ctor) ?? getActionDescriptor(ctor);
    if (!descriptor) {
      throw new GomesError(
        'CONFIGURATION',
        `${ctor.name || 'this object'} is not an action: decorate its class with @Command, @Query or @Event`,
      );
    }
    return descriptor;
  }
}
