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

/**
 * Header names of a dead-letter redrive (`gomes.deadLetters(channel).redrive(...)`, see
 * docs/dead-letters.md).
 *
 * - `REDRIVE_COUNT` is set on every redriven message: the message is the original one (same
 *   `messageId`, same headers), so this header is how a consumer or an idempotency check tells a
 *   redrive from the first delivery, and how many times it was redriven.
 * - The others are the headers of a **redrive marker**: a small record appended to the dead-letter
 *   channel once a redriven message was confirmed stored, naming the dead letter it redrove. It is
 *   how a later list or redrive knows what was redriven (a Kafka topic cannot delete one record).
 *   A marker carries no dead-letter envelope, so `readDeadLetterEnvelope` returns `undefined` for
 *   it; `readRedriveMarker` reads it.
 *
 * @public
 */
export const RedriveHeaders = {
  /** On a redriven message: how many times it has been redriven (decimal, 1 the first time). */
  REDRIVE_COUNT: 'gomes.redriveCount',
  /** Marker: position of the redriven dead letter in its channel, `<partition>:<offset>`. */
  DEAD_LETTER: 'gomes.redrive.deadLetter',
  /** Marker: the `messageId` that was republished (the original message's). */
  MESSAGE_ID: 'gomes.redrive.messageId',
  /** Marker: the channel it was republished to. */
  TARGET_CHANNEL: 'gomes.redrive.targetChannel',
  /** Marker: the redrive count the republished message carried. */
  COUNT: 'gomes.redrive.count',
  /** Marker: when the republish was confirmed (ISO-8601 UTC). */
  REDRIVEN_AT: 'gomes.redrive.redrivenAt',
} as const;
