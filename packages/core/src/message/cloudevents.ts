import { GomesError } from '../errors/gomes-error.js';
import type { HeaderValues } from './message.js';
import { DEFAULT_ORIGIN, MessageHeaders, SUBJECT_HEADER } from './message-headers.js';

// The CloudEvents 1.0 mapping of gomes messages, shared by the transports (Kafka protocol binding:
// binary and structured content modes; JSON event format). See docs/cloudevents.md.

/** The CloudEvents `specversion` gomes writes (and the major version it reads). @public */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/** Media type of a structured-mode record (JSON event format). @public */
export const CLOUDEVENTS_JSON_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';

/**
 * Header names of the CloudEvents Kafka protocol binding: in binary mode every attribute is a
 * `ce_<name>` header and `datacontenttype` is `content-type`; in structured mode `content-type`
 * names the event format. gomes' correlation and causation ids are the extension attributes
 * `correlationid` and `causationid` (CloudEvents names are lowercase `a-z0-9`).
 *
 * @public
 */
export const CloudEventsHeaders = {
  CONTENT_TYPE: 'content-type',
  SPEC_VERSION: 'ce_specversion',
  ID: 'ce_id',
  SOURCE: 'ce_source',
  TYPE: 'ce_type',
  TIME: 'ce_time',
  SUBJECT: 'ce_subject',
  DATA_CONTENT_TYPE: 'ce_datacontenttype',
  CORRELATION_ID: 'ce_correlationid',
  CAUSATION_ID: 'ce_causationid',
} as const;

/** Prefix of binary-mode attribute headers. @internal */
const PREFIX = 'ce_';

/**
 * How a CloudEvent travels: `binary` (the payload as the record value, attributes as `ce_*`
 * headers) or `structured` (the record value is the whole event, JSON event format).
 *
 * @public
 */
export type CloudEventsMode = 'binary' | 'structured';

/** The CloudEvents content modes, for validation. @public */
export const CLOUDEVENTS_MODES: readonly CloudEventsMode[] = Object.freeze(['binary', 'structured']);

/**
 * How a publisher channel writes its records: gomes headers only (the default, Go-compatible), or
 * a CloudEvent alongside them (see docs/cloudevents.md). Consumers read both without configuration.
 *
 * @public
 */
export type MessageEnvelope =
  { readonly format: 'gomes' } | { readonly format: 'cloudevents'; readonly mode: CloudEventsMode };

/** The envelope names of `withEnvelope(name, options)`. @public */
export type MessageEnvelopeFormat = MessageEnvelope['format'];

/** Options of `withEnvelope('cloudevents', options)`. @public */
export interface CloudEventsEnvelopeOptions {
  /** Content mode. @default 'binary' */
  readonly mode?: CloudEventsMode;
}

/** The default envelope: gomes headers only. @public */
export const GOMES_ENVELOPE: MessageEnvelope = Object.freeze({ format: 'gomes' });

/**
 * The envelope `withEnvelope(format, options)` asks for (not validated: see {@link envelopeProblems}).
 *
 * @public
 */
export function messageEnvelope(
  format: MessageEnvelopeFormat,
  options: CloudEventsEnvelopeOptions = {},
): MessageEnvelope {
  return format === 'cloudevents'
    ? Object.freeze({ format, mode: options.mode ?? 'binary' })
    : Object.freeze({ format });
}

/** Every problem of `envelope` (empty when valid). @public */
export function envelopeProblems(envelope: MessageEnvelope): string[] {
  const format: unknown = envelope.format;
  if (format === 'gomes') return [];
  if (format !== 'cloudevents') return [`envelope "${String(format)}" is not one of gomes, cloudevents`];
  const mode: unknown = (envelope as { readonly mode?: unknown }).mode;
  return CLOUDEVENTS_MODES.includes(mode as CloudEventsMode)
    ? []
    : [`CloudEvents mode "${String(mode)}" is not one of ${CLOUDEVENTS_MODES.join(', ')}`];
}

/** Attributes mapped to gomes headers, in the order they are written. */
const MAPPED: ReadonlyArray<readonly [attribute: string, header: string]> = [
  ['id', MessageHeaders.MESSAGE_ID],
  ['source', MessageHeaders.ORIGIN],
  ['type', MessageHeaders.ROUTE],
  ['time', MessageHeaders.TIMESTAMP],
  ['subject', SUBJECT_HEADER],
  ['correlationid', MessageHeaders.CORRELATION_ID],
  ['causationid', MessageHeaders.CAUSATION_ID],
];

/** Attributes that are neither mapped to a gomes header nor extensions kept as `ce_*` headers. */
const ENVELOPE_ATTRIBUTES = new Set(['specversion', 'datacontenttype', 'data', 'data_base64']);

