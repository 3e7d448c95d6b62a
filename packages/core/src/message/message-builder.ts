import { GomesError } from '../errors/gomes-error.js';
import { DEAD_LETTER_ORIGINAL_HEADER_PREFIX, DeadLetterHeaders } from './dead-letter-headers.js';
import { adoptHeaders, type Message } from './message.js';
import {
  DEFAULT_ORIGIN,
  DEFAULT_VERSION,
  MessageHeaders,
  RESERVED_HEADER_NAMES,
  SUBJECT_HEADER,
  type MessageType,
} from './message-headers.js';
import { messageIdAt } from './message-id.js';
import { formatTimestamp, normalizeTimestamp, timestampText } from './timestamp.js';

/**
 * Fluent builder for {@link Message}. `build()` fills what is missing: `messageId` (uuid v7),
 * `timestamp` (now, ISO-8601 UTC), `origin`, `version` and `messageType` (`Document`). Existing ids
 * are never replaced.
 *
 * @example
 * ```ts
 * const msg = MessageBuilder.withPayload({ orderId: '42' })
 *   .messageType('Command').route('createOrder').correlationId(id).header('tenant', 'acme').build();
 * ```
 * @public
 */
export class MessageBuilder<T = unknown> {
  #payload: T;
  readonly #headers: Record<string, string>;

  private constructor(payload: T, headers: Record<string, string>) {
    this.#payload = payload;
    this.#headers = headers;
  }

  /** Starts a message with this payload. */
  static withPayload<P>(payload: P): MessageBuilder<P> {
    return new MessageBuilder(payload, {});
  }

  /** Starts from an existing message: same payload and all headers, the `messageId` included. */
  static from<P>(message: Message<P>): MessageBuilder<P> {
    return new MessageBuilder(message.payload, copyHeaders(message.headers));
  }

