/**
 * Options merged over their defaults, with every problem found (empty when valid).
 *
 * @public
 */
export interface ResolvedOptions<T> {
  /** The defaults with every defined input value over them. */
  readonly options: T;
  /** Every problem: unknown keys first, then what `validate` found. */
  readonly problems: string[];
}

/**
 * The one options helper of gomes: merges `input` over `defaults` (an `undefined` value keeps the
 * default), reports each key `defaults` does not have as unknown (`unknownKey(key)` words it), then
 * runs `validate` on the merged options so that every problem is listed at once.
 *
 * @param defaults - Every known option with its default; its keys are the known keys.
 * @param input - What the user gave; not an object: one problem, and the defaults.
 * @param validate - The problems of the merged options (empty when valid).
 * @param unknownKey - The problem text of an unknown key (e.g. `unknown option "x"`).
 * @example
 * ```ts
 * const { options, problems } = resolveOptions(DEFAULTS, input, checkRanges, (k) => `unknown option "${k}"`);
 * ConfigurationError.throwIfAny(problems, 'my transport');
 * ```
 * @public
 */
export function resolveOptions<T extends object>(
  defaults: Readonly<T>,
  input: Partial<T> | undefined,
  validate: (options: T) => readonly string[],
  unknownKey: (key: string) => string,
): ResolvedOptions<T> {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null) {
    return { options: { ...defaults }, problems: [`options must be an object (got ${String(input)})`] };
  }
  const problems = Object.keys(input)
    .filter((key) => !(key in defaults))
    .map(unknownKey);
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
  const options = { ...defaults, ...defined };
  problems.push(...validate(options));
  return { options, problems };
}
