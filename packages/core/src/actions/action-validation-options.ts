/**
 * How actions are validated (`createGomes({ validation })`), on send and on receive. These are the
 * class-validator options of the same names; see docs/actions-and-handlers.md, "Validation".
 *
 * @example
 * ```ts
 * const gomes = createGomes({ validation: { whitelist: true, forbidNonWhitelisted: true } });
 * ```
 * @public
 */
export interface ActionValidationOptions {
  /**
   * Strip properties that carry no class-validator decorator (use `@Allow()` to keep one without a
   * constraint), at every nested level. On send the message carries the stripped copy (your object
   * is not modified); on receive the handler gets the stripped instance. Applies to classes that
   * have validation decorators (classes without any are not validated).
   * @default false
   */
  whitelist?: boolean;
  /** With `whitelist`: reject such properties (a `whitelistValidation` violation) instead of stripping them. @default false */
  forbidNonWhitelisted?: boolean;
}

/** Resolved {@link ActionValidationOptions}: every option set. @public */
export type ResolvedActionValidationOptions = Readonly<Required<ActionValidationOptions>>;

/** Defaults of {@link ActionValidationOptions}. @public */
export const DEFAULT_ACTION_VALIDATION_OPTIONS: ResolvedActionValidationOptions = Object.freeze({
  whitelist: false,
  forbidNonWhitelisted: false,
});

/**
 * Merges the defaults into `input` and lists every problem (unknown keys, non-boolean values,
 * `forbidNonWhitelisted` without `whitelist`), each prefixed `validation.`.
 *
 * @public
 */
export function resolveActionValidationOptions(input: ActionValidationOptions | undefined = {}): {
  options: ResolvedActionValidationOptions;
  problems: string[];
} {
  if (typeof input !== 'object' || input === null) {
    return {
      options: DEFAULT_ACTION_VALIDATION_OPTIONS,
      problems: [`validation must be an object (got ${String(input)})`],
    };
  }
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_ACTION_VALIDATION_OPTIONS)) problems.push(`validation: unknown option "${key}"`);
  }
  const options = {
    whitelist: input.whitelist ?? DEFAULT_ACTION_VALIDATION_OPTIONS.whitelist,
    forbidNonWhitelisted:
      input.forbidNonWhitelisted ?? DEFAULT_ACTION_VALIDATION_OPTIONS.forbidNonWhitelisted,
  };
  for (const key of Object.keys(DEFAULT_ACTION_VALIDATION_OPTIONS) as (keyof ActionValidationOptions)[]) {
    if (typeof options[key] !== 'boolean')
      problems.push(`validation.${key} must be a boolean (got ${String(options[key])})`);
  }
  if (options.forbidNonWhitelisted === true && options.whitelist !== true) {
    problems.push(
      'validation.forbidNonWhitelisted needs validation.whitelist: true (it has no effect alone)',
    );
  }
  return { options: Object.freeze(options), problems };
}
