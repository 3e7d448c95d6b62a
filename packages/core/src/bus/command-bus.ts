import type { Action } from '../actions/action.js';
import { ActionBus, NO_SEND_OPTIONS, type ActionBusDependencies } from './action-bus.js';
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
  // Not `async`: the caller awaits the handler's own promise (see ActionBus).
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  send<R>(command: Action<R>, options: SendActionOptions = NO_SEND_OPTIONS): Promise<R> {
    return this.request(command, options) as Promise<R>;
  }

  /** Sends a command and resolves to its `messageId` once the channel accepted it (in process: once it is scheduled). */
  async sendAsync(command: object, options: SendActionOptions = NO_SEND_OPTIONS): Promise<string> {
    return this.post(command, options, false);
  }

  /** Sends a raw payload with an explicit route, waiting for the result (no class, no validation). */
  async sendRaw(
    route: string,
    payload: unknown,
    options: SendActionOptions = NO_SEND_OPTIONS,
  ): Promise<unknown> {
    return this.requestRaw(route, payload, options);
  }

  /** Sends a raw payload with an explicit route, resolving to its `messageId` once accepted. */
  async sendRawAsync(
    route: string,
    payload: unknown,
    options: SendActionOptions = NO_SEND_OPTIONS,
  ): Promise<string> {
    return this.postRaw(route, payload, options, false);
  }
}
