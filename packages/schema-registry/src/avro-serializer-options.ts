import { ConfigurationError, getActionDescriptor, type ActionClass } from '@gomes/core';
import { getAvroSchema, parseAvroSchema, type ParsedAvroSchema } from './avro-schema.js';
import type { SubjectNameStrategy } from './subject-name-strategy.js';

/**
 * Options of an {@link AvroSerializer}.
 *
 * @public
 */
export interface AvroSerializerOptions {
  /**
   * The action classes written and read on the serializer's topics. Each class's `@AvroSchema` is
   * its writer schema on publish and reader schema on consume; a class without one writes with the
   * latest schema registered under its subject and is read with the writer's schema. `start()`
   * checks these (see `checkAtStart`). Other decorated classes are found from the payload on first use.
   * @default []
   */
  readonly actions: readonly ActionClass[];
  /** How schemas map to subjects. @default 'topic' (`<topic>-value`) */
  readonly subjectNameStrategy: SubjectNameStrategy;
  /**
   * Register writer schemas (at `start()` and on first use). Off in production, where schemas are
   * registered by a deployment step and an unregistered schema is an error; on in development.
   * @default false
   */
  readonly autoRegister: boolean;
  /**
   * At `start()`: each writer schema is registered (or registrable) and compatible with its
   * subject, each reader schema can read the subject's latest version; every problem fails
   * `start()` in one ConfigurationError. @default true
   */
  readonly checkAtStart: boolean;
}

/** Named option sets: `production` (the default) and `development`. @public */
export type AvroSerializerPreset = 'production' | 'development';

/** What each preset sets. @public */
export const AVRO_SERIALIZER_PRESETS: Readonly<
  Record<AvroSerializerPreset, Readonly<Pick<AvroSerializerOptions, 'autoRegister' | 'checkAtStart'>>>
> = Object.freeze({
  production: Object.freeze({ autoRegister: false, checkAtStart: true }),
  development: Object.freeze({ autoRegister: true, checkAtStart: true }),
});

/** Defaults of {@link AvroSerializerOptions} (the production preset). @public */
export const DEFAULT_AVRO_SERIALIZER_OPTIONS: Readonly<AvroSerializerOptions> = Object.freeze({
  actions: Object.freeze([]),
  subjectNameStrategy: 'topic',
  ...AVRO_SERIALIZER_PRESETS.production,
});

/** What `new AvroSerializer(registry, input)` accepts: options, optionally over a preset. @public */
export type AvroSerializerInput = Partial<AvroSerializerOptions> & {
  /** Base option set; explicit options override it. @default 'production' */
  readonly preset?: AvroSerializerPreset;
};

/** An action class with its parsed schema (if it has one). @internal */
export interface ActionSchema {
  readonly actionName: string;
  readonly action: ActionClass | undefined;
  readonly schema: ParsedAvroSchema | undefined;
}

const STRATEGIES = new Set(['topic', 'record', 'topic-record']);

/**
 * Resolves options over their preset and reads every action's schema.
 *
 * @throws ConfigurationError listing every problem (unknown option, undecorated class, invalid Avro
 * schema, a record strategy for a class without schema, ...).
 * @internal
 */
export function resolveAvroSerializerOptions(input: AvroSerializerInput): {
  options: AvroSerializerOptions;
  actions: ActionSchema[];
} {
  const problems: string[] = [];
  for (const key of Object.keys(input))
    if (key !== 'preset' && !(key in DEFAULT_AVRO_SERIALIZER_OPTIONS))
      problems.push(`unknown option "${key}"`);
  const preset = input.preset ?? 'production';
  if (!(preset in AVRO_SERIALIZER_PRESETS))
    problems.push(`preset must be "production" or "development", got ${JSON.stringify(preset)}`);
  const { preset: _preset, ...explicit } = input;
  const options: AvroSerializerOptions = {
    ...DEFAULT_AVRO_SERIALIZER_OPTIONS,
    ...(AVRO_SERIALIZER_PRESETS[preset] ?? {}),
    ...explicit,
  };
  const strategy = options.subjectNameStrategy;
  if (typeof strategy !== 'function' && !STRATEGIES.has(strategy))
    problems.push(
      `subjectNameStrategy must be 'topic', 'record', 'topic-record' or a function, got ${JSON.stringify(strategy)}`,
    );
  for (const key of ['autoRegister', 'checkAtStart'] as const)
    if (typeof options[key] !== 'boolean') problems.push(`${key} must be a boolean`);
  const actions: ActionSchema[] = [];
  if (!Array.isArray(options.actions)) problems.push('actions must be an array of action classes');
  const seen = new Set<string>();
  const listed: readonly ActionClass[] = Array.isArray(options.actions) ? options.actions : [];
  for (const action of listed) {
    const entry = readActionSchema(action, problems);
    if (!entry) continue;
    if (seen.has(entry.actionName)) {
      problems.push(`action "${entry.actionName}" is listed twice`);
      continue;
    }
    seen.add(entry.actionName);
    if (strategy === 'record' || strategy === 'topic-record') {
      if (entry.schema?.fullName === undefined)
        problems.push(
          `action "${entry.actionName}" needs a named Avro schema (@AvroSchema with a record) for the "${strategy}" subject name strategy`,
        );
    }
    actions.push(entry);
  }
  ConfigurationError.throwIfAny(problems, 'Avro serializer options');
  return { options: Object.freeze({ ...options, actions: Object.freeze([...options.actions]) }), actions };
}

/** The schema entry of an action class, or `undefined` (with a problem) when it is not one. @internal */
export function readActionSchema(action: ActionClass, problems: string[]): ActionSchema | undefined {
  const descriptor = typeof action === 'function' ? getActionDescriptor(action) : undefined;
  const className = typeof action === 'function' ? action.name || '(anonymous class)' : String(action);
  if (!descriptor) {
    problems.push(`${className} is not an action class: decorate it with @Command, @Query or @Event`);
    return undefined;
  }
  const definition = getAvroSchema(action);
  if (definition === undefined) return { actionName: descriptor.name, action, schema: undefined };
  try {
    return { actionName: descriptor.name, action, schema: parseAvroSchema(definition) };
  } catch (error) {
    problems.push(
      `the @AvroSchema of action "${descriptor.name}" (${className}) is not a valid Avro schema: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}
