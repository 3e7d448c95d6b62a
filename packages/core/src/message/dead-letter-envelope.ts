import type { DeliveryPosition } from '../channel/consumer-channel.js';
import { isGomesError, isRetriable } from '../errors/gomes-error.js';
import type { ProcessingState } from '../pipeline/processing-context.js';
import { DEAD_LETTER_ORIGINAL_HEADER_PREFIX, DeadLetterHeaders } from './dead-letter-headers.js';
import { MessageBuilder } from './message-builder.js';
import type { Message } from './message.js';

export {
  DEAD_LETTER_ORIGINAL_HEADER_PREFIX,
  DeadLetterHeaders,
  RedriveHeaders,
  UndecodableRecordHeaders,
} from './dead-letter-headers.js';

/** Longest error stack kept in {@link DeadLetterHeaders.ERROR_STACK}, in characters. @public */
export const DEAD_LETTER_MAX_STACK_LENGTH = 4000;

/**
 * Where and by whom a message was dead-lettered (the parts of a `ProcessingContext` the envelope
 * needs, plus the dead-letter channel name).
 *
 * @public
 */
export interface DeadLetterSource {
  /** The dead-letter channel the message is published to. */
  readonly channelName: string;
  /** The consumer endpoint that gave up on the message. */
  readonly endpointName: string;
  /** The delivery's position and attempt, when the message came from a consumer channel. */
  readonly delivery?: { readonly position: DeliveryPosition; readonly deliveryAttempt?: number };
  /** Clock used when `state` has no failure times. @default `new Date()` */
  readonly now?: Date;
}

/**
 * A dead-letter envelope as read back by {@link readDeadLetterEnvelope}.
 *
 * @public
 */
export interface DeadLetterEnvelope {
  /** Name of the last error. */
  readonly errorName: string;
  /** Code of the last error, when it had one. */
  readonly errorCode: string | undefined;
  /** Message of the last error. */
  readonly errorMessage: string;
  /** Stack of the last error (possibly truncated). */
  readonly errorStack: string | undefined;
  /** Whether the last error was retriable. */
  readonly retriable: boolean;
  /** Handler executions made. */
  readonly attempts: number;
  /** Transport delivery attempt, when known. */
  readonly deliveryAttempt: number | undefined;
  /** When the first execution failed. */
  readonly firstFailureAt: Date | undefined;
  /** When the last execution failed. */
  readonly lastFailureAt: Date | undefined;
  /** Channel the message was consumed from. */
  readonly originChannel: string | undefined;
  /** Partition it was consumed from. */
  readonly originPartition: number | undefined;
  /** Offset it was consumed at. */
  readonly originOffset: string | undefined;
  /** Consumer endpoint name. */
  readonly consumer: string | undefined;
  /** The original message's headers, with their original names. */
  readonly originalHeaders: Readonly<Record<string, string>>;
}

/**
 * Builds the dead-letter message for `original`, which failed with `error`.
 *
 * The result is a new message (its own `messageId`; `causationId` = the original `messageId`;
 * `correlationId` kept; `messageType` `Document`; `channelName` = the dead-letter channel; no
 * `route`, so a consumer of the dead-letter channel never dispatches it by accident). Its payload is
 * the original payload unchanged; the original headers and the error envelope are in its headers
 * (see {@link DeadLetterHeaders}).
 *
 * @example
 * ```ts
 * const dlq = deadLetterMessage(msg, err, ctx.state, { channelName: 'orders.dlq', endpointName: ctx.endpointName, delivery: ctx.delivery });
 * ```
 * @public
 */
