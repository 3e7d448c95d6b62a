import { envelopeProblems } from '@gomes/core/transport';
import type { CompressionCodec, RequiredAcks } from './driver/kafka-driver.js';
import { KAFKA_WIRE_FORMATS, KafkaMessageTranslator } from './kafka-message-translator.js';
import { validateTopicSpec, type KafkaTopicSpec } from './topic-provisioner.js';

/**
 * Options of a Kafka publisher channel (set through {@link KafkaPublisherChannelBuilder}).
 * Durations are milliseconds.
 *
 * Safe defaults, unlike Go gomes (async + acks=0): `send` resolves only after every in-sync replica
 * acknowledged the record, with an idempotent producer (no duplicates on retry, order kept).
 *
 * @public
 */
export interface KafkaPublisherOptions {
  /** Attempts of a produce request before `send` fails (Go `WithMaxAttempts`). @default 10 */
  readonly maxAttempts: number;
  /** Most records per produce request (Go `WithBatchSize`). @default 100 */
  readonly batchSize: number;
  /** Most bytes per produce request (Go `WithBatchBytes`). @default 1048576 */
  readonly batchBytes: number;
  /**
   * Async mode (Go `WithAsync`): `send` resolves once the record is buffered; records are sent in
   * batches (size, bytes or linger), failures go to `onError` listeners and the `failed` counter,
   * and `close()` flushes. @default false
   */
  readonly async: boolean;
  /** Async mode: how long a partial batch waits for more records. @default 10 */
  readonly lingerMs: number;
  /** Async mode: most buffered records; `send` waits for room beyond it. @default 10000 */
  readonly maxBufferedMessages: number;
  /** 0 none, 1 leader, -1 all in-sync replicas (Go `WithRequiredAcks`). @default -1 */
  readonly requiredAcks: RequiredAcks;
  /** Record compression. kafkajs ships gzip; this package registers pure-JS snappy, lz4 and zstd codecs. @default 'none' */
  readonly compression: CompressionCodec;
  /** Idempotent producer (needs acks=-1). @default true */
  readonly idempotent: boolean;
  /** How long the broker may take to acknowledge a produce request. @default 30000 */
  readonly requestTimeoutMs: number;
  /**
   * Longest time a `send` takes to settle (async mode: a record may wait in the buffer, and a `send`
   * for buffer room). Past it, a record still buffered fails with `GOMES_PUBLISH_FAILED` (not
   * written) and one whose request is under way with `GOMES_PUBLISH_OUTCOME_UNKNOWN` (it may still
   * be written). Checked every tenth of it (at most every second). @default 30000
   */
  readonly sendTimeoutMs: number;
  /** Create the topic at start when it is missing. @default undefined (never create) */
  readonly topic: KafkaTopicSpec | undefined;
  /** Record ⇄ message translation (serializer and wire format included). @default JSON, `gomes` wire format */
  readonly translator: KafkaMessageTranslator;
}

/** Defaults of {@link KafkaPublisherOptions}. @public */
export const DEFAULT_KAFKA_PUBLISHER_OPTIONS: Readonly<KafkaPublisherOptions> = Object.freeze({
  maxAttempts: 10,
  batchSize: 100,
  batchBytes: 1048576,
  async: false,
  lingerMs: 10,
  maxBufferedMessages: 10000,
  requiredAcks: -1,
  compression: 'none',
  idempotent: true,
  requestTimeoutMs: 30000,
  sendTimeoutMs: 30000,
  topic: undefined,
  translator: new KafkaMessageTranslator(),
});

/** Codecs the kafkajs driver can write. @public */
export const SUPPORTED_COMPRESSION: readonly CompressionCodec[] = Object.freeze([
  'none',
  'gzip',
  'snappy',
  'lz4',
  'zstd',
]);

/** Every problem with `o` (empty when valid). @public */
export function validateKafkaPublisherOptions(o: KafkaPublisherOptions): string[] {
  const problems: string[] = [];
  const positive = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) problems.push(`${name} must be an integer >= 1, got ${String(v)}`);
  };
  positive('maxAttempts', o.maxAttempts);
  positive('batchSize', o.batchSize);
  positive('batchBytes', o.batchBytes);
  positive('maxBufferedMessages', o.maxBufferedMessages);
  positive('requestTimeoutMs', o.requestTimeoutMs);
  positive('sendTimeoutMs', o.sendTimeoutMs);
  if (!Number.isInteger(o.lingerMs) || o.lingerMs < 0)
    problems.push(`lingerMs must be an integer >= 0, got ${String(o.lingerMs)}`);
  if (![-1, 0, 1].includes(o.requiredAcks))
    problems.push(`requiredAcks must be -1 (all), 0 (none) or 1 (leader), got ${String(o.requiredAcks)}`);
  if (!SUPPORTED_COMPRESSION.includes(o.compression)) {
    problems.push(`compression "${String(o.compression)}" is not one of ${SUPPORTED_COMPRESSION.join(', ')}`);
  }
  if (o.idempotent && o.requiredAcks !== -1) {
    problems.push(
      `an idempotent producer needs requiredAcks -1 (all); use withIdempotent(false) for acks ${o.requiredAcks}`,
    );
  }
  if (o.idempotent && o.maxAttempts < 2) {
    problems.push(
      'an idempotent producer needs maxAttempts >= 2 (retries protect its sequence numbers); use withIdempotent(false) for a single attempt',
    );
  }
  if (o.topic) problems.push(...validateTopicSpec(o.topic, 'withTopic'));
  const { wireFormat, timeZone, envelope } = o.translator;
  problems.push(...envelopeProblems(envelope));
  if (envelope.format === 'cloudevents' && envelope.mode === 'structured' && wireFormat === 'go-gomes') {
    problems.push(
      "structured CloudEvents records cannot be read by Go gomes (the value is the event, not the payload): use withEnvelope('cloudevents', { mode: 'binary' }) with withWireFormat('go-gomes')",
    );
  }
  if (!KAFKA_WIRE_FORMATS.includes(wireFormat)) {
    problems.push(`wireFormat "${String(wireFormat)}" is not one of ${KAFKA_WIRE_FORMATS.join(', ')}`);
  }
  if (timeZone !== undefined && !isTimeZone(timeZone)) {
    problems.push(`wireFormat timeZone "${String(timeZone)}" is not an IANA time zone (e.g. "UTC")`);
  }
  return problems;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
