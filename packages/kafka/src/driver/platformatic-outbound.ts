/**
 * Outbound records in the form `@platformatic/kafka`'s producer takes (key, value and header names
 * and values as Buffers), made when a record is enqueued rather than when its produce request is
 * built.
 *
 * @packageDocumentation
 */
import type { DriverOutboundRecord } from './kafka-driver.js';

/** The record fields `@platformatic/kafka` reads (its `MessageToProduce` without topic). @internal */
export interface PlatformaticOutboundMessage {
  readonly key: Buffer | undefined;
  readonly value: Buffer | undefined;
  readonly headers: Map<Buffer, Buffer>;
  readonly partition?: number;
}

/**
 * A {@link DriverOutboundRecord} already encoded: its key and value are the encoded Buffers (the
 * same bytes; a buffered record then holds its value once, not as a string and a Buffer), its
 * headers the given strings (the publisher sizes batches with them). Made by the platformatic
 * producer's `prepare`; its `send` takes the encoded form as it is.
 *
 * @internal
 */
export class PreparedPlatformaticRecord implements DriverOutboundRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly partition?: number;
  /** The encoded record (shared by every request the record goes in: never mutated). */
  readonly message: PlatformaticOutboundMessage;

  constructor(record: DriverOutboundRecord) {
    this.message = encodeRecord(record);
    this.key = this.message.key ?? null;
    this.value = this.message.value ?? null;
    this.headers = record.headers;
    if (record.partition !== undefined) this.partition = record.partition;
  }
}

const EMPTY_HEADERS: Map<Buffer, Buffer> = new Map();

/**
 * The encoded form of `record`: header names and values through {@link HeaderEncoder} (a name
 * encoded once; a value encoded once while a header keeps it, e.g. `messageType`, `route`,
 * `contentType`), key and value encoded here (UTF-8).
 *
 * @internal
 */
export function encodeRecord(
  record: DriverOutboundRecord | PreparedPlatformaticRecord,
): PlatformaticOutboundMessage {
  if (record instanceof PreparedPlatformaticRecord) return record.message;
  const source = record.headers;
  let headers = EMPTY_HEADERS;
  for (const name in source) {
    if (headers === EMPTY_HEADERS) headers = new Map();
    const header = HEADERS.of(name);
    headers.set(header.name, header.value(source[name]!));
  }
  const { key, value } = record;
  const message = {
    key: typeof key === 'string' ? Buffer.from(key) : (key ?? undefined),
    // The translator may hand over the value as a string (kafkajs encodes strings itself).
    value: typeof value === 'string' ? Buffer.from(value) : (value ?? undefined),
    headers,
  };
  return record.partition === undefined ? message : { ...message, partition: record.partition };
}

/**
 * One header name's bytes, and the bytes of the last value written under it. The Buffers are
 * shared between records: the library only reads them (it copies them into the request).
 *
 * @internal
 */
export class EncodedHeader {
  /** The name, UTF-8. */
  readonly name: Buffer;
  #lastValue: string | undefined;
  #lastBytes: Buffer = Buffer.alloc(0);

  constructor(name: string) {
    this.name = Buffer.from(name);
  }

  /** The UTF-8 bytes of `value`: those of the previous call when the value is the same. */
  value(value: string): Buffer {
    if (value !== this.#lastValue) {
      this.#lastBytes = Buffer.from(value);
      this.#lastValue = value;
    }
    return this.#lastBytes;
  }
}

/**
 * Encoded header names (and last values), per name. A publisher writes the same few names on every
 * record (gomes' own headers, the user's), and several of their values rarely change. At most
 * `maxNames` names are kept; past that (names made per message) a name is encoded for each record.
 *
 * @internal
 */
export class HeaderEncoder {
  readonly #names = new Map<string, EncodedHeader>();
  readonly #maxNames: number;

  constructor(maxNames = 1024) {
    this.#maxNames = maxNames;
  }

  /** How many names are kept. */
  get size(): number {
    return this.#names.size;
  }

  /** The encoder of header `name`. */
  of(name: string): EncodedHeader {
    let header = this.#names.get(name);
    if (header === undefined) {
      header = new EncodedHeader(name);
      if (this.#names.size < this.#maxNames) this.#names.set(name, header);
    }
    return header;
  }
}

/** The encoder every platformatic producer of the process shares. */
const HEADERS = new HeaderEncoder();
