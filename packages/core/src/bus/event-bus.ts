import { ActionBus, type ActionBusDependencies } from './action-bus.js';
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
  async publish(event: object, options: SendActionOptions = {}): Promise<string> {
    return (await this.dispatch(event, options, this.channelName === undefined)).messageId;
  }

  /** Publishes a raw payload with an explicit route; resolves to its `messageId`, as {@link EventBus.publish}. */
  async publishRaw(route: string, payload: unknown, options: SendActionOptions = {}): Promise<string> {
    return (await this.dispatchRaw(route, payload, options, this.channelName === undefined)).messageId;
  }
}
