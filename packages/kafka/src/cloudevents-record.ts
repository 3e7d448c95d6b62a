import { GomesError, type CloudEventsMode, type Message } from '@gomes/core';
import {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  CloudEventsHeaders,
  cloudEventsBinaryHeaders,
  decodeStructuredCloudEvent,
  encodeStructuredCloudEvent,
  fromCloudEventsBinaryHeaders,
} from '@gomes/core/transport';
import { KafkaHeaders } from './kafka-headers.js';

// The CloudEvents Kafka protocol binding on top of the translator's records (see
// KafkaMessageTranslator and docs/cloudevents.md). The mapping itself is core's (message/cloudevents.ts).

/**
 * Adds the CloudEvent of `message` to a record being built, in place: binary mode adds the `ce_*`
 * headers and `content-type` (the serializer's content type) next to the gomes headers and keeps
 * `value`; structured mode replaces `contentType` with `content-type:
 * application/cloudevents+json` and returns the event (JSON event format) as the value.
 *
 * @returns the record value
 * @internal
 */
export function writeCloudEvent(
  mode: CloudEventsMode,
  message: Message,
  headers: Record<string, string>,
  value: Buffer | string | null,
  contentType: string | undefined,
): Buffer | string | null {
  if (mode === 'binary') {
    Object.assign(headers, cloudEventsBinaryHeaders(message.headers, contentType));
    return value;
  }
  delete headers[KafkaHeaders.CONTENT_TYPE];
  headers[CloudEventsHeaders.CONTENT_TYPE] = CLOUDEVENTS_JSON_CONTENT_TYPE;
  // The event's JSON text itself: the client writes it as UTF-8 (see `MessageSerializer.serialize`).
  return encodeStructuredCloudEvent(message.headers, value, contentType);
}

/** What a CloudEvents record gives the translator: message headers, and the bytes or the payload. */
export interface ReadCloudEvent {
  /** The message headers (before the translator's defaults). */
  readonly headers: Record<string, string>;
  /** The serializer's input: the data bytes, or `undefined` when `payload` is already decoded. */
  readonly value: Buffer | null | undefined;
  /** JSON data of a structured event, when the caller reads JSON itself (`jsonPayload`). */
  readonly payload?: unknown;
}

/**
 * Reads a CloudEvents record. `headers` are the record's headers as the translator copied them
 * (modified in binary mode). Structured JSON data is handed over parsed when `jsonPayload` (the
 * serializer is the JSON one), else re-encoded for the serializer.
 *
 * @throws GomesError `GOMES_TRANSLATION_FAILED` for a batch, or a record that is not a valid CloudEvent.
 * @internal
 */
export function readCloudEvent(
  mode: CloudEventsMode | 'batch',
  value: Buffer | null,
  headers: Record<string, string>,
  jsonPayload: boolean,
): ReadCloudEvent {
  if (mode === 'batch') {
    throw new GomesError(
      'TRANSLATION_FAILED',
      'Batched CloudEvents (application/cloudevents-batch+json) are not supported: produce one event per record',
    );
  }
  if (mode === 'binary') return { headers: fromCloudEventsBinaryHeaders(headers), value };
  const event = decodeStructuredCloudEvent(value, headers);
  const data = event.data;
  if (data.kind === 'none') return { headers: event.headers, value: null };
  if (data.kind === 'bytes') return { headers: event.headers, value: data.bytes };
  if (jsonPayload) return { headers: event.headers, value: undefined, payload: data.value };
  return { headers: event.headers, value: Buffer.from(JSON.stringify(data.value), 'utf8') };
}

/**
 * The bytes a serializer decodes for a record: the data of a structured CloudEvent, else the
 * record value (for the serializer's `prepareDeserialize`).
 *
 * @internal
 */
export function serializedData(
  mode: CloudEventsMode | 'batch' | undefined,
  value: Buffer | null,
  headers: Readonly<Record<string, string>>,
): Buffer | null {
  if (mode !== 'structured') return value;
  const read = readCloudEvent(mode, value, { ...headers }, false);
  return read.value ?? null;
}
