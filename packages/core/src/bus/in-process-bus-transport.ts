import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { traceDispatch } from '../observability/handler-tracing.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import type { ChannelResolver } from '../pipeline/processing-context.js';
import type { BusTransport } from './bus-transport.js';
import type { SendActionOptions } from './send-action-options.js';

/** What the in-process transport needs. @internal */
export interface InProcessBusTransportOptions {
  readonly handler: MessageHandlerFn;
  readonly channels: ChannelResolver;
  readonly logger: Logger;
  readonly endpointName: string;
  /** Receives failures of fire-and-forget (`sendAsync`) calls, which have no caller to reject. */
  readonly onUnhandledError: (error: Error, message: Message) => void;
  /** Counts in-flight async work so shutdown can wait for it. */
  readonly track: (work: Promise<unknown>) => void;
  /** Tracing: a `dispatch <route>` span around each run when tracing is on. */
  readonly telemetry?: GomesTelemetry;
  /** Throws when the instance no longer takes messages (after `shutdown()`). */
  readonly assertOpen: () => void;
}

/**
 * Runs the local handlers directly (no serialisation, no broker). Sends are refused once the
 * instance is stopped (`assertOpen`).
 *
 * @internal
 */
export class InProcessBusTransport implements BusTransport {
  readonly channelName = undefined;
  readonly replyTo = undefined;
  readonly replyInstanceId = undefined;
  readonly #options: InProcessBusTransportOptions;

  constructor(options: InProcessBusTransportOptions) {
    this.#options = options;
  }

  async request(message: Message, options: SendActionOptions): Promise<unknown> {
    this.#options.assertOpen();
    const result = await this.#run(message, options.signal);
    return result?.payload;
  }

  async post(message: Message, options: SendActionOptions): Promise<void> {
    this.#options.assertOpen();
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => this.#run(message, options.signal))
      .then(
        () => undefined,
        (error: unknown) => {
          const err = toError(error);
          this.#options.logger.error('in-process async handler failed', {
            route: message.route,
            messageId: message.messageId,
            error: err.message,
          });
          try {
            this.#options.onUnhandledError(err, message);
          } catch (listenerError) {
            this.#options.logger.error('onUnhandledError callback threw', {
              route: message.route,
              messageId: message.messageId,
              error: toError(listenerError).message,
            });
          }
        },
      );
    this.#options.track(work);
  }

  async #run(message: Message, signal: AbortSignal | undefined): Promise<Message | undefined> {
    const { handler, channels, logger, endpointName, telemetry } = this.#options;
    const bound = logger.child({
      messageId: message.messageId,
      correlationId: message.correlationId,
      route: message.route,
    });
    return traceDispatch(telemetry, endpointName, message, bound, async (traced) =>
      handler(message, {
        signal: signal ?? new AbortController().signal,
        logger: traced,
        endpointName,
        channels,
        state: { attempts: 0 },
      }),
    );
  }
}
