import type { Logger, Message } from '@gomes/core';

/** Where a payload is written to or read from. @public */
export interface SerializationContext {
  /** The Kafka topic of the record. */
  readonly topic: string;
}

/** What a serializer's {@link MessageSerializer.preflight | preflight} checks. @public */
export interface SerializerPreflightContext {
  /** `publisher`: the serializer writes to `topics`; `consumer`: it reads from them. */
  readonly role: 'publisher' | 'consumer';
  /** The topics written or read. */
  readonly topics: readonly string[];
  /** Names the channel in problems, e.g. `publisher "orders"`. */
  readonly channel: string;
  /** The instance logger. */
  readonly logger: Logger;
}

/**
 * Turns message payloads into record values and back. The default is {@link JsonMessageSerializer}
 * (the Go gomes wire format). Implementations throw when a value cannot be decoded; the consumer
 * then sends the record to the dead-letter topic.
 *
 * A serializer that needs I/O (say, schema ids from a schema registry) implements the optional
 * `prepare*` hooks, so `serialize` / `deserialize` stay synchronous: the channel calls the hook
 * first and awaits the promise it returns, if any. Returning `undefined` once everything needed is
 * cached keeps the hot path free of promises.
 *
 * @example
 * ```ts
 * const text: MessageSerializer = {
 *   contentType: 'text/plain',
 *   serialize: (m) => Buffer.from(String(m.payload)),
 *   deserialize: (v) => v?.toString('utf8') ?? null,
 * };
 * ```
 * @public
 */
export interface MessageSerializer {
  /** Written to the `contentType` header; `undefined` writes none. */
  readonly contentType: string | undefined;
  /**
   * Encodes the payload of `message` (`null` = tombstone). A string is written as its UTF-8 bytes:
   * the client encodes it straight into the produce request, one copy less than a `Buffer`.
   */
  serialize(message: Message, context?: SerializationContext): Buffer | string | null;
  /** Decodes a record value; throws when it cannot. */
  deserialize(
    value: Buffer | null,
    headers: Readonly<Record<string, string>>,
    context?: SerializationContext,
  ): unknown;
  /**
   * Optional: makes `serialize(message, context)` possible without I/O. Returns `undefined` when it
   * already is, or a promise that settles once it is. A rejection fails the send (a `retriable`
   * GomesError when trying again may work).
   */
  prepareSerialize?(message: Message, context: SerializationContext): Promise<void> | undefined;
  /**
   * Optional: makes `deserialize(value, headers, context)` possible without I/O. Returns `undefined`
   * when it already is, or a promise that settles once it is. A rejection with a `retriable` error
   * (e.g. the registry is unreachable) is retried with backoff while the partition waits; any other
   * rejection dead-letters the record as undecodable.
   */
  prepareDeserialize?(
    value: Buffer | null,
    headers: Readonly<Record<string, string>>,
    context: SerializationContext,
  ): Promise<void> | undefined;
  /**
   * Optional checks run by `gomes.start()` through the channel builder's preflight (e.g. register
   * schemas, check their compatibility). Resolves with every problem, one sentence each.
   */
  preflight?(context: SerializerPreflightContext): Promise<string[]>;
}

/**
 * JSON serializer: `JSON.stringify(payload)`, written as UTF-8; a `null` value (tombstone) decodes to
 * `null`. `Buffer`/`Uint8Array` payloads are written as they are (already-encoded bytes).
 *
 * @public
 */
export class JsonMessageSerializer implements MessageSerializer {
  /** @inheritDoc */
  readonly contentType = 'application/json';

  /** @inheritDoc */
  serialize(message: Message): Buffer | string | null {
    const payload = message.payload;
    if (payload === null) return null;
    if (Buffer.isBuffer(payload)) return payload;
    if (payload instanceof Uint8Array) return Buffer.from(payload);
    const json = JSON.stringify(payload);
    if (json === undefined)
      throw new TypeError(`payload of type ${typeof payload} cannot be written as JSON`);
    // The string itself, as a raw kafkajs user passes it: encoding it to a Buffer first cost an
    // allocation and a copy per record (and more garbage collection) for the same bytes.
    return json;
  }

  /** @inheritDoc */
  deserialize(value: Buffer | null): unknown {
    if (value === null) return null;
    return JSON.parse(value.toString('utf8')) as unknown;
  }
}
