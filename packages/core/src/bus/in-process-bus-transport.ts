import type { ActionDispatcher } from '../actions/action-dispatcher.js';
import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { traceDispatch } from '../observability/handler-tracing.js';
import type { ChannelResolver } from '../pipeline/processing-context.js';
import type { ActionEnvelope } from './action-envelope.js';
import type { BusTransport } from './bus-transport.js';
import { InProcessContext, messageLogger } from './in-process-context.js';
import type { SendActionOptions } from './send-action-options.js';

/** What the in-process transport needs. @internal */
export interface InProcessBusTransportOptions {
  readonly dispatcher: ActionDispatcher;
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
 * instance is stopped (`assertOpen`). Without tracing, a call builds neither the message nor its
 * logger nor an `AbortSignal` unless the handler reads them (see {@link InProcessContext} and
 * `ActionEnvelope`).
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

  // Not `async`: the caller awaits the handler's own promise.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  request(envelope: ActionEnvelope, options: SendActionOptions): Promise<unknown> {
    try {
      this.#options.assertOpen();
    } catch (error) {
      // Rejects with what was thrown, as an `async` function would.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    return this.#run(envelope, options.signal);
  }

  async post(envelope: ActionEnvelope, options: SendActionOptions): Promise<void> {
    this.#options.assertOpen();
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => this.#run(envelope, options.signal))
      .then(
        () => undefined,
        (error: unknown) => {
          const err = toError(error);
          this.#options.logger.error('in-process async handler failed', {
            route: envelope.route,
            messageId: envelope.messageId,
            error: err.message,
          });
          try {
            this.#options.onUnhandledError(err, envelope.message);
          } catch (listenerError) {
            this.#options.logger.error('onUnhandledError callback threw', {
              route: envelope.route,
              messageId: envelope.messageId,
              error: toError(listenerError).message,
            });
          }
        },
      );
    this.#options.track(work);
  }

  // eslint-disable-next-line @typescript-eslint/promise-function-async
  #run(envelope: ActionEnvelope, signal: AbortSignal | undefined): Promise<unknown> {
    const { dispatcher, channels, logger, endpointName, telemetry } = this.#options;
    if (!telemetry?.tracing) {
      return dispatcher.invoke(
        envelope,
        new InProcessContext(envelope, endpointName, channels, signal, logger),
      );
    }
    return traceDispatch(
      telemetry,
      endpointName,
      envelope.message,
      messageLogger(logger, envelope),
      async (traced) =>
        dispatcher.invoke(
          envelope,
          new InProcessContext(envelope, endpointName, channels, signal, logger, traced),
        ),
    );
  }
}
