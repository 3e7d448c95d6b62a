/**
 * Header names of a dead-letter message. The payload of a dead-letter message is the original
 * payload, unchanged; everything else travels in these headers:
 *
 * - every original header, renamed `gomes.original.<name>` ({@link DEAD_LETTER_ORIGINAL_HEADER_PREFIX});
 * - the error envelope (`gomes.dlq.*`): what failed, how often, when, and where the message came from.
 *
 * @public
 */
export const DeadLetterHeaders = {
  /** `name` of the last error (e.g. `GomesError`, `TypeError`). */
  ERROR_NAME: 'gomes.dlq.errorName',
  /** `code` of the last error, when it has one (e.g. `GOMES_PROCESSING_TIMEOUT`). */
  ERROR_CODE: 'gomes.dlq.errorCode',
  /** `message` of the last error (its name when the message is empty; always present). */
  ERROR_MESSAGE: 'gomes.dlq.errorMessage',
  /** Stack of the last error, cut to {@link DEAD_LETTER_MAX_STACK_LENGTH} characters. */
  ERROR_STACK: 'gomes.dlq.errorStack',
  /** `'true'` / `'false'`: whether the last error was retriable. */
  RETRIABLE: 'gomes.dlq.retriable',
  /** Handler executions made for this delivery (decimal). */
  ATTEMPTS: 'gomes.dlq.attempts',
  /** Transport delivery attempt of the failed delivery (decimal). */
  DELIVERY_ATTEMPT: 'gomes.dlq.deliveryAttempt',
  /** When the first execution failed (ISO-8601 UTC). */
  FIRST_FAILURE_AT: 'gomes.dlq.firstFailureAt',
  /** When the last execution failed (ISO-8601 UTC). */
  LAST_FAILURE_AT: 'gomes.dlq.lastFailureAt',
  /** Channel (topic/queue) the message was consumed from. */
  ORIGIN_CHANNEL: 'gomes.dlq.originChannel',
  /** Partition it was consumed from, when the channel has partitions. */
  ORIGIN_PARTITION: 'gomes.dlq.originPartition',
  /** Offset/sequence it was consumed at, when known. */
  ORIGIN_OFFSET: 'gomes.dlq.originOffset',
  /** Name of the consumer endpoint that gave up on it. */
  CONSUMER: 'gomes.dlq.consumer',
} as const;

/**
 * Header names of a dead-lettered record that a transport could not decode. Every transport writes
 * them (the Kafka adapter's `KafkaHeaders.DLQ_*` are these names), the in-memory one next to the
 * standard envelope ({@link DeadLetterHeaders}), so tools reading either find them. @public
 */
export const UndecodableRecordHeaders = {
  /** Why the record could not be decoded (same as `gomes.dlq.errorMessage`). */
  REASON: 'gomes.dlq.reason',
  /** Source topic. */
  SOURCE_TOPIC: 'gomes.dlq.sourceTopic',
  /** Source partition. */
  SOURCE_PARTITION: 'gomes.dlq.sourcePartition',
  /** Source offset. */
  SOURCE_OFFSET: 'gomes.dlq.sourceOffset',
  /** Consumer group that failed it. */
  GROUP_ID: 'gomes.dlq.groupId',
  /** When it was dead-lettered (ISO-8601 UTC). */
  FAILED_AT: 'gomes.dlq.failedAt',
} as const;

/** Prefix of the original headers copied onto a dead-letter message. @public */
export const DEAD_LETTER_ORIGINAL_HEADER_PREFIX = 'gomes.original.';
