// Go gomes' Kafka wire contract, as fixtures and as a checker, taken from the Go source (gomes
// ecc8995: message/message.go `NewHeader` and `NewMessageBuilderFromHeaders`, channel/kafka's
// `MessageTranslator.FromMessage` / `ToMessage`, handler/dead_letter.go):
//
// - headers: all strings; `origin` (`Gomes`), `route` (= `Action.Name()`), `messageType`
//   (`Command|Query|Event|Document`), `timestamp` (Go layout `2006-01-02 15:04:05`: local time, no
//   zone, seconds), `correlationId` (uuid v4), `channelName`, `messageId` (uuid v4), `replyTo`,
//   `version` (`1.0`), plus `Traceparent` / `Tracestate` when a propagator is set, plus custom ones;
// - key = `correlationId`; value = `json.Marshal` of the action struct;
// - reading: the nine names are mapped, other names kept as custom headers, empty values skipped, an
//   unparsable `timestamp` is an error (the Kafka adapter then skips the record), an unknown
//   `messageType` becomes `Document`, routing is by `route` only, only `Traceparent` is read for
//   trace context, and `ToMessage` gives the message a new `messageId`;
// - dead letter: a `Document` (new `messageId` and `timestamp`, `channelName` = the dead-letter
//   channel, the original `correlationId`, no `route`) whose JSON body is
//   `{"ReasonError": <error>, "Payload": <original JSON value>, "Headers": {<original headers>}}`.

