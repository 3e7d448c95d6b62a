import type { Action } from '../actions/action.js';
import { ActionBus, type ActionBusDependencies } from './action-bus.js';
import type { SendActionOptions } from './send-action-options.js';

/**
 * Sends queries; same shape as {@link CommandBus}.
 *
 * @example
 * ```ts
 * const order: OrderView = await gomes.queryBus().send(new GetOrder(id));
 * ```
 * @public
 */
export class QueryBus extends ActionBus {
  /** @internal */
  constructor(deps: ActionBusDependencies) {
    super('query', deps);
  }

  /** Sends a query and resolves to its handler's result (request-reply over a channel). */
  async send<R>(query: Action<R>, options: SendActionOptions = {}): Promise<R> {
    return (await this.dispatch(query, options, true)) as R;
  }

  /** Sends a query and resolves once accepted. */
  async sendAsync(query: object, options: SendActionOptions = {}): Promise<void> {
    await this.dispatch(query, options, false);
  }

  /** Raw send with an explicit route, waiting for the result. */
  async sendRaw(route: string, payload: unknown, options: SendActionOptions = {}): Promise<unknown> {
    return this.dispatchRaw(route, payload, options, true);
  }

  /** Raw send with an explicit route, resolving once accepted. */
  async sendRawAsync(route: string, payload: unknown, options: SendActionOptions = {}): Promise<void> {
    await this.dispatchRaw(route, payload, options, false);
  }
}