export function deadLetterMessage<T>(
  original: Message<T>,
  error: Error,
  state: Readonly<ProcessingState>,
  source: DeadLetterSource,
): Message<T> {
  const now = source.now ?? new Date();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(original.headers)) {
    headers[DEAD_LETTER_ORIGINAL_HEADER_PREFIX + name] = value;
  }
  const code = errorCode(error);
  const errorName = error.name || 'Error';
  const envelope: Record<string, string | undefined> = {
    [DeadLetterHeaders.ERROR_NAME]: errorName,
    [DeadLetterHeaders.ERROR_CODE]: code,
    // Always written (it marks a dead letter for readDeadLetterEnvelope): an error without a
    // message is described by its name.
    [DeadLetterHeaders.ERROR_MESSAGE]: error.message || errorName,
    [DeadLetterHeaders.ERROR_STACK]: error.stack?.slice(0, DEAD_LETTER_MAX_STACK_LENGTH),
    [DeadLetterHeaders.RETRIABLE]: String(isRetriable(error)),
    [DeadLetterHeaders.ATTEMPTS]: String(Math.max(1, state.attempts)),
    [DeadLetterHeaders.DELIVERY_ATTEMPT]: optionalString(source.delivery?.deliveryAttempt),
    [DeadLetterHeaders.FIRST_FAILURE_AT]: (state.firstFailureAt ?? now).toISOString(),
    [DeadLetterHeaders.LAST_FAILURE_AT]: (state.lastFailureAt ?? now).toISOString(),
    [DeadLetterHeaders.ORIGIN_CHANNEL]: source.delivery?.position.channel ?? original.channelName,
    [DeadLetterHeaders.ORIGIN_PARTITION]: optionalString(source.delivery?.position.partition),
    [DeadLetterHeaders.ORIGIN_OFFSET]: source.delivery?.position.offset,
    [DeadLetterHeaders.CONSUMER]: source.endpointName,
  };
  for (const [name, value] of Object.entries(envelope)) {
    if (value !== undefined && value !== '') headers[name] = value;
  }
  const builder = MessageBuilder.withPayload(original.payload)
    .messageType('Document')
    .channelName(source.channelName)
    .headers(headers);
  if (original.messageId) builder.causationId(original.messageId);
  if (original.correlationId !== undefined) builder.correlationId(original.correlationId);
  return builder.build();
}

/**
 * Reads the envelope of a dead-letter message built by {@link deadLetterMessage}; `undefined` when
 * `message` is not a dead-letter message (it has no `gomes.dlq.errorMessage` header).
 *
 * @example
 * ```ts
 * const env = readDeadLetterEnvelope(msg);
 * if (env) logger.warn('dead letter', { reason: env.errorMessage, attempts: env.attempts });
 * ```
 * @public
 */
export function readDeadLetterEnvelope(message: Message): DeadLetterEnvelope | undefined {
  const h = (name: string): string | undefined => message.header(name);
  const errorMessage = h(DeadLetterHeaders.ERROR_MESSAGE);
  if (errorMessage === undefined) return undefined;
  const originalHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (name.startsWith(DEAD_LETTER_ORIGINAL_HEADER_PREFIX)) {
      originalHeaders[name.slice(DEAD_LETTER_ORIGINAL_HEADER_PREFIX.length)] = value;
    }
  }
  return Object.freeze({
    errorName: h(DeadLetterHeaders.ERROR_NAME) ?? 'Error',
    errorCode: h(DeadLetterHeaders.ERROR_CODE),
    errorMessage,
    errorStack: h(DeadLetterHeaders.ERROR_STACK),
    retriable: h(DeadLetterHeaders.RETRIABLE) !== 'false',
    attempts: toNumber(h(DeadLetterHeaders.ATTEMPTS)) ?? 1,
    deliveryAttempt: toNumber(h(DeadLetterHeaders.DELIVERY_ATTEMPT)),
    firstFailureAt: toDate(h(DeadLetterHeaders.FIRST_FAILURE_AT)),
    lastFailureAt: toDate(h(DeadLetterHeaders.LAST_FAILURE_AT)),
    originChannel: h(DeadLetterHeaders.ORIGIN_CHANNEL),
    originPartition: toNumber(h(DeadLetterHeaders.ORIGIN_PARTITION)),
    originOffset: h(DeadLetterHeaders.ORIGIN_OFFSET),
    consumer: h(DeadLetterHeaders.CONSUMER),
    originalHeaders: Object.freeze(originalHeaders),
  });
}

function errorCode(error: Error): string | undefined {
  if (isGomesError(error)) return error.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

function optionalString(value: number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function toDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
