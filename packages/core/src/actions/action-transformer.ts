import 'reflect-metadata';
import { plainToClassFromExist, TransformationType, Type } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { ValidationError } from '../errors/validation-error.js';
import type { ActionClass } from './action.js';

// Turning payloads into action classes with class-transformer (`@Type` and friends). class-transformer
// keeps its decorator metadata in a module-level storage, so gomes reads the storage of the copy it
// depends on (pinned; `Type` is re-exported by `@gomes/core` so users write to the same copy).

/** The private maps of class-transformer's storage, one entry per decorated class. */
const STORAGE_MAPS = ['_typeMetadatas', '_transformMetadatas', '_exposeMetadatas', '_excludeMetadatas'];

/**
 * Whether the storage gomes reads is the one class-transformer's decorators write to. It is not when
 * a bundler resolves `class-transformer` to its ES build but the storage path to the CommonJS one;
 * gomes then cannot tell which classes have metadata and restores every payload with
 * class-transformer (slower, still correct).
 */
const storageIsShared: boolean = (() => {
  class Probe {
    nested?: object;
  }
  Type(() => Object)(Probe.prototype, 'nested');
  return defaultMetadataStorage.findTypeMetadata(Probe, 'nested') !== undefined;
})();

/**
 * The storage's maps (created once, never replaced), or `undefined` when they are not readable or
 * the storage is not shared: then every class counts as having metadata.
 */
const storageMaps: readonly Map<unknown, unknown>[] | undefined = (() => {
  if (!storageIsShared) return undefined;
  const storage = defaultMetadataStorage as unknown as Record<string, unknown>;
  const maps = STORAGE_MAPS.map((key) => storage[key]);
  return maps.every((m) => m instanceof Map) ? (maps as Map<unknown, unknown>[]) : undefined;
})();

/** Entries in the storage's maps: grows whenever a class gets its first metadata of a kind. */
function storageGeneration(maps: readonly Map<unknown, unknown>[]): number {
  let size = 0;
  for (const map of maps) size += map.size;
  return size;
}

/**
 * Per class: `true` once class-transformer holds metadata for it (never removed), or — for a
 * negative answer — the storage generation when it was computed, reused while unchanged (a
 * decorator applied later adds an entry). The same memo as class-validator's in action-validation.ts.
 */
const hasMetadata = new WeakMap<object, true | number>();

function lookup(cls: object, maps: readonly Map<unknown, unknown>[]): boolean {
  for (
    let c: unknown = cls;
    typeof c === 'function' && c !== Function.prototype;
    c = Object.getPrototypeOf(c)
  ) {
    for (const map of maps) if (map.has(c)) return true;
  }
  return false;
}

/**
 * Whether payloads of `cls` must go through class-transformer: the class or an ancestor has
 * `@Type`, `@Transform`, `@Expose` or `@Exclude` metadata. Memoised per class; stays correct when
 * decorators register metadata after the first lookup.
 *
 * @internal
 */
export function hasTransformMetadata(cls: object): boolean {
  const maps = storageMaps;
  if (maps === undefined) return true;
  const known = hasMetadata.get(cls);
  if (known === true) return true;
  const generation = storageGeneration(maps);
  if (known === generation) return false;
  const found = lookup(cls, maps);
  hasMetadata.set(cls, found ? true : generation);
  return found;
}

/** Own keys never copied from a payload: they would replace the prototype or shadow the class. @internal */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A new instance of `cls` (its constructor is not called) filled from `source` by class-transformer:
 * nested objects and arrays declared with `@Type` become instances of their classes (built with
 * `new Type()`, no arguments), other objects are copied. The top-level keys in {@link UNSAFE_KEYS}
 * are skipped (class-transformer itself skips `__proto__` and `constructor` at every level). `source`
 * is not modified (except by a `@Type` discriminator, which removes its property unless
 * `keepDiscriminatorProperty`).
 *
 * @throws ValidationError (non-retriable) when class-transformer fails (e.g. a nested constructor
 * throws): the same payload would fail again.
 * @internal
 */
export function restoreAction<A extends object>(cls: ActionClass<A>, source: object, actionName: string): A {
  // A plain copy of the own keys: class-transformer takes the target class from `source.constructor`
  // unless the value is a plain object, so a payload key "constructor" must not reach it.
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (!UNSAFE_KEYS.has(key)) plain[key] = (source as Record<string, unknown>)[key];
  }
  const instance = Object.create(cls.prototype as object) as A;
  try {
    return plainToClassFromExist(instance, plain);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError(actionName, [
      {
        property: '(payload)',
        constraints: { classTransformer: `could not be turned into ${cls.name}: ${reason}` },
      },
    ]);
  }
}

function typeOf(cls: object, property: string): unknown {
  return Reflect.getMetadata('design:type', (cls as { prototype: object }).prototype, property);
}

/** The classes a `@Type` metadata can produce (its type and any discriminator sub-types). */
function nestedClasses(cls: ActionClass, property: string): ActionClass[] {
  const metadata = defaultMetadataStorage.findTypeMetadata(cls, property);
  if (!metadata) return [];
  const found: unknown[] = [];
  try {
    found.push(metadata.typeFunction({ newObject: {}, object: {}, property }));
  } catch {
    // A type function that needs a real payload: nothing to check statically.
  }
  for (const sub of metadata.options?.discriminator?.subTypes ?? []) found.push(sub.value);
  return found.filter((c): c is ActionClass => typeof c === 'function');
}

/**
 * Configuration problems of `cls` and the classes nested in it: a `@ValidateNested()` property
 * without `@Type()` (or a `@Transform()`) is never validated on receive — its value stays a plain
 * object, which class-validator skips. Listed by `start()`.
 *
 * @internal
 */
export function nestedTypeProblems(cls: ActionClass): string[] {
  const problems: string[] = [];
  const seen = new Set<ActionClass>();
  const visit = (target: ActionClass, path: string): void => {
    if (seen.has(target)) return;
    seen.add(target);
    const nested = getMetadataStorage()
      .getTargetValidationMetadatas(target, undefined as unknown as string, false, false, undefined)
      .filter((m) => m.type === ValidationTypes.NESTED_VALIDATION);
    for (const property of new Set(nested.map((m) => m.propertyName))) {
      const where = `${path}.${property}`;
      if (storageIsShared && defaultMetadataStorage.findTypeMetadata(target, property) === undefined) {
        const transformed =
          defaultMetadataStorage.findTransformMetadatas(target, property, TransformationType.PLAIN_TO_CLASS)
            .length > 0;
        if (!transformed) {
          const declared = typeOf(target, property);
          const hint =
            typeof declared === 'function' && declared !== Array && declared !== Object
              ? `@Type(() => ${declared.name})`
              : '@Type(() => TheNestedClass)';
          problems.push(
            `${where} has @ValidateNested() but no @Type(): received values stay plain objects and are not validated; add ${hint} (import { Type } from '@gomes/core')`,
          );
        }
        continue;
      }
      for (const child of nestedClasses(target, property)) visit(child, where);
    }
  };
  visit(cls, cls.name || '(anonymous class)');
  return problems;
}
