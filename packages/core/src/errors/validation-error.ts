import { GomesError } from './gomes-error.js';

/** One failed property of a validated payload. @public */
export interface ValidationViolation {
  /** Property path, dotted for nested objects. */
  property: string;
  /** class-validator constraint messages, by constraint name. */
  constraints: Readonly<Record<string, string>>;
}

/**
 * A command, query or event payload failed validation. Never retriable: on send nothing is sent; on
 * receive the message goes to the dead-letter channel with these messages as the reason.
 *
 * @public
 */
export class ValidationError extends GomesError {
  /** Every violation found. */
  readonly violations: readonly ValidationViolation[];

  constructor(actionName: string, violations: readonly ValidationViolation[]) {
    const lines = violations.flatMap((v) => Object.values(v.constraints).map((m) => `${v.property}: ${m}`));
    super('VALIDATION', `Invalid ${actionName}: ${lines.join('; ')}`, {
      details: { actionName, violations },
    });
    this.name = 'ValidationError';
    this.violations = Object.freeze([...violations]);
  }
}
