import { DeadLetterHeaders, UndecodableRecordHeaders } from '@gomes/core';

/**
 * Header names the Kafka adapter writes or reads besides gomes' own (`messageId`, `correlationId`,
 * … — see `MessageHeaders` in `@gomes/core`; the partition key is core's `PARTITION_KEY_HEADER`).
 *
 * @public
 */
export const KafkaHeaders = {
  /** W3C trace context, written lowercase (Go gomes' `Traceparent` is also read). */
  TRACEPARENT: 'traceparent',
  /** W3C trace state, written lowercase (Go gomes' `Tracestate` is also read). */
  TRACESTATE: 'tracestate',
  /** Serializer content type of the record value (e.g. `application/json`). */
  CONTENT_TYPE: 'contentType',
  /** Dead-letter record: why it could not be processed. */
  DLQ_REASON: UndecodableRecordHeaders.REASON,
  /** Dead-letter record: stable gomes error code of the failure. */
  DLQ_ERROR_CODE: DeadLetterHeaders.ERROR_CODE,
  /** Dead-letter record: source topic. */
  DLQ_SOURCE_TOPIC: UndecodableRecordHeaders.SOURCE_TOPIC,
  /** Dead-letter record: source partition. */
  DLQ_SOURCE_PARTITION: UndecodableRecordHeaders.SOURCE_PARTITION,
  /** Dead-letter record: source offset. */
  DLQ_SOURCE_OFFSET: UndecodableRecordHeaders.SOURCE_OFFSET,
  /** Dead-letter record: consumer group that failed it. */
  DLQ_GROUP_ID: UndecodableRecordHeaders.GROUP_ID,
  /** Dead-letter record: when it was dead-lettered (ISO-8601 UTC). */
  DLQ_FAILED_AT: UndecodableRecordHeaders.FAILED_AT,
} as const;

/** Header names that differ from the W3C spelling only by case (Go gomes' canonical MIME case). @internal */
export const LEGACY_TRACE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  Traceparent: KafkaHeaders.TRACEPARENT,
  Tracestate: KafkaHeaders.TRACESTATE,
});
