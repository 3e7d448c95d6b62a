import type { ActionEnvelope } from '../bus/action-envelope.js';
import type { Delivery } from '../channel/consumer-channel.js';
import { abortScopeOf, type AbortScope } from '../pipeline/abort-scope.js';
import type { Logger } from '../logging/logger.js';
import { Message, type HeaderValues } from '../message/message.js';
import type { ProcessingContext } from '../pipeline/processing-context.js';
import type { HandlerContext } from './handler-context.js';

/**
 * What the dispatcher runs handlers for: a received {@link Message} (consumer pipelines), or an
 * in-process {@link ActionEnvelope}, whose message is built only when someone reads it.
 *
 * @internal
 */
export type DispatchSource = Message | ActionEnvelope;

/** The message of a dispatch source (built now for an envelope that has none yet). @internal */
export function messageOf(source: DispatchSource): Message {
  return source instanceof Message ? source : source.message;
}

/**
 * The {@link HandlerContext} of one handler call. `attempt` and `deliveryAttempt` are plain fields;
 * `message`, `headers`, `messageId`, `correlationId`, `signal` and `logger` are read from the source
 * and the processing context when used, so an in-process send pays for its ids, the message, its
 * header object, the `AbortSignal` and the message logger only when the handler asks for them.
 * Every read of a field gives the same value.
 *
 * @internal
 */
export class DispatchHandlerContext implements HandlerContext {
  readonly attempt: number;
  readonly deliveryAttempt: number;
  readonly #source: DispatchSource;
  readonly #context: ProcessingContext;
  readonly #logger: Logger | undefined;

  /** `logger` replaces the context's logger (a span-correlated one when tracing). */
  constructor(source: DispatchSource, context: ProcessingContext, logger: Logger | undefined) {
    this.attempt = Math.max(1, context.state.attempts);
    this.deliveryAttempt = context.delivery?.deliveryAttempt ?? 1;
    this.#source = source;
    this.#context = context;
    this.#logger = logger;
  }

  /** @inheritDoc */
  get message(): Message {
    return messageOf(this.#source);
  }

  /**
   * The abort scope whose lazy signal `context.signal` is, when gomes made `context` from a scoped
   * processing context: listening to it costs no `AbortSignal` (see `AbortScope`).
   */
  static scopeOf(context: HandlerContext): AbortScope | undefined {
    return context instanceof DispatchHandlerContext ? abortScopeOf(context.#context) : undefined;
  }

  /** The transport delivery of `context`'s call, when gomes made `context` (see `waitWithoutProcessor`). */
  static deliveryOf(context: HandlerContext): Delivery | undefined {
    return context instanceof DispatchHandlerContext ? context.#context.delivery : undefined;
  }

  /** @inheritDoc */
  get headers(): HeaderValues {
    return messageOf(this.#source).headers;
  }

  /** @inheritDoc */
  get messageId(): string {
    return this.#source.messageId;
  }

  /** @inheritDoc */
  get correlationId(): string | undefined {
    return this.#source.correlationId;
  }

  /** @inheritDoc */
  get signal(): AbortSignal {
    return this.#context.signal;
  }

  /** @inheritDoc */
  get logger(): Logger {
    return this.#logger ?? this.#context.logger;
  }
}
