import {
  GomesError,
  isGomesError,
  MessageBuilder,
  MessageHeaders,
  parseTimestamp,
  type Message,
} from '@gomes/core';
import {
  GOMES_ENVELOPE,
  cloudEventsModeOf,
  formatGoGomesTimestamp,
  partitionKeyOf,
  type MessageEnvelope,
} from '@gomes/core/transport';
import { readCloudEvent, serializedData, writeCloudEvent } from './cloudevents-record.js';
import { KafkaHeaders, LEGACY_TRACE_HEADERS } from './kafka-headers.js';
import {
  JsonMessageSerializer,
  type MessageSerializer,
  type SerializationContext,
  type SerializerPreflightContext,
} from './message-serializer.js';
import { describeDecodeError } from './kafka-errors.js';

/** A record to produce, as the translator builds it. @public */
export interface KafkaOutboundRecord {
  /** Record key: chooses the partition (murmur2, Java-compatible). */
  readonly key: string | null;
  /** Record value (`null` = tombstone); a string is written as UTF-8. */
  readonly value: Buffer | string | null;
  /** String headers. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A consumed record, as the translator reads it. @public */
export interface KafkaInboundRecord {
  /** Source topic. */
  readonly topic: string;
  /** Source partition. */
  readonly partition: number;
  /** Offset, decimal string. */
  readonly offset: string;
  /** Record key bytes. */
  readonly key: Buffer | null;
  /** Record value bytes. */
  readonly value: Buffer | null;
  /** Headers decoded as UTF-8 strings. */
  readonly headers: Readonly<Record<string, string>>;
  /** Broker/producer timestamp, epoch milliseconds as a string. */
  readonly timestamp: string;
}

/**
 * How records are written (read is the same for both: gomes reads either):
 * - `'gomes'`: `timestamp` in ISO-8601 UTC with milliseconds, W3C lowercase `traceparent` /
 *   `tracestate`;
 * - `'go-gomes'`: what an unmodified Go gomes consumer parses — `timestamp` as
 *   `YYYY-MM-DD HH:mm:ss` in local time or `timeZone` (see `formatGoGomesTimestamp`), trace context
 *   as `Traceparent` / `Tracestate` (the only spelling Go reads).
 *
 * @public
 */
export type KafkaWireFormat = 'gomes' | 'go-gomes';

/** The wire formats, for validation. @public */
export const KAFKA_WIRE_FORMATS: readonly KafkaWireFormat[] = Object.freeze(['gomes', 'go-gomes']);

/** Options of {@link KafkaMessageTranslator}. @public */
export interface KafkaMessageTranslatorOptions {
  /** How records are written. @default 'gomes' */
  readonly wireFormat?: KafkaWireFormat;
  /**
   * `'go-gomes'` only: IANA time zone of the `timestamp` wall clock. Go gomes writes its local time
   * and its readers take the value as UTC, so `'UTC'` gives every reader the right instant.
   * @default the process's local time zone (`TZ`), as Go gomes
   */
  readonly timeZone?: string;
  /**
   * What records are written in: gomes headers only, or a CloudEvent (binary or structured
   * content mode) alongside them. Reading recognises either. See docs/cloudevents.md.
   * @default GOMES_ENVELOPE
   */
  readonly envelope?: MessageEnvelope;
}

/**
 * Translates between gomes messages and Kafka records (Go gomes' `MessageTranslator`).
 *
 * Outbound (`toRecord`):
 * - every header goes on the wire as a string header, under its own name; `traceparent` /
 *   `tracestate` are written lowercase (W3C), whatever case the message used;
 * - the value is `serializer.serialize(message)` (JSON by default) and `contentType` names it;
 * - the key is the partition key: the `partitionKey` header (core's `PARTITION_KEY_HEADER`), else
 *   `correlationId` (as Go gomes), else `messageId`;
 * - with `wireFormat: 'go-gomes'`, the `timestamp` and trace headers are written as Go gomes writes
 *   them (see {@link KafkaWireFormat});
 * - with a CloudEvents `envelope`, the record is also a CloudEvent (Kafka protocol binding): binary
 *   mode adds `ce_*` headers and `content-type`; structured mode writes the event (JSON format)
 *   as the value, with `content-type: application/cloudevents+json` (see docs/cloudevents.md).
 *
 * Inbound (`fromRecord`):
 * - headers become message headers; Go gomes' `Traceparent` / `Tracestate` are read as the lowercase
 *   names; `contentType` is dropped;
 * - `messageId` is preserved as sent (never regenerated). A record from a non-gomes producer that
 *   has none gets the stable id `kafka:<topic>:<partition>:<offset>`, so redeliveries share it;
 * - a CloudEvents record (binary: a `ce_specversion` header; structured: `content-type`
 *   `application/cloudevents…`) is recognised whatever the envelope option: written by gomes, it is
 *   read by its gomes headers; from another producer, `id` is the messageId, `type` the route,
 *   `source` the origin (see core's `fromCloudEventsBinaryHeaders`);
 * - a missing `timestamp` is taken from the record timestamp; `channelName` is the source topic;
 * - a value the serializer cannot decode, or a malformed reserved header, throws
 *   `GOMES_TRANSLATION_FAILED` (the consumer dead-letters the record and moves on).
 *
 * @example
 * ```ts
 * const translator = new KafkaMessageTranslator();
 * const record = translator.toRecord(message);
 * ```
 * @public
 */
export class KafkaMessageTranslator {
  /** The payload serializer. */
  readonly serializer: MessageSerializer;
  /** How records are written. */
  readonly wireFormat: KafkaWireFormat;
  /** `'go-gomes'`: time zone of the written `timestamp` (`undefined`: the local zone). */
  readonly timeZone: string | undefined;
  /** What records are written in (gomes headers only, or a CloudEvent alongside them). */
  readonly envelope: MessageEnvelope;

