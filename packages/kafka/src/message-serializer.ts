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
  /** Encodes the payload of `message` (`null` = tombstone). */
  serialize(message: Message): Buffer | null;
  /** Decodes a record value; throws when it cannot. */
  deserialize(value: Buffer | null, headers: Readonly<Record<string, string>>): unknown;
}

/**
 * JSON serializer: `JSON.stringify(payload)` as UTF-8; a `null` value (tombstone) decodes to `null`.
 * `Buffer`/`Uint8Array` payloads are written as they are (already-encoded bytes).
 *
 * @public
 */
export class JsonMessageSerializer implements MessageSerializer {
  /** @inheritDoc */
  readonly contentType = 'application/json';

  /** @inheritDoc */
  serialize(message: Message): Buffer | null {
    const payload = message.payload;
    if (payload === null) return null;
    if (Buffer.isBuffer(payload)) return payload;
    if (payload instanceof Uint8Array) return Buffer.from(payload);
    const json = JSON.stringify(payload);
    if (json === undefined)
      throw new TypeError(`payload of type ${typeof payload} cannot be written as JSON`);
    return Buffer.from(json, 'utf8');
  }

  /** @inheritDoc */
  deserialize(value: Buffer | null): unknown {
    if (value === null) return null;
    return JSON.parse(value.toString('utf8')) as unknown;
  }
}