  /**
   * Starts from raw headers (as read from a broker). Reserved names are taken as they are, others
   * become custom headers; empty values are skipped (as Go gomes does).
   *
   * @throws GomesError `GOMES_INVALID_HEADER` when `timestamp` cannot be parsed.
   */
  static fromHeaders<P>(
    payload: P,
    headers: Readonly<Record<string, string | undefined>>,
  ): MessageBuilder<P> {
    const copy: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && value !== '') copy[name] = value;
    }
    const ts = copy[MessageHeaders.TIMESTAMP];
    if (ts !== undefined) copy[MessageHeaders.TIMESTAMP] = normalizeTimestamp(ts);
    return new MessageBuilder(payload, copy);
  }

  /**
   * Restores the original message from a dead-letter message (one built by `deadLetterMessage`):
   * its payload (a dead letter carries it unchanged) and **every original header, reserved ones
   * included** — the original `messageId`, `route`, `messageType`, `correlationId`, `timestamp`,
   * custom headers — taken from the `gomes.original.*` headers. The envelope headers are left
   * behind. This is how a dead letter is republished as the message it was (the dead-letter
   * redrive does it, adding `RedriveHeaders.REDRIVE_COUNT`); consumers that deduplicate on
   * `messageId` see the same id.
   *
   * @example
   * ```ts
   * const original = MessageBuilder.fromDeadLetter(deadLetter).channelName('orders').build();
   * ```
   * @throws GomesError `GOMES_INVALID_HEADER` when `message` is not a dead-letter message (no
   * `gomes.dlq.errorMessage` header) or carries no original `messageId` (an undecodable record
   * dead-lettered by a transport keeps its raw headers instead), or when the original `timestamp`
   * cannot be parsed.
   */
  static fromDeadLetter<P>(message: Message<P>): MessageBuilder<P> {
    if (message.header(DeadLetterHeaders.ERROR_MESSAGE) === undefined) {
      throw new GomesError(
        'INVALID_HEADER',
        `Message ${message.messageId} is not a dead-letter message (it has no "${DeadLetterHeaders.ERROR_MESSAGE}" header)`,
        { details: { messageId: message.messageId } },
      );
    }
    const original: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers)) {
      if (name.startsWith(DEAD_LETTER_ORIGINAL_HEADER_PREFIX))
        original[name.slice(DEAD_LETTER_ORIGINAL_HEADER_PREFIX.length)] = value;
    }
    if (!original[MessageHeaders.MESSAGE_ID]) {
      throw new GomesError(
        'INVALID_HEADER',
        `Dead letter ${message.messageId} carries no original messageId ("${DEAD_LETTER_ORIGINAL_HEADER_PREFIX}${MessageHeaders.MESSAGE_ID}"): there is no original message to restore`,
        { details: { messageId: message.messageId } },
      );
    }
    return MessageBuilder.fromHeaders(message.payload, original);
  }

  /**
   * `MessageBuilder.fromHeaders(payload, headers).build()` without the copies: the message takes
   * ownership of `headers`, which is modified (empty values removed, `timestamp` normalised,
   * defaults filled) and frozen. For transports that build a fresh header object per record and
   * never touch it again.
   *
   * @throws GomesError `GOMES_INVALID_HEADER` when `timestamp` cannot be parsed.
   */
  static buildFromOwnedHeaders<P>(payload: P, headers: Record<string, string>): Message<P> {
    for (const name in headers) {
      if (!Object.prototype.hasOwnProperty.call(headers, name)) continue;
      const value = headers[name];
      if (value === undefined || value === '') delete headers[name];
    }
    const ts = headers[MessageHeaders.TIMESTAMP];
    if (ts !== undefined) headers[MessageHeaders.TIMESTAMP] = normalizeTimestamp(ts);
    return adoptHeaders(payload, withDefaults(headers));
  }

  /** Replaces the payload. */
  payload<P>(payload: P): MessageBuilder<P> {
    const next = this as unknown as MessageBuilder<P>;
    next.#payload = payload;
    return next;
  }

  /** Sets `messageId`. Use only to carry an id from another system; ids are otherwise generated once. */
  messageId(id: string): this {
    return this.#set(MessageHeaders.MESSAGE_ID, id);
  }

  /** Sets `correlationId`. */
  correlationId(id: string): this {
    return this.#set(MessageHeaders.CORRELATION_ID, id);
  }

  /** Sets `causationId`. */
  causationId(id: string): this {
    return this.#set(MessageHeaders.CAUSATION_ID, id);
  }

  /** Sets `messageType`. */
  messageType(type: MessageType): this {
    return this.#set(MessageHeaders.MESSAGE_TYPE, type);
  }

  /** Sets `route` (the action name consumers route on). */
  route(route: string): this {
    return this.#set(MessageHeaders.ROUTE, route);
  }

  /** Sets `channelName`. */
  channelName(name: string): this {
    return this.#set(MessageHeaders.CHANNEL_NAME, name);
  }

  /** Sets `replyTo`. */
  replyTo(channel: string): this {
    return this.#set(MessageHeaders.REPLY_TO, channel);
  }

  /** Sets `timestamp`. */
  timestamp(date: Date): this {
    return this.#set(MessageHeaders.TIMESTAMP, formatTimestamp(date));
  }

  /** Sets `origin`. */
  origin(origin: string): this {
    return this.#set(MessageHeaders.ORIGIN, origin);
  }

  /** Sets the subject: header `gomes.subject` (see `SUBJECT_HEADER`), CloudEvents `subject`. */
  subject(subject: string): this {
    return this.#set(SUBJECT_HEADER, subject);
  }

  /** Sets `version`. */
  version(version: string): this {
    return this.#set(MessageHeaders.VERSION, version);
  }

  /**
   * Sets a custom header.
   *
   * @throws GomesError `GOMES_INVALID_HEADER` for a reserved name (use the dedicated method).
   */
  header(name: string, value: string): this {
    if (RESERVED_HEADER_NAMES.has(name)) {
      throw new GomesError(
        'INVALID_HEADER',
        `"${name}" is a reserved header; use its builder method instead`,
      );
    }
    return this.#set(name, value);
  }

  /** Sets several custom headers (same rules as {@link MessageBuilder.header}). */
  headers(values: Readonly<Record<string, string>>): this {
    for (const [name, value] of Object.entries(values)) this.header(name, value);
    return this;
  }

  /** Removes a header (reserved ones included). */
  without(name: string): this {
    delete this.#headers[name];
    return this;
  }

  /** Builds the immutable message. */
  build(): Message<T> {
    return adoptHeaders(this.#payload, withDefaults(copyHeaders(this.#headers)));
  }

  #set(name: string, value: string): this {
    this.#headers[name] = value;
    return this;
  }
}

/** Fills the headers `build()` guarantees, in place. */
function withDefaults(h: Record<string, string>): Record<string, string> {
  if (h[MessageHeaders.MESSAGE_ID] === undefined || h[MessageHeaders.TIMESTAMP] === undefined) {
    const now = Date.now();
    h[MessageHeaders.MESSAGE_ID] ??= messageIdAt(now);
    h[MessageHeaders.TIMESTAMP] ??= timestampText(now);
  }
  h[MessageHeaders.ORIGIN] ??= DEFAULT_ORIGIN;
  h[MessageHeaders.VERSION] ??= DEFAULT_VERSION;
  h[MessageHeaders.MESSAGE_TYPE] ??= 'Document';
  return h;
}

/**
 * A mutable copy of `headers`. `Object.assign` rather than a spread: V8 (Node 20) makes objects
 * created by `{ ...x }` very slow to add properties to (about 1 µs per property), and the copy
 * gets the defaults added.
 */
function copyHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.assign({}, headers);
}
