import { Gomes } from './gomes.js';
import type { GomesOptions } from './gomes-options.js';

/**
 * Creates an independent gomes instance.
 *
 * @example
 * ```ts
 * const app = createGomes({ logger: pinoLogger(pino()) });
 * app.addActionHandler(new CreateOrderHandler());
 * await app.start();
 * ```
 * @public
 */
export function createGomes(options: Partial<GomesOptions> = {}): Gomes {
  return new Gomes(options);
}

/**
 * The default instance, for applications that need just one (Go gomes' package-level API). It is an
 * ordinary instance: tests should use `createGomes()` instead.
 *
 * @public
 */
export const gomes: Gomes = createGomes();