/**
 * The CloudEvents attributes of a message (without data): `specversion`, `id` = messageId,
 * `source` = origin, `type` = route (a message without route — a reply, a dead letter — has its
 * messageType), `time` = timestamp, `subject`, and the extensions `correlationid`, `causationid`.
 *
 * @public
 */
export function cloudEventAttributes(headers: HeaderValues): Record<string, string> {
  const attributes: Record<string, string> = { specversion: CLOUDEVENTS_SPEC_VERSION };
  for (const [attribute, header] of MAPPED) {
    const value = headers[header];
    if (value !== undefined && value !== '') attributes[attribute] = value;
  }
  attributes['source'] ??= DEFAULT_ORIGIN;
  attributes['type'] ??= headers[MessageHeaders.MESSAGE_TYPE] ?? 'Document';
  return attributes;
}

/**
 * The binary-mode headers of a message: `ce_<attribute>` for each of its
 * {@link cloudEventAttributes}, and `content-type` = `dataContentType` when there is one.
 *
 * @public
 */
export function cloudEventsBinaryHeaders(
  headers: HeaderValues,
  dataContentType: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(cloudEventAttributes(headers))) out[PREFIX + name] = value;
  if (dataContentType !== undefined) out[CloudEventsHeaders.CONTENT_TYPE] = dataContentType;
  return out;
}

/**
 * Whether record headers carry a CloudEvent, and how: `structured` when `content-type` is a
 * CloudEvents format (`application/cloudevents…`), `batch` for `application/cloudevents-batch…`
 * (not supported), `binary` when `ce_specversion` is present, else `undefined`.
 *
 * @public
 */
export function cloudEventsModeOf(
  headers: Readonly<Record<string, string | undefined>>,
): CloudEventsMode | 'batch' | undefined {
  const contentType = headers[CloudEventsHeaders.CONTENT_TYPE];
  if (contentType !== undefined) {
    const lower = contentType.trimStart().toLowerCase();
    if (lower.startsWith('application/cloudevents-batch')) return 'batch';
    if (lower.startsWith('application/cloudevents')) return 'structured';
  }
  return headers[CloudEventsHeaders.SPEC_VERSION] === undefined ? undefined : 'binary';
}

