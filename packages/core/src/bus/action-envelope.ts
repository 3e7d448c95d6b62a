import { messageTypeOf, type ActionDescriptor } from '../actions/action.js';
import { GomesError } from '../errors/gomes-error.js';
import { adoptHeaders, type Message } from '../message/message.js';
import {
  DEFAULT_VERSION,
  MessageHeaders,
  PARTITION_KEY_HEADER,
  RESERVED_HEADER_NAMES,
  SUBJECT_HEADER,
} from '../message/message-headers.js';
import { messageIdAt } from '../message/message-id.js';
import { timestampText } from '../message/timestamp.js';
import { ReplyHeaders } from '../pipeline/middleware/send-reply.js';
import type { BusTransport } from './bus-transport.js';
import type { SendActionOptions } from './send-action-options.js';

/** The part of an action's descriptor its message needs. @internal */
export type EnvelopeDescriptor = Pick<ActionDescriptor, 'kind' | 'name' | 'version' | 'subject'>;

/** Where the action goes: what its message carries of the transport it is sent through. @internal */
export type EnvelopeTarget = Pick<BusTransport, 'channelName' | 'replyTo' | 'replyInstanceId'>;

/**
 * An action on its way out of a bus: everything its message will carry, its creation time taken
 * when it is sent, and its ids and the {@link Message} itself (header object, timestamp text) made
 * on first use, then kept. An in-process send whose handler reads none of them makes none of them;
 * over a channel the message is built once, when the transport takes it. Every read — the
 * envelope's fields, the message's, before or after it is built — gives the same values.
 *
 * Ids made on first read still carry the send time: a uuid v7 gets the later of the send time and
 * the last id's time (see `message-id.ts`), so ids stay valid and monotonic in the order they are
 * made.
 *
 * `origin` (the send option, else the instance's) and the subject (the send option, else the
 * descriptor's `subject` function of the payload) are taken and checked at send, so an invalid one
 * rejects the send whether or not the message is ever built.
 *
 * Header order and values are exactly those `MessageBuilder` gives a message built with the same
 * calls: type, route, correlationId, version (when the action has one), causationId, origin,
 * subject, channelName, replyTo, the custom headers, the partition key, the requester's instance
 * (`gomes.reply.instance`, with `replyTo`: after the custom headers so they cannot replace it), then
 * messageId, timestamp and the default version.
 *
 * @internal
 */
export class ActionEnvelope {
  /** The action instance (or raw payload). */
  readonly payload: unknown;
  /** Its route: the action name. */
  readonly route: string;
  /** When it was sent (epoch ms): the message's `timestamp`. */
  readonly createdAt: number;
  /**
   * The bus validated `payload` itself at send (it is the action instance, and validation is on):
   * the in-process dispatcher does not validate the same instance a second time.
   */
  readonly validatedOnSend: boolean;
  readonly #descriptor: EnvelopeDescriptor;
  /** The options' message fields, taken at send (a later change to the options object is not seen). */
  readonly #causationId: string | undefined;
  readonly #origin: string;
  readonly #subject: string | undefined;
  readonly #partitionKey: string | undefined;
  readonly #headers: Readonly<Record<string, string>> | undefined;
  readonly #channelName: string | undefined;
  readonly #replyTo: string | undefined;
  readonly #replyInstanceId: string | undefined;
  #messageId: string | undefined;
  #correlationId: string | undefined;
  #message: Message | undefined;

  /**
   * @param options the send options, causation already inherited (see `withInheritedCausation`).
   * @param defaultOrigin the instance's `origin`, used unless `options.origin` is given.
   * @throws GomesError `GOMES_INVALID_HEADER` when `options.headers` uses a reserved name, for an
   * empty `origin` or `subject` option, or a subject function that returns something else than a
   * string or `undefined` (checked now, as when the message was built eagerly).
   */
  constructor(
    payload: unknown,
    descriptor: EnvelopeDescriptor,
    options: SendActionOptions,
    target: EnvelopeTarget,
    defaultOrigin: string,
    validatedOnSend: boolean,
  ) {
    const headers = options.headers;
    this.#origin = nonEmpty('origin', options.origin ?? defaultOrigin, descriptor.name);
    const subject = options.subject ?? subjectOf(descriptor, payload);
    this.#subject = subject === undefined ? undefined : nonEmpty('subject', subject, descriptor.name);
    this.#headers = headers === undefined ? undefined : customHeaders(headers);
    const now = Date.now();
    this.payload = payload;
    this.validatedOnSend = validatedOnSend;
    this.route = descriptor.name;
    this.createdAt = now;
    this.#descriptor = descriptor;
    this.#causationId = options.causationId;
    this.#partitionKey = options.partitionKey;
    const replyTo = target.replyTo;
    this.#channelName = target.channelName;
    this.#replyTo = replyTo;
    this.#replyInstanceId = replyTo === undefined ? undefined : target.replyInstanceId;
    this.#correlationId = options.correlationId;
  }