  constructor(
    serializer: MessageSerializer = new JsonMessageSerializer(),
    options: KafkaMessageTranslatorOptions = {},
  ) {
    this.serializer = serializer;
    this.wireFormat = options.wireFormat ?? 'gomes';
    this.timeZone = options.timeZone;
    this.envelope = options.envelope ?? GOMES_ENVELOPE;
  }

  /**
   * Builds the record for `message`.
   *
   * @throws GomesError `GOMES_TRANSLATION_FAILED` when the payload cannot be serialized.
   */
  toRecord(message: Message, context?: SerializationContext): KafkaOutboundRecord {
    let value: Buffer | string | null;
    try {
      value = this.serializer.serialize(message, context);
    } catch (error) {
      throw new GomesError(
        'TRANSLATION_FAILED',
        `Cannot serialize message ${message.messageId}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
          details: { messageId: message.messageId },
        },
      );
    }
    const headers: Record<string, string> = {};
    const source = message.headers; // frozen, own string properties only
    for (const name in source) headers[normalizeTraceHeader(name)] = source[name]!;
    if (this.serializer.contentType !== undefined)
      headers[KafkaHeaders.CONTENT_TYPE] = this.serializer.contentType;
    if (this.envelope.format === 'cloudevents')
      value = writeCloudEvent(this.envelope.mode, message, headers, value, this.serializer.contentType);
    if (this.wireFormat === 'go-gomes') toGoGomesHeaders(headers, this.timeZone);
    const key = partitionKeyOf(message.headers);
    return { key: key === '' ? null : key, value, headers };
  }

  /**
   * Builds the message carried by `record`.
   *
   * @throws GomesError `GOMES_TRANSLATION_FAILED` when the value or a reserved header cannot be decoded.
   */
  fromRecord(record: KafkaInboundRecord): Message {
    const cloudEvent = cloudEventsModeOf(record.headers);
    let headers: Record<string, string> = {};
    const names = Object.keys(record.headers); // no [name, value] pair allocated per header
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = record.headers[name]!;
      if (name === KafkaHeaders.CONTENT_TYPE) continue;
      const normalized = LEGACY_TRACE_HEADERS[name];
      if (normalized !== undefined) {
        if (record.headers[normalized] === undefined) headers[normalized] = value;
        continue;
      }
      headers[name] = value;
    }
    try {
      let value: Buffer | null | undefined = record.value;
      let payload: unknown;
      if (cloudEvent !== undefined) {
        // Only the JSON serializer itself (not a subclass with its own decoding) takes parsed data.
        const json = Object.getPrototypeOf(this.serializer) === JsonMessageSerializer.prototype;
        ({ headers, value, payload } = readCloudEvent(cloudEvent, value, headers, json));
      }
      headers[MessageHeaders.CHANNEL_NAME] = record.topic;
      if (!headers[MessageHeaders.MESSAGE_ID]) {
        headers[MessageHeaders.MESSAGE_ID] = `kafka:${record.topic}:${record.partition}:${record.offset}`;
      }
      if (!headers[MessageHeaders.TIMESTAMP]) {
        const ms = Number(record.timestamp);
        if (Number.isFinite(ms) && ms > 0) headers[MessageHeaders.TIMESTAMP] = new Date(ms).toISOString();
      }
      if (value !== undefined) payload = this.serializer.deserialize(value, record.headers, record);
      return MessageBuilder.buildFromOwnedHeaders(payload, headers); // `headers` is ours: no copy
    } catch (error) {
      throw new GomesError(
        'TRANSLATION_FAILED',
        `Cannot decode record ${record.topic}/${record.partition}@${record.offset}: ${describeDecodeError(error)}`,
        {
          cause: error,
          details: { topic: record.topic, partition: record.partition, offset: record.offset },
        },
      );
    }
  }

  // Serializers with I/O (the optional `prepare*` / `preflight` hooks of MessageSerializer). Each
  // returns `undefined` when there is nothing to wait for, so the hot path awaits nothing.

  /**
   * What `toRecord(message, context)` needs first (the serializer's `prepareSerialize`), or
   * `undefined` when nothing is pending. Rejects with the serializer's GomesError, or
   * `GOMES_TRANSLATION_FAILED` (not retriable) for any other error.
   */
  prepareOutbound(message: Message, context: SerializationContext): Promise<void> | undefined {
    const pending = this.serializer.prepareSerialize?.(message, context);
    return pending?.catch((error: unknown) => {
      if (isGomesError(error)) throw error;
      throw new GomesError(
        'TRANSLATION_FAILED',
        `Cannot serialize message ${message.messageId}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, details: { messageId: message.messageId, topic: context.topic } },
      );
    });
  }

  /**
   * What `fromRecord(record)` needs first (the serializer's `prepareDeserialize`), or `undefined`
   * when nothing is pending. A retriable GomesError is passed on as is (try again later); anything
   * else rejects with `GOMES_TRANSLATION_FAILED` (not retriable: the record is undecodable).
   */
  prepareInbound(record: KafkaInboundRecord): Promise<void> | undefined {
    if (this.serializer.prepareDeserialize === undefined) return undefined;
    let value: Buffer | null;
    try {
      value = serializedData(cloudEventsModeOf(record.headers), record.value, record.headers);
    } catch {
      return undefined; // not a valid CloudEvent: `fromRecord` says why
    }
    const pending = this.serializer.prepareDeserialize(value, record.headers, record);
    return pending?.catch((error: unknown) => {
      if (isGomesError(error) && error.retriable) throw error;
      throw new GomesError(
        'TRANSLATION_FAILED',
        `Cannot decode record ${record.topic}/${record.partition}@${record.offset}: ${describeDecodeError(error)}`,
        {
          cause: error,
          details: { topic: record.topic, partition: record.partition, offset: record.offset },
        },
      );
    });
  }

  /** The serializer's `preflight` problems (none when it has no preflight). */
  async preflight(context: SerializerPreflightContext): Promise<string[]> {
    return (await this.serializer.preflight?.(context)) ?? [];
  }
}

function normalizeTraceHeader(name: string): string {
  // Only names as long as `traceparent` / `tracestate` can be one of them in another case.
  if (name.length !== KafkaHeaders.TRACEPARENT.length && name.length !== KafkaHeaders.TRACESTATE.length)
    return name;
  const lower = name.toLowerCase();
  return lower === KafkaHeaders.TRACEPARENT || lower === KafkaHeaders.TRACESTATE ? lower : name;
}

/** Rewrites the headers Go gomes cannot read as it writes them: `timestamp`, trace context. */
function toGoGomesHeaders(headers: Record<string, string>, timeZone: string | undefined): void {
  const timestamp = headers[MessageHeaders.TIMESTAMP];
  if (timestamp !== undefined)
    headers[MessageHeaders.TIMESTAMP] = formatGoGomesTimestamp(parseTimestamp(timestamp), timeZone);
  for (const [goName, w3cName] of Object.entries(LEGACY_TRACE_HEADERS)) {
    const value = headers[w3cName];
    if (value === undefined) continue;
    delete headers[w3cName];
    headers[goName] = value;
  }
}