/** Whether `contentType` is JSON (`application/json`, `text/json`, `…+json`), parameters ignored. @public */
export function isJsonContentType(contentType: string): boolean {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/**
 * Turns the headers of a binary-mode record into message headers, in place. A record that carries
 * gomes' own headers (a `messageId`: written by gomes) is read by them, and its CloudEvents
 * headers are dropped. Any other record (written by another CloudEvents producer) is mapped:
 * `id` → messageId, `type` → route, `source` → origin, `time` → timestamp, `subject`,
 * `correlationid`, `causationid`; `messageType` is `Event` unless a header says otherwise. Either
 * way `content-type` goes, and unmapped extension attributes stay as `ce_<name>` headers.
 *
 * @throws GomesError `GOMES_TRANSLATION_FAILED` when a mapped record lacks a required attribute or
 * has another major `specversion`.
 * @public
 */
export function fromCloudEventsBinaryHeaders(headers: Record<string, string>): Record<string, string> {
  const byGomes = headers[MessageHeaders.MESSAGE_ID] !== undefined;
  if (!byGomes) {
    const attributes: Record<string, unknown> = {};
    for (const name of Object.keys(headers)) {
      if (name.startsWith(PREFIX)) attributes[name.slice(PREFIX.length)] = headers[name];
    }
    checkRequired(attributes);
    mapAttributes(attributes, headers);
  }
  delete headers[CloudEventsHeaders.CONTENT_TYPE];
  delete headers[CloudEventsHeaders.SPEC_VERSION];
  delete headers[CloudEventsHeaders.DATA_CONTENT_TYPE];
  for (const [attribute] of MAPPED) delete headers[PREFIX + attribute];
  return headers;
}

/** The data of a structured-mode event. @public */
export type CloudEventData =
  | { readonly kind: 'none' }
  /** `data` of a JSON event (`datacontenttype` JSON or absent): the parsed value. */
  | { readonly kind: 'json'; readonly value: unknown }
  /** `data_base64`, or a string `data` of a non-JSON content type: the bytes. */
  | { readonly kind: 'bytes'; readonly bytes: Buffer };

/** A structured-mode event read into gomes terms. @public */
export interface StructuredCloudEvent {
  /** Message headers (see {@link decodeStructuredCloudEvent}). */
  readonly headers: Record<string, string>;
  /** The event's `datacontenttype`, if any. */
  readonly dataContentType: string | undefined;
  /** The event's data. */
  readonly data: CloudEventData;
}

/**
 * The record value of a structured-mode event (JSON event format): the message's
 * {@link cloudEventAttributes}, `datacontenttype`, and `value` (the serialized payload) as `data`
 * when `dataContentType` is JSON and `value` parses as JSON, else as `data_base64`; no data for a
 * `null` value.
 *
 * @public
 */
export function encodeStructuredCloudEvent(
  headers: HeaderValues,
  value: Uint8Array | string | null,
  dataContentType: string | undefined,
): string {
  const attributes: Record<string, string> = cloudEventAttributes(headers);
  if (dataContentType !== undefined) attributes['datacontenttype'] = dataContentType;
  const head = JSON.stringify(attributes);
  if (value === null) return head;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  if (dataContentType === undefined || isJsonContentType(dataContentType)) {
    const text = bytes.toString('utf8');
    if (isJson(text)) return `${head.slice(0, -1)},"data":${text}}`;
  }
  return `${head.slice(0, -1)},"data_base64":${JSON.stringify(bytes.toString('base64'))}}`;
}

/**
 * Reads a structured-mode record (JSON event format) into message headers and data. When the
 * record's own headers carry gomes headers (a `messageId`: written by gomes), they are the message
 * headers; otherwise the attributes are mapped as in {@link fromCloudEventsBinaryHeaders}, other
 * attributes kept as `ce_<name>` headers (strings), and the record's other headers added. Either
 * way `content-type` goes.
 *
 * @param recordHeaders the record's headers (not modified)
 * @throws GomesError `GOMES_TRANSLATION_FAILED` when the value is not a JSON object, lacks a required
 * attribute or has another major `specversion`.
 * @public
 */
export function decodeStructuredCloudEvent(
  value: Uint8Array | string | null,
  recordHeaders: Readonly<Record<string, string>>,
): StructuredCloudEvent {
  if (value === null) throw invalid('a structured CloudEvents record has no value');
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    throw invalid(`the value is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw invalid('the value is not a JSON object');
  const attributes = event as Record<string, unknown>;
  checkRequired(attributes);
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(recordHeaders)) {
    if (name !== CloudEventsHeaders.CONTENT_TYPE) headers[name] = v;
  }
  if (headers[MessageHeaders.MESSAGE_ID] === undefined) {
    mapAttributes(attributes, headers);
    for (const [name, v] of Object.entries(attributes)) {
      if (ENVELOPE_ATTRIBUTES.has(name) || MAPPED.some(([a]) => a === name) || v === null) continue;
      headers[PREFIX + name] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  const dataContentType =
    typeof attributes['datacontenttype'] === 'string' ? attributes['datacontenttype'] : undefined;
  return { headers, dataContentType, data: dataOf(attributes, dataContentType) };
}

function dataOf(attributes: Record<string, unknown>, dataContentType: string | undefined): CloudEventData {
  const base64 = attributes['data_base64'];
  if (typeof base64 === 'string') return { kind: 'bytes', bytes: Buffer.from(base64, 'base64') };
  if (!('data' in attributes)) return { kind: 'none' };
  const data = attributes['data'];
  if (dataContentType !== undefined && !isJsonContentType(dataContentType) && typeof data === 'string')
    return { kind: 'bytes', bytes: Buffer.from(data, 'utf8') };
  return { kind: 'json', value: data };
}

/** Writes the mapped attributes of a foreign event as gomes headers (`messageType` Event by default). */
function mapAttributes(attributes: Record<string, unknown>, headers: Record<string, string>): void {
  for (const [attribute, header] of MAPPED) {
    const v = attributes[attribute];
    if (v === undefined || v === null || v === '') continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    // RFC 3339 allows a lowercase `t` / `z`; gomes' timestamp parser takes ISO-8601's uppercase.
    headers[header] = attribute === 'time' ? text.toUpperCase() : text;
  }
  headers[MessageHeaders.MESSAGE_TYPE] ??= 'Event';
}

function checkRequired(attributes: Record<string, unknown>): void {
  const problems: string[] = [];
  const specversion = attributes['specversion'];
  if (typeof specversion !== 'string' || specversion.split('.')[0] !== '1')
    problems.push(`specversion ${JSON.stringify(specversion)} is not 1.x`);
  for (const name of ['id', 'source', 'type']) {
    const v = attributes[name];
    if (typeof v !== 'string' || v === '') problems.push(`required attribute "${name}" is missing`);
  }
  if (problems.length > 0) throw invalid(problems.join('; '));
}

function invalid(reason: string): GomesError {
  return new GomesError('TRANSLATION_FAILED', `Not a valid CloudEvent: ${reason}`);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
