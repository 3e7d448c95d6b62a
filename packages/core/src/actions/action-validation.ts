import { getMetadataStorage, validate, type ValidationError as ClassValidatorError } from 'class-validator';
import { ValidationError, type ValidationViolation } from '../errors/validation-error.js';
import type { ActionClass } from './action.js';

function flatten(errors: readonly ClassValidatorError[], prefix = ''): ValidationViolation[] {
  return errors.flatMap((e) => {
    const property = prefix ? `${prefix}.${e.property}` : e.property;
    const own: ValidationViolation[] = e.constraints ? [{ property, constraints: { ...e.constraints } }] : [];
    return [...own, ...flatten(e.children ?? [], property)];
  });
}

/**
 * Validates an action with its class-validator decorators.
 *
 * @throws ValidationError (non-retriable) listing every constraint message.
 * @public
 */
export async function validateAction(action: object, actionName: string): Promise<void> {
  const errors = await validate(action, { forbidUnknownValues: false });
  if (errors.length > 0) throw new ValidationError(actionName, flatten(errors));
}

/** Per class: whether class-validator holds constraints for it (own or inherited). */
const hasConstraints = new WeakMap<object, boolean>();

/**
 * Whether {@link validateAction} could report anything for `action`: false when class-validator
 * has no validation metadata for its constructor (own or inherited), in which case `validate()`
 * returns no errors (gomes validates with `forbidUnknownValues: false`). Cached per class:
 * decorators register their metadata when the class is defined, before any message is dispatched.
 *
 * @internal
 */
export function needsValidation(action: object): boolean {
  const ctor: unknown = action.constructor;
  if (typeof ctor !== 'function') return true;
  let known = hasConstraints.get(ctor);
  if (known === undefined) {
    // The same lookup class-validator's executor makes for `validate(action, { forbidUnknownValues: false })`.
    known =
      getMetadataStorage().getTargetValidationMetadatas(
        ctor,
        undefined as unknown as string,
        false,
        false,
        undefined,
      ).length > 0;
    hasConstraints.set(ctor, known);
  }
  return known;
}

/**
 * Turns a received payload (a plain object after deserialisation) into an instance of the action
 * class without calling its constructor, so class-validator decorators apply.
 *
 * @internal
 */
export function toActionInstance<A extends object>(cls: ActionClass<A>, payload: unknown): A {
  if (payload instanceof cls) return payload;
  const instance = Object.create(cls.prototype as object) as A;
  if (typeof payload === 'object' && payload !== null) Object.assign(instance, payload);
  return instance;
}
