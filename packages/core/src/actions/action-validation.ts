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

/**
 * Per class: `true` once class-validator holds constraints for it (metadata is never removed, so a
 * positive answer stays true), or — for a negative answer — the size of class-validator's metadata
 * map when it was computed. A negative answer is reused only while that size is unchanged: a
 * decorator applied later (to the class or an ancestor, which had no metadata before) adds an entry,
 * so the lookup is made again. A pure memo: it never changes what {@link needsValidation} returns.
 */
const hasConstraints = new WeakMap<object, true | number>();

/** Targets with validation metadata in class-validator's storage, when readable (a private field). */
function metadataTargets(storage: object): number | undefined {
  const map = (storage as { validationMetadatas?: unknown }).validationMetadatas;
  return map instanceof Map ? map.size : undefined;
}

/**
 * Whether {@link validateAction} could report anything for `action`: false when class-validator
 * has no validation metadata for its constructor (own or inherited), in which case `validate()`
 * returns no errors (gomes validates with `forbidUnknownValues: false`). Memoised per class (see
 * `hasConstraints`), staying correct when decorators register metadata after the first lookup.
 *
 * @internal
 */
export function needsValidation(action: object): boolean {
  const ctor: unknown = action.constructor;
  if (typeof ctor !== 'function') return true;
  const storage = getMetadataStorage();
  const known = hasConstraints.get(ctor);
  if (known === true) return true;
  const targets = metadataTargets(storage);
  if (known !== undefined && known === targets) return false;
  // The same lookup class-validator's executor makes for `validate(action, { forbidUnknownValues: false })`.
  const found =
    storage.getTargetValidationMetadatas(ctor, undefined as unknown as string, false, false, undefined)
      .length > 0;
  if (found) hasConstraints.set(ctor, true);
  else if (targets !== undefined) hasConstraints.set(ctor, targets);
  return found;
}

/** Own keys never copied from a payload: they would replace the prototype or shadow the class. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function describePayload(payload: unknown): string {
  if (payload === null) return 'null';
  if (Array.isArray(payload)) return 'an array';
  return `a ${typeof payload}`;
}

/**
 * Turns a received payload (a plain object after deserialisation) into an instance of the action
 * class without calling its constructor, so class-validator decorators apply.
 *
 * Only the payload's own enumerable string keys are copied, each as a plain data property
 * (`Object.defineProperty`, so no setter runs); `__proto__`, `constructor` and `prototype` are
 * skipped, so a JSON payload cannot replace the instance's prototype (and escape validation). An
 * `undefined` payload gives an instance with no fields.
 *
 * @throws ValidationError (non-retriable) when the payload is not an object (null, an array, a
 * string, a number, a boolean): it cannot be the fields of an action class.
 * @internal
 */
export function toActionInstance<A extends object>(
  cls: ActionClass<A>,
  payload: unknown,
  actionName: string = cls.name,
): A {
  if (payload instanceof cls) return payload;
  if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload))) {
    throw new ValidationError(actionName, [
      {
        property: '(payload)',
        constraints: { isObject: `the payload must be a JSON object, got ${describePayload(payload)}` },
      },
    ]);
  }
  const instance = Object.create(cls.prototype as object) as A;
  if (payload !== undefined) {
    for (const key of Object.keys(payload)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      Object.defineProperty(instance, key, {
        value: (payload as Record<string, unknown>)[key],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }
  return instance;
}
