import type { Action } from '../actions/action.js';
import { ActionBus, NO_SEND_OPTIONS, type ActionBusDependencies } from './action-bus.js';
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
  // Not `async`: the caller awaits the handler's own promise (see ActionBus).
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  send<R>(query: Action<R>, options: SendActionOptions = NO_SEND_OPTIONS): Promise<R> {
    return this.request(query, options) as Promise<R>;
  }

  /** Sends a query and resolves to its `messageId` once accepted. */
  async sendAsync(query: object, options: SendActionOptions = NO_SEND_OPTIONS): Promise<string> {
    return this.post(query, options, false);
  }

  /** Raw send with an explicit route, waiting for the result. */
  async sendRaw(
    route: string,
    payload: unknown,
    options: SendActionOptions = NO_SEND_OPTIONS,
  ): Promise<unknown> {
    return this.requestRaw(route, payload, options);
  }

  /** Raw send with an explicit route, resolving to its `messageId` once accepted. */
  async sendRawAsync(
    route: string,
    payload: unknown,
    options: SendActionOptions = NO_SEND_OPTIONS,
  ): Promise<string> {
    return this.postRaw(route, payload, options, false);
  }
}
