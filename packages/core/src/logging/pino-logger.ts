import type { LogFields, Logger } from './logger.js';

/**
 * The part of a pino logger that gomes uses, so `@gomes/core` needs no pino dependency.
 *
 * @public
 */
export interface PinoLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): PinoLike;
}

/**
 * Adapts a pino logger to the gomes {@link Logger}.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const gomes = createGomes({ logger: pinoLogger(pino()) });
 * ```
 * @public
 */
export function pinoLogger(pino: PinoLike): Logger {
  return {
    debug: (message: string, fields?: LogFields) => pino.debug({ ...fields }, message),
    info: (message: string, fields?: LogFields) => pino.info({ ...fields }, message),
    warn: (message: string, fields?: LogFields) => pino.warn({ ...fields }, message),
    error: (message: string, fields?: LogFields) => pino.error({ ...fields }, message),
    child: (bindings: LogFields) => pinoLogger(pino.child({ ...bindings })),
  };
}
