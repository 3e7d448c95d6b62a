import type { Logger } from '../logging/logger.js';
import type { ChannelResolver, ProcessingContext, ProcessingState } from '../pipeline/processing-context.js';
import type { ActionEnvelope } from './action-envelope.js';

/**
 * The failure bookkeeping of every in-process call: nothing retries in process (a handler's error
 * rejects the caller at once), so it always reads "no attempt failed yet". Shared and frozen.
 */
const IN_PROCESS_STATE: ProcessingState = Object.freeze({ attempts: 0 });

/**
 * The processing context of one in-process bus call. Its `signal` is the caller's `signal` option,
 * else a signal that is never aborted, created on first read; its `logger` is the bus logger bound to
 * the message (`messageId`, `correlationId`, `route`), created on first read unless given. Both are
 * the same object on every read.
 *
 * @internal
 */
export class InProcessContext implements ProcessingContext {
  readonly endpointName: string;
  readonly channels: ChannelResolver;
  readonly state: ProcessingState = IN_PROCESS_STATE;
  readonly #envelope: ActionEnvelope;
  readonly #parentLogger: Logger;
  #signal: AbortSignal | undefined;
  #logger: Logger | undefined;

  constructor(
    envelope: ActionEnvelope,
    endpointName: string,
    channels: ChannelResolver,
    signal: AbortSignal | undefined,
    parentLogger: Logger,
    logger?: Logger,
  ) {
    this.endpointName = endpointName;
    this.channels = channels;
    this.#envelope = envelope;
    this.#parentLogger = parentLogger;
    this.#signal = signal;
    this.#logger = logger;
  }

  /** @inheritDoc */
  get signal(): AbortSignal {
    return (this.#signal ??= new AbortController().signal);
  }

  /** @inheritDoc */
  get logger(): Logger {
    return (this.#logger ??= messageLogger(this.#parentLogger, this.#envelope));
  }
}

/** The bus logger bound to an in-process message. @internal */
export function messageLogger(logger: Logger, envelope: ActionEnvelope): Logger {
  return logger.child({
    messageId: envelope.messageId,
    correlationId: envelope.correlationId,
    route: envelope.route,
  });
}
