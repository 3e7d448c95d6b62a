import type { Message } from '@gomes/core';

/**
 * Turns message payloads into record values and back. The default is {@link JsonMessageSerializer}
 * (the Go gomes wire format). Implementations throw when a value cannot be decoded; the consumer
 * then sends the record to the dead-letter topic.
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
  serialize(message: Message): Buffer | string | null;
  /** Decodes a record value; throws when it cannot. */
  deserialize(value: Buffer | null, headers: Readonly<Record<string, string>>): unknown;
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