/** A record as it is on the wire: key, value and headers as UTF-8 strings. */
export interface WireRecord {
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** The header names Go gomes' `NewMessageBuilderFromHeaders` maps, plus the trace header it reads. */
export const GO_GOMES_HEADER_NAMES = [
  'origin',
  'route',
  'messageType',
  'timestamp',
  'correlationId',
  'channelName',
  'messageId',
  'replyTo',
  'version',
  'Traceparent',
  'Tracestate',
] as const;

const GO_MESSAGE_TYPES = ['Command', 'Query', 'Event', 'Document'];
const GO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export const GO_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/**
 * A command as Go gomes' `CommandBusByChannel(channel).Send(ctx, PlaceOrder{OrderID: "o-42",
 * Quantity: 2})` writes it with tracing on (`json:"orderId"` / `json:"quantity"` tags), no reply
 * channel configured (`replyTo` empty).
 */
export function goCommandRecord(channelName: string): WireRecord {
  const correlationId = '6f1c7a52-9d2e-4c1b-8f3a-2b7e9d4c5a10';
  return {
    key: correlationId,
    value: '{"orderId":"o-42","quantity":2}',
    headers: {
      origin: 'Gomes',
      route: 'goInterop.placeOrder',
      messageType: 'Command',
      timestamp: '2026-02-17 10:11:12',
      correlationId,
      channelName,
      messageId: 'c2d8e1f4-7b6a-4e3d-9c2b-1a0f9e8d7c6b',
      replyTo: '',
      version: '1.0',
      Traceparent: GO_TRACEPARENT,
    },
  };
}

/** An event as Go gomes' `EventBusByChannel(channel).Publish(ctx, OrderPlaced{...})` writes it, tracing off. */
export function goEventRecord(channelName: string): WireRecord {
  const correlationId = '0b9e6f3d-2c1a-4d8e-b7f6-5a4c3b2a1908';
  return {
    key: correlationId,
    value: '{"orderId":"o-42","total":99.5}',
    headers: {
      origin: 'Gomes',
      route: 'goInterop.orderPlaced',
      messageType: 'Event',
      timestamp: '2026-02-17 10:11:13',
      correlationId,
      channelName,
      messageId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      version: '1.0',
    },
  };
}

/**
 * The dead letter Go gomes writes to `deadLetterChannel` when the handler of `original` failed with
 * `reason`: `Headers` are the headers of the message Go's consumer built from `original` (empty
 * values skipped, a new `messageId` from `ToMessage`).
 */
export function goDeadLetterRecord(
  deadLetterChannel: string,
  original: WireRecord,
  reason: string,
): WireRecord {
  const correlationId = original.headers['correlationId']!;
  const consumed = Object.fromEntries(Object.entries(original.headers).filter(([, v]) => v !== ''));
  consumed['messageId'] = '5d4c3b2a-1908-4f7e-a6d5-c4b3a2918070';
  return {
    key: correlationId,
    value: JSON.stringify({ ReasonError: reason, Payload: JSON.parse(original.value!), Headers: consumed }),
    headers: {
      origin: 'Gomes',
      messageType: 'Document',
      timestamp: '2026-02-17 10:11:15',
      correlationId,
      channelName: deadLetterChannel,
      messageId: '3e2d1c0b-9a8f-4e7d-8c6b-5a4938271605',
      version: '1.0',
    },
  };
}

/** What a Go gomes consumer makes of a record (see {@link readAsGoGomes}). */
export interface GoGomesView {
  /** Every way the record falls short of what Go parses as intended (empty: Go reads it fully). */
  readonly problems: string[];
  readonly messageType: string;
  readonly route: string | undefined;
  readonly correlationId: string | undefined;
  /** `time.Parse("2006-01-02 15:04:05", v)`: the wall clock read as UTC. */
  readonly timestamp: Date | undefined;
  readonly traceparent: string | undefined;
  /** Headers Go keeps as custom headers (names it does not map). */
  readonly custom: Readonly<Record<string, string>>;
  readonly payload: unknown;
}

/** `time.Parse("2006-01-02 15:04:05", value)`: exact layout, valid calendar date and time, read as UTC. */
function parseGoTimestamp(value: string): Date | undefined {
  const m = GO_TIMESTAMP.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  const exact =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === sec;
  return exact ? date : undefined;
}

/** Reads `record` as Go gomes' Kafka consumer does, listing everything it would not read as meant. */
export function readAsGoGomes(record: WireRecord): GoGomesView {
  const problems: string[] = [];
  const known = new Map(GO_GOMES_HEADER_NAMES.map((n) => [n.toLowerCase(), n as string]));
  const read: Record<string, string> = {};
  const custom: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    const goName = known.get(name.toLowerCase());
    if (goName !== undefined && goName !== name) {
      problems.push(`header "${name}": Go reads "${goName}" (header names are case-sensitive)`);
    }
    if (value === '') continue; // NewMessageBuilderFromHeaders skips empty values
    if (goName === name) read[name] = value;
    else custom[name] = value;
  }
  const timestamp = read['timestamp'] === undefined ? undefined : parseGoTimestamp(read['timestamp']);
  if (read['timestamp'] !== undefined && timestamp === undefined) {
    problems.push(
      `timestamp "${read['timestamp']}" does not parse with Go layout "2006-01-02 15:04:05" (Go skips the record)`,
    );
  }
  const messageType = read['messageType'] ?? 'Document';
  if (!GO_MESSAGE_TYPES.includes(messageType)) {
    problems.push(
      `messageType "${messageType}" is not one of ${GO_MESSAGE_TYPES.join('|')} (Go reads Document)`,
    );
  }
  if (messageType !== 'Document' && read['route'] === undefined) {
    problems.push(`a ${messageType} without route cannot be routed by Go`);
  }
  if (custom['gomes.partitionKey'] === undefined && record.key !== (read['correlationId'] ?? null)) {
    problems.push(`key "${String(record.key)}" is not the correlationId "${String(read['correlationId'])}"`);
  }
  let payload: unknown;
  try {
    payload = record.value === null ? null : (JSON.parse(record.value) as unknown);
  } catch {
    problems.push('the value is not JSON (json.Unmarshal fails)');
  }
  return {
    problems,
    messageType,
    route: read['route'],
    correlationId: read['correlationId'],
    timestamp,
    traceparent: read['Traceparent'],
    custom,
    payload,
  };
}

/** Bytes/strings of a raw record as a {@link WireRecord}. */
export function wireRecord(record: {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Readonly<Record<string, string>>;
}): WireRecord {
  const text = (v: Buffer | string | null): string | null => (v === null ? null : v.toString());
  return { key: text(record.key), value: text(record.value), headers: record.headers };
}
