import { GomesError } from './gomes-error.js';

/**
 * Thrown by `start()` and by builders when the configuration is invalid. It lists every problem at
 * once, in `problems` and in the message, so a user fixes them all in one go.
 *
 * @public
 */
export class ConfigurationError extends GomesError {
  /** Every problem found, one sentence each. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], context = 'configuration') {
    super(
      'CONFIGURATION',
      `Invalid ${context} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
      { details: { problems } },
    );
    this.name = 'ConfigurationError';
    this.problems = Object.freeze([...problems]);
  }

  /** Throws a ConfigurationError when `problems` is not empty. */
  static throwIfAny(problems: readonly string[], context?: string): void {
    if (problems.length > 0) throw new ConfigurationError(problems, context);
  }
}