  /** uuid v7, made on first read and then kept. */
  get messageId(): string {
    return (this.#messageId ??= messageIdAt(this.createdAt));
  }

  /**
   * The `correlationId` option, else a new uuid v7, made on first read (with the send time as its
   * timestamp) and then kept.
   */
  get correlationId(): string {
    return (this.#correlationId ??= messageIdAt(this.createdAt));
  }

  /** The message (built on first read, then the same object). */
  get message(): Message {
    return (this.#message ??= this.#build());
  }

  #build(): Message {
    const descriptor = this.#descriptor;
    const h: Record<string, string> = {};
    h[MessageHeaders.MESSAGE_TYPE] = messageTypeOf(descriptor.kind);
    h[MessageHeaders.ROUTE] = descriptor.name;
    h[MessageHeaders.CORRELATION_ID] = this.correlationId;
    if (descriptor.version !== undefined) h[MessageHeaders.VERSION] = descriptor.version;
    if (this.#causationId !== undefined) h[MessageHeaders.CAUSATION_ID] = this.#causationId;
    h[MessageHeaders.ORIGIN] = this.#origin;
    if (this.#subject !== undefined) h[SUBJECT_HEADER] = this.#subject;
    if (this.#channelName !== undefined) h[MessageHeaders.CHANNEL_NAME] = this.#channelName;
    if (this.#replyTo !== undefined) h[MessageHeaders.REPLY_TO] = this.#replyTo;
    const custom = this.#headers;
    if (custom !== undefined) for (const name of Object.keys(custom)) h[name] = custom[name]!;
    if (this.#partitionKey !== undefined) h[PARTITION_KEY_HEADER] = this.#partitionKey;
    if (this.#replyInstanceId !== undefined) h[ReplyHeaders.INSTANCE] = this.#replyInstanceId;
    h[MessageHeaders.MESSAGE_ID] = this.messageId;
    h[MessageHeaders.TIMESTAMP] = timestampText(this.createdAt);
    h[MessageHeaders.VERSION] ??= DEFAULT_VERSION;
    return adoptHeaders(this.payload, h);
  }
}

/**
 * A copy of the custom headers of a send, checked: they may not use reserved names (the same check
 * as `MessageBuilder.header`).
 *
 * @throws GomesError `GOMES_INVALID_HEADER` for a reserved name.
 */
function customHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const copy: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (RESERVED_HEADER_NAMES.has(name)) {
      throw new GomesError(
        'INVALID_HEADER',
        `"${name}" is a reserved header; use its builder method instead`,
      );
    }
    copy[name] = headers[name]!;
  }
  return copy;
}

/** The subject the descriptor's function derives from `payload` (`''` counts as none). */
function subjectOf(descriptor: EnvelopeDescriptor, payload: unknown): string | undefined {
  if (descriptor.subject === undefined) return undefined;
  const subject: unknown = descriptor.subject(payload as never);
  if (subject === undefined || subject === '') return undefined;
  if (typeof subject !== 'string') {
    throw new GomesError(
      'INVALID_HEADER',
      `The subject function of "${descriptor.name}" returned ${typeof subject}; it must return a string or undefined`,
      { details: { route: descriptor.name } },
    );
  }
  return subject;
}

/**
 * `value`, checked to be a non-empty string.
 *
 * @throws GomesError `GOMES_INVALID_HEADER` otherwise.
 */
function nonEmpty(option: 'origin' | 'subject', value: string, route: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new GomesError('INVALID_HEADER', `The ${option} of "${route}" must be a non-empty string`, {
      details: { route, [option]: value },
    });
  }
  return value;
}
