import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * A secret value (password, private key) that never shows up in logs: `String()`, `JSON.stringify`
 * and `util.inspect` all print `[REDACTED]`. Read it with {@link Secret.reveal} only where a client
 * needs it.
 *
 * @example
 * ```ts
 * const password = Secret.of(process.env.KAFKA_PASSWORD ?? '');
 * JSON.stringify({ password }); // {"password":"[REDACTED]"}
 * ```
 * @public
 */
export class Secret {
  readonly #value: string;

  private constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  /** Wraps `value` (a Secret is returned as it is). */
  static of(value: string | Secret): Secret {
    return value instanceof Secret ? value : new Secret(value);
  }

  /** The secret itself. Never log it. */
  reveal(): string {
    return this.#value;
  }

  /** Whether the secret is the empty string. */
  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  /** Always `[REDACTED]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[REDACTED]`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Always `[REDACTED]`. */
  [inspect.custom](): string {
    return REDACTED;
  }
}
