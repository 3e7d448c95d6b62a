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
    return (await this.dispatch(query, options, true)).result as R;
  }

  /** Sends a query and resolves to its `messageId` once accepted. */
  async sendAsync(query: object, options: SendActionOptions = {}): Promise<string> {
    return (await this.dispatch(query, options, false)).messageId;
  }

  /** Raw send with an explicit route, waiting for the result. */
  async sendRaw(route: string, payload: unknown, options: SendActionOptions = {}): Promise<unknown> {
    return (await this.dispatchRaw(route, payload, options, true)).result;
  }

  /** Raw send with an explicit route, resolving to its `messageId` once accepted. */
  async sendRawAsync(route: string, payload: unknown, options: SendActionOptions = {}): Promise<string> {
    return (await this.dispatchRaw(route, payload, options, false)).messageId;
  }
}
