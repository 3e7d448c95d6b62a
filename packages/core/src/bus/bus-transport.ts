import type { ActionEnvelope } from './action-envelope.js';
import type { SendActionOptions } from './send-action-options.js';

/**
 * Where a bus sends its actions: in process (straight to the local handlers) or over a publisher
 * channel.
 *
 * @internal
 */
export interface BusTransport {
  /** Channel name, or `undefined` in process. */
  readonly channelName: string | undefined;
  /** `replyTo` stamped on outgoing messages, if any. */
  readonly replyTo: string | undefined;
  /** With `replyTo`: the instance id stamped as header `gomes.reply.instance` (who waits for the reply). */
  readonly replyInstanceId: string | undefined;
  /** Sends and waits for the handler's result. */
  request(envelope: ActionEnvelope, options: SendActionOptions): Promise<unknown>;
  /** Sends and resolves once the message is accepted. */
  post(envelope: ActionEnvelope, options: SendActionOptions): Promise<void>;
}
