/**
 * Header names gomes reads and writes. They are wire-compatible with Go gomes (plus `causationId`),
 * so Go and TypeScript services can exchange messages.
 *
 * @public
 */
export const MessageHeaders = {
  MESSAGE_ID: 'messageId',
  CORRELATION_ID: 'correlationId',
  CAUSATION_ID: 'causationId',
  MESSAGE_TYPE: 'messageType',
  ROUTE: 'route',
  CHANNEL_NAME: 'channelName',
  REPLY_TO: 'replyTo',
  TIMESTAMP: 'timestamp',
  ORIGIN: 'origin',
  VERSION: 'version',
} as const;

/** A reserved header name. @public */
export type ReservedHeaderName = (typeof MessageHeaders)[keyof typeof MessageHeaders];

/** The reserved header names; they cannot be set as custom headers. @public */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set<string>(Object.values(MessageHeaders));

/** What a message carries, as written in the `messageType` header. @public */
export type MessageType = 'Command' | 'Query' | 'Event' | 'Document';

/** The message types, in Go gomes' enum order. @public */
export const MESSAGE_TYPES: readonly MessageType[] = ['Command', 'Query', 'Event', 'Document'];

/** Default `origin` header value. @public */
export const DEFAULT_ORIGIN = 'gomes';

/** Default `version` header value (as in Go gomes). @public */
export const DEFAULT_VERSION = '1.0';

/** Parses a `messageType` header value; unknown values are `Document`, as in Go gomes. @public */
export function parseMessageType(value: string | undefined): MessageType {
  return MESSAGE_TYPES.find((t) => t === value) ?? 'Document';
}

/**
 * Custom header that chooses the partition (and the processing-order key) of a message. When it is
 * absent, transports use `correlationId`, as Go gomes does. Set it with the bus option
 * `partitionKey` or `MessageBuilder.header(PARTITION_KEY_HEADER, key)`.
 *
 * @public
 */
export const PARTITION_KEY_HEADER = 'gomes.partitionKey';

/**
 * Custom header holding the **subject** of a message: what, within its `origin`, the message is
 * about (an order id, a file name). It is the CloudEvents `subject` attribute (`ce_subject`, see
 * docs/cloudevents.md). Set it with the bus option `subject`, a `subject` function on the action
 * decorator (`@Event('orderPlaced', { subject: (e: OrderPlaced) => e.orderId })`) or
 * `MessageBuilder.subject(value)`. Not a reserved header: Go gomes passes it on as a custom one.
 *
 * @public
 */
export const SUBJECT_HEADER = 'gomes.subject';

/** The partition key of a message: the partition-key header, else correlationId, else messageId. @public */
export function partitionKeyOf(headers: Readonly<Record<string, string>>): string {
  return (
    headers[PARTITION_KEY_HEADER] ??
    headers[MessageHeaders.CORRELATION_ID] ??
    headers[MessageHeaders.MESSAGE_ID] ??
    ''
  );
}
