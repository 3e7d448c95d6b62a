import { ActionBus, NO_SEND_OPTIONS, type ActionBusDependencies } from './action-bus.js';
import type { SendActionOptions } from './send-action-options.js';

/**
 * Publishes events. In process (`gomes.eventBus()`), `publish` runs every local handler of the event
 * and resolves when all finished (rejecting if any failed). Over a channel
 * (`gomes.eventBusByChannel(name)`), it resolves once the channel accepted the event.
 *
 * @public
 */
export class EventBus extends ActionBus {
  /** @internal */
  constructor(deps: ActionBusDependencies) {
    super('event', deps);
  }

  /**
   * Publishes an event; resolves to its `messageId` (the id handlers see as `context.messageId`) once
   * every local handler finished (in process) or the channel accepted it.
   */
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  publish(event: object, options: SendActionOptions = NO_SEND_OPTIONS): Promise<string> {
    return this.post(event, options, this.channelName === undefined);
  }

  /** Publishes a raw payload with an explicit route; resolves to its `messageId`, as {@link EventBus.publish}. */
  async publishRaw(
    route: string,
    payload: unknown,
    options: SendActionOptions = NO_SEND_OPTIONS,
  ): Promise<string> {
    return this.postRaw(route, payload, options, this.channelName === undefined);
  }
}
