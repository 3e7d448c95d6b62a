import { GomesError } from '../errors/gomes-error.js';
import type { PublisherChannel, SendOptions } from '../channel/publisher-channel.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { traceRequest } from '../observability/request-reply-tracing.js';
import type { ActionEnvelope } from './action-envelope.js';
import type { BusTransport } from './bus-transport.js';
import type { RequestReplyCoordinator } from './request-reply-coordinator.js';
import type { SendActionOptions } from './send-action-options.js';

const NO_SIGNAL: SendOptions = Object.freeze({});

/** What a channel-bound bus needs. @internal */
export interface ChannelBusTransportOptions {
  readonly channelName: string;
  readonly replyTo: string | undefined;
  /** Instance id stamped on messages that carry `replyTo` (header `gomes.reply.instance`). */
  readonly instanceId: string;
  /** Resolves the publisher at send time (the bus may be created before `start()`). */
  readonly publisher: () => PublisherChannel;
  readonly coordinator: RequestReplyCoordinator;
  readonly defaultTimeoutMs: number;
  /** Tracing: a `request <route>` span around a request-reply when tracing is on. */
  readonly telemetry?: GomesTelemetry;
}

/**
 * Sends over a publisher channel. `request` is request-reply through the channel's reply channel.
 *
 * @internal
 */
export class ChannelBusTransport implements BusTransport {
  readonly #options: ChannelBusTransportOptions;

  constructor(options: ChannelBusTransportOptions) {
    this.#options = options;
  }

  get channelName(): string {
    return this.#options.channelName;
  }

  get replyTo(): string | undefined {
    return this.#options.replyTo;
  }

  get replyInstanceId(): string | undefined {
    return this.#options.replyTo === undefined ? undefined : this.#options.instanceId;
  }

  async request(envelope: ActionEnvelope, options: SendActionOptions): Promise<unknown> {
    const { replyTo, coordinator, defaultTimeoutMs, channelName } = this.#options;
    if (replyTo === undefined) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Publisher channel "${channelName}" has no reply channel, so send() cannot wait for a result: ` +
          'configure it with withReplyChannelName(...) and a consumer channel on that reply channel, or use sendAsync()',
      );
    }
    const publisher = this.#options.publisher();
    const message = envelope.message;
    return traceRequest(this.#options.telemetry, message, channelName, async (onReply) =>
      coordinator.request(
        message.messageId,
        options.timeoutMs ?? defaultTimeoutMs,
        options.signal,
        async () => publisher.send(message, options.signal ? { signal: options.signal } : {}),
        onReply,
        { route: message.route, channel: channelName, replyTo },
      ),
    );
  }

  // Not `async`: the caller awaits the publisher's own promise.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  post(envelope: ActionEnvelope, options: SendActionOptions): Promise<void> {
    try {
      const signal = options.signal;
      return this.#options.publisher().send(envelope.message, signal ? { signal } : NO_SIGNAL);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }
}
