import {
  getMetadataStorage,
  validate,
  type ValidationError as ClassValidatorError,
  type ValidatorOptions,
} from 'class-validator';
import { ValidationError, type ValidationViolation } from '../errors/validation-error.js';
import type { ActionClass } from './action.js';
import { hasTransformMetadata, restoreAction, UNSAFE_KEYS } from './action-transformer.js';
import {
  DEFAULT_ACTION_VALIDATION_OPTIONS,
  type ActionValidationOptions,
  type ResolvedActionValidationOptions,
} from './action-validation-options.js';

function flatten(errors: readonly ClassValidatorError[], prefix = ''): ValidationViolation[] {
  return errors.flatMap((e) => {
    const property = prefix ? `${prefix}.${e.property}` : e.property;
    const own: ValidationViolation[] = e.constraints ? [{ property, constraints: { ...e.constraints } }] : [];
    return [...own, ...flatten(e.children ?? [], property)];
  });
}

function validatorOptions(options: ActionValidationOptions): ValidatorOptions {
  return {
    forbidUnknownValues: false,
    whitelist: options.whitelist === true,
    forbidNonWhitelisted: options.forbidNonWhitelisted === true,
  };
}

/**
 * Validates `instance` in place (with `whitelist`, undeclared properties are deleted from it). For
 * instances gomes built itself (received payloads, copies made on send).
 *
 * @throws ValidationError (non-retriable) listing every constraint message.
 * @internal
 */
export async function checkAction(
  instance: object,
  actionName: string,
  options: ResolvedActionValidationOptions,
): Promise<void> {
  const errors = await validate(instance, validatorOptions(options));
  if (errors.length > 0) throw new ValidationError(actionName, flatten(errors));
}

/**
 * Validates an action with its class-validator decorators, as gomes does on send. When the
 * action's class has class-transformer metadata (`@Type`, …), a copy restored as on receive is
 * validated — so a nested object literal is checked as its declared class — and with `whitelist`
 * a copy is validated and stripped. `action` itself is never modified.
 *
 * @returns what was validated: `action`, or the restored copy (what gomes sends).
 * @throws ValidationError (non-retriable) listing every constraint message, nested ones as dotted
 * paths (`meta.requestedBy`, `items.0.sku`).
 * @public
 */
export async function validateAction<A extends object>(
  action: A,
  actionName: string,
  options: ActionValidationOptions = DEFAULT_ACTION_VALIDATION_OPTIONS,
): Promise<A> {
  const ctor: unknown = action.constructor;
  const copy =
    typeof ctor === 'function' && (options.whitelist === true || hasTransformMetadata(ctor))
      ? restoreAction(ctor as ActionClass<A>, action, actionName)
      : action;
  await checkAction(copy, actionName, { ...DEFAULT_ACTION_VALIDATION_OPTIONS, ...options });
  return copy;
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

function describePayload(payload: unknown): string {
  if (payload === null) return 'null';
  if (Array.isArray(payload)) return 'an array';
  return `a ${typeof payload}`;
}

/** Per action class: see {@link assignsPlainly}. */
const plainlyAssignable = new WeakMap<object, boolean>();

/**
 * Whether assigning a key to a new instance of `cls` makes the same own, writable, enumerable,
 * configurable data property as `Object.defineProperty` does: true when no prototype of `cls`
 * has an accessor or a read-only property (no setter can run, no assignment can fail), leaving out
 * `__proto__`, which is never assigned. Computed once per class (prototypes are not expected to
 * gain setters after their first message).
 */
function assignsPlainly(cls: ActionClass<object>): boolean {
  let known = plainlyAssignable.get(cls);
  if (known === undefined) {
    known = true;
    for (
      let proto = cls.prototype as object | null;
      known && proto !== null;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      for (const key of Reflect.ownKeys(proto)) {
        if (key === '__proto__') continue;
        const d = Object.getOwnPropertyDescriptor(proto, key);
        if (d !== undefined && (d.get !== undefined || d.set !== undefined || d.writable === false)) {
          known = false;
          break;
        }
      }
    }
    plainlyAssignable.set(cls, known);
  }
  return known;
}

/**
 * Turns a received payload (a plain object after deserialisation) into an instance of the action
 * class without calling its constructor, so class-validator decorators apply.
 *
 * - Classes with class-transformer metadata (`@Type`, `@Transform`, `@Expose`, `@Exclude`, own or
 *   inherited): restored by class-transformer ({@link restoreAction}), nested objects and arrays
 *   included — also when `payload` is already an instance (in process), since its nested values
 *   may be literals.
 * - Other classes (the fast path): an instance of the class is returned as is; otherwise only the
 *   payload's own enumerable string keys are copied, each as a plain data property
 *   (`Object.defineProperty`, so no setter runs).
 *
 * Either way `__proto__`, `constructor` and `prototype` are skipped, so a JSON payload cannot
 * replace the instance's prototype (and escape validation). An `undefined` payload gives an
 * instance with no fields.
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
  if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload))) {
    throw new ValidationError(actionName, [
      {
        property: '(payload)',
        constraints: { isObject: `the payload must be a JSON object, got ${describePayload(payload)}` },
      },
    ]);
  }
  if (hasTransformMetadata(cls)) return restoreAction(cls, payload ?? {}, actionName);
  if (payload instanceof cls) return payload;
  const instance = Object.create(cls.prototype as object) as A;
  if (payload !== undefined && assignsPlainly(cls)) {
    // Same own data properties as the defineProperty loop below, made on V8's fast path.
    const target = instance as Record<string, unknown>;
    const source = payload as Record<string, unknown>;
    for (const key of Object.keys(source)) if (!UNSAFE_KEYS.has(key)) target[key] = source[key];
  } else if (payload !== undefined) {
    for (const key of Object.keys(payload)) {
      if (UNSAFE_KEYS.has(key)) continue;
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
