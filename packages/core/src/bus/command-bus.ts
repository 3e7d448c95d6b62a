import type { Action } from '../actions/action.js';
import { ActionBus, type ActionBusDependencies } from './action-bus.js';
import type { SendActionOptions } from './send-action-options.js';

/**
 * Sends commands. `gomes.commandBus()` runs the local handler in process;
 * `gomes.commandBusByChannel(name)` sends over a publisher channel.
 *
 * @example
 * ```ts
 * const id = await gomes.commandBus().send(new CreateOrder('c-1'));
 * ```
 * @public
 */
export class CommandBus extends ActionBus {
  /** @internal */
  constructor(deps: ActionBusDependencies) {
    super('command', deps);
  }

  /**
   * Sends a command and resolves to its handler's result. Over a channel this is request-reply: it
   * needs a reply channel on the publisher and waits up to `timeoutMs`.
   */
  async send<R>(command: Action<R>, options: SendActionOptions = {}): Promise<R> {
    return (await this.dispatch(command, options, true)).result as R;
  }

  /** Sends a command and resolves to its `messageId` once the channel accepted it (in process: once it is scheduled). */
  async sendAsync(command: object, options: SendActionOptions = {}): Promise<string> {
    return (await this.dispatch(command, options, false)).messageId;
  }

  /** Sends a raw payload with an explicit route, waiting for the result (no class, no validation). */
  async sendRaw(route: string, payload: unknown, options: SendActionOptions = {}): Promise<unknown> {
    return (await this.dispatchRaw(route, payload, options, true)).result;
  }

  /** Sends a raw payload with an explicit route, resolving to its `messageId` once accepted. */
  async sendRawAsync(route: string, payload: unknown, options: SendActionOptions = {}): Promise<string> {
    return (await this.dispatchRaw(route, payload, options, false)).messageId;
  }
}
