import { MessageHeaders, SUBJECT_HEADER, parseMessageType, type MessageType } from './message-headers.js';
import { parseTimestamp } from './timestamp.js';

/**
 * Passed by {@link adoptHeaders} as the constructor's third argument: the message then freezes the
 * given `headers` in place instead of copying them. A module-private constant (not a flag), so
 * nothing outside this module can ask for adoption and no state is shared between calls.
 */
const ADOPT: unique symbol = Symbol('gomes.adoptHeaders');

/**
 * Builds a message that takes ownership of `headers` (frozen in place, not copied). Only for
 * callers that built `headers` themselves and never touch it again (`MessageBuilder.build`).
 *
 * @internal
 */
export function adoptHeaders<T>(payload: T, headers: Record<string, string>): Message<T> {
  return new Message(payload, headers, ADOPT);
}

/** Message headers: string values only, as on the wire. @public */
export type HeaderValues = Readonly<Record<string, string>>;

/**
 * An immutable message: a payload plus string headers. Build one with `MessageBuilder`.
 *
 * The `messageId` is created once, when the message is first built, and preserved on every hop
 * (rebuilds, broker round trips, redeliveries and retries), so it can be used for deduplication.
 * Messages derived from it (replies, dead letters) get their own id and point back to it through
 * `causationId` (dead letters also keep the original headers).
 *
 * @typeParam T - the payload type
 * @public
 */
export class Message<T = unknown> {
  /** The payload (a plain value or object; serialised by the transport). */
  readonly payload: T;
  /** All headers, reserved and custom. Frozen. */
  readonly headers: HeaderValues;

  /** @internal Use `MessageBuilder`; it guarantees the reserved headers. */
  constructor(payload: T, headers: Record<string, string>, ownership?: typeof ADOPT) {
    this.payload = payload;
    this.headers = Object.freeze(ownership === ADOPT ? headers : { ...headers });
    Object.freeze(this);
  }

  /** A header value, or `undefined`. */
  header(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.headers, name) ? this.headers[name] : undefined;
  }

  /** Unique id, uuid v7, stable across hops. */
  get messageId(): string {
    return this.header(MessageHeaders.MESSAGE_ID) ?? '';
  }

  /** Id shared by every message of one conversation (request, reply, events it caused). */
  get correlationId(): string | undefined {
    return this.header(MessageHeaders.CORRELATION_ID);
  }

  /** `messageId` of the message that caused this one. */
  get causationId(): string | undefined {
    return this.header(MessageHeaders.CAUSATION_ID);
  }

  /** Command, Query, Event or Document. */
  get messageType(): MessageType {
    return parseMessageType(this.header(MessageHeaders.MESSAGE_TYPE));
  }

  /** The action name a consumer routes on (e.g. `createOrder`). */
  get route(): string | undefined {
    return this.header(MessageHeaders.ROUTE);
  }

  /** The channel the message was sent to. */
  get channelName(): string | undefined {
    return this.header(MessageHeaders.CHANNEL_NAME);
  }

  /** Channel a reply should be sent to. */
  get replyTo(): string | undefined {
    return this.header(MessageHeaders.REPLY_TO);
  }

  /** When the message was first built. */
  get timestamp(): Date | undefined {
    const raw = this.header(MessageHeaders.TIMESTAMP);
    return raw === undefined ? undefined : parseTimestamp(raw);
  }

  /** Who built it (`gomes` by default). */
  get origin(): string | undefined {
    return this.header(MessageHeaders.ORIGIN);
  }

  /** What the message is about, within its `origin` (header `gomes.subject`, CloudEvents `subject`). */
  get subject(): string | undefined {
    return this.header(SUBJECT_HEADER);
  }

  /** Schema/contract version header. */
  get version(): string | undefined {
    return this.header(MessageHeaders.VERSION);
  }
}
