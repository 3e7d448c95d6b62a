/** Structured fields attached to a log line. @public */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logger gomes writes to. Inject one through `createGomes({ logger })`; the default writes
 * nothing. gomes never calls `console.*`.
 *
 * @public
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
}

/** A logger that drops everything. @public */
export const noopLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => noopLogger,
});
