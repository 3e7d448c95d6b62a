import { GomesError, MessageBuilder, MessageHeaders, partitionKeyOf, type Message } from '@gomes/core';
import { KafkaHeaders, LEGACY_TRACE_HEADERS } from './kafka-headers.js';
import { JsonMessageSerializer, type MessageSerializer } from './message-serializer.js';
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
 * Translates between gomes messages and Kafka records (Go gomes' `MessageTranslator`).
 *
 * Outbound (`toRecord`):
 * - every header goes on the wire as a string header, under its own name; `traceparent` /
 *   `tracestate` are written lowercase (W3C), whatever case the message used;
 * - the value is `serializer.serialize(message)` (JSON by default) and `contentType` names it;
 * - the key is the partition key: the `partitionKey` header (core's `PARTITION_KEY_HEADER`), else
 *   `correlationId` (as Go gomes), else `messageId`.
 *
 * Inbound (`fromRecord`):
 * - headers become message headers; Go gomes' `Traceparent` / `Tracestate` are read as the lowercase
 *   names; `contentType` is dropped;
 * - `messageId` is preserved as sent (never regenerated). A record from a non-gomes producer that
 *   has none gets the stable id `kafka:<topic>:<partition>:<offset>`, so redeliveries share it;
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

  constructor(serializer: MessageSerializer = new JsonMessageSerializer()) {
    this.serializer = serializer;
  }

  /**
   * Builds the record for `message`.
   *
   * @throws GomesError `GOMES_TRANSLATION_FAILED` when the payload cannot be serialized.
   */
  toRecord(message: Message): KafkaOutboundRecord {
    let value: Buffer | string | null;
    try {
      value = this.serializer.serialize(message);
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
    const key = partitionKeyOf(message.headers);
    return { key: key === '' ? null : key, value, headers };
  }

  /**
   * Builds the message carried by `record`.
   *
   * @throws GomesError `GOMES_TRANSLATION_FAILED` when the value or a reserved header cannot be decoded.
   */
  fromRecord(record: KafkaInboundRecord): Message {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(record.headers)) {
      if (name === KafkaHeaders.CONTENT_TYPE) continue;
      const normalized = LEGACY_TRACE_HEADERS[name];
      if (normalized !== undefined) {
        if (record.headers[normalized] === undefined) headers[normalized] = value;
        continue;
      }
      headers[name] = value;
    }
    headers[MessageHeaders.CHANNEL_NAME] = record.topic;
    if (!headers[MessageHeaders.MESSAGE_ID]) {
      headers[MessageHeaders.MESSAGE_ID] = `kafka:${record.topic}:${record.partition}:${record.offset}`;
    }
    if (!headers[MessageHeaders.TIMESTAMP]) {
      const ms = Number(record.timestamp);
      if (Number.isFinite(ms) && ms > 0) headers[MessageHeaders.TIMESTAMP] = new Date(ms).toISOString();
    }
    try {
      const payload = this.serializer.deserialize(record.value, record.headers);
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
}

function normalizeTraceHeader(name: string): string {
  // Only names as long as `traceparent` / `tracestate` can be one of them in another case.
  if (name.length !== KafkaHeaders.TRACEPARENT.length && name.length !== KafkaHeaders.TRACESTATE.length)
    return name;
  const lower = name.toLowerCase();
  return lower === KafkaHeaders.TRACEPARENT || lower === KafkaHeaders.TRACESTATE ? lower : name;
}
