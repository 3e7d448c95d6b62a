/**
 * Attribute names of the OpenTelemetry messaging semantic conventions (and the gomes-specific ones)
 * that gomes puts on its spans and metrics. Kept as constants so `@gomes/core` depends on
 * `@opentelemetry/api` only.
 *
 * @public
 */
export const MessagingAttributes = {
  /** Messaging system: `kafka`, or the transport id of the connection (e.g. `gomes:in-memory`). */
  SYSTEM: 'messaging.system',
  /** Topic / channel name. */
  DESTINATION_NAME: 'messaging.destination.name',
  /** Partition id, as a string. */
  PARTITION_ID: 'messaging.destination.partition.id',
  /** Operation name: `send`, `process`, `request`, `dead_letter`. */
  OPERATION_NAME: 'messaging.operation.name',
  /** Operation type: `send`, `receive`, `process`, `create`. */
  OPERATION_TYPE: 'messaging.operation.type',
  /** The gomes `messageId`. */
  MESSAGE_ID: 'messaging.message.id',
  /** The gomes `correlationId` (the conversation). */
  CONVERSATION_ID: 'messaging.message.conversation_id',
  /** Consumer group. */
  CONSUMER_GROUP: 'messaging.consumer.group.name',
  /** Kafka record key (the partition key). */
  KAFKA_MESSAGE_KEY: 'messaging.kafka.message.key',
  /** Kafka offset. */
  KAFKA_OFFSET: 'messaging.kafka.offset',
  /** Error type of a failed operation (error `code`, else `name`). */
  ERROR_TYPE: 'error.type',
  /** gomes: action name the message is routed on. */
  GOMES_ROUTE: 'gomes.route',
  /** gomes: Command, Query, Event or Document. */
  GOMES_MESSAGE_TYPE: 'gomes.message.type',
  /** gomes: `causationId` of the message. */
  GOMES_CAUSATION_ID: 'gomes.causation_id',
  /** gomes: consumer endpoint (or bus) name. */
  GOMES_ENDPOINT: 'gomes.endpoint',
  /** gomes: handler class / definition name. */
  GOMES_HANDLER: 'gomes.handler.name',
  /** gomes: transport delivery attempt (1 on first delivery). */
  GOMES_DELIVERY_ATTEMPT: 'gomes.delivery.attempt',
  /** gomes: handler executions of this delivery (retries included). */
  GOMES_ATTEMPTS: 'gomes.attempts',
  /** gomes: outcome of a process span: `success`, `filtered`, `duplicate`, `dead_lettered`, `failed`. */
  GOMES_OUTCOME: 'gomes.outcome',
  /** gomes: why a reply consumer dropped a reply: `foreign` or `unmatched`. */
  GOMES_REPLY_OUTCOME: 'gomes.reply.outcome',
  /** gomes: the idempotency key of a message an idempotent consumer skipped as a duplicate. */
  GOMES_IDEMPOTENCY_KEY: 'gomes.idempotency.key',
} as const;

/** Values of `messaging.system` gomes writes when the transport has no better name. @public */
export const GOMES_MESSAGING_SYSTEM = 'gomes';

/** Names of the span events gomes records. @public */
export const MessagingSpanEvents = {
  /** A failed attempt will be retried (attributes: attempt, delay, error). */
  RETRY: 'gomes.retry',
  /** The message was parked on the dead-letter channel. */
  DEAD_LETTERED: 'gomes.dead_lettered',
  /** An idempotent consumer skipped the message: its key was already processed. */
  DUPLICATE: 'gomes.duplicate',
  /** The reply of a request arrived. */
  REPLY_RECEIVED: 'gomes.reply_received',
} as const;
