/**
 * `@gomes/core`: messages, channels, buses, event-driven consumers, the handler pipeline and the
 * in-memory transport — the user API. What a transport author implements or reuses is in
 * `@gomes/core/transport`; test helpers are in `@gomes/core/testing`. The export list is pinned by
 * public-exports.spec.ts.
 *
 * @packageDocumentation
 */
export { ErrorCodes, type ErrorCode, type ErrorCodeName } from './errors/error-codes.js';
export {
  GomesError,
  NonRetriableError,
  isGomesError,
  isRetriable,
  type GomesErrorOptions,
} from './errors/gomes-error.js';
export { ConfigurationError } from './errors/configuration-error.js';
export { ValidationError, type ValidationViolation } from './errors/validation-error.js';
export { noopLogger, type Logger, type LogFields } from './logging/logger.js';
export { pinoLogger, type PinoLike } from './logging/pino-logger.js';
export {
  MessageHeaders,
  RESERVED_HEADER_NAMES,
  MESSAGE_TYPES,
  DEFAULT_ORIGIN,
  DEFAULT_VERSION,
  parseMessageType,
  type MessageType,
  type ReservedHeaderName,
} from './message/message-headers.js';
export { Message, type HeaderValues } from './message/message.js';
export { MessageBuilder } from './message/message-builder.js';
export { newMessageId } from './message/message-id.js';
export { formatTimestamp, parseTimestamp } from './message/timestamp.js';
export {
  CLOUDEVENTS_MODES,
  type CloudEventsEnvelopeOptions,
  type CloudEventsMode,
  type MessageEnvelopeFormat,
} from './message/cloudevents.js';
export type { PublisherChannel, SendOptions } from './channel/publisher-channel.js';
export type { Delivery, DeliveryPosition } from './channel/consumer-channel.js';
export type { ChannelConnection, ChannelConnectionState } from './channel/channel-connection.js';
export type { ReadEnd, ReadStart } from './channel/channel-reader.js';
export {
  DEFAULT_CONSUMER_ENDPOINT_OPTIONS,
  type ConsumerChannelBuilder,
  type ConsumerEndpointOptions,
  type ConsumerIdempotency,
  type PublisherChannelBuilder,
} from './channel/channel-builders.js';
export type { ProcessingContext, ProcessingState, ChannelResolver } from './pipeline/processing-context.js';
export {
  composeMiddleware,
  type HandlerMiddleware,
  type Interceptor,
  type MessageFilterFn,
  type MessageHandlerFn,
} from './pipeline/message-handler.js';
export { DEFAULT_RETRY_OPTIONS, retryDelayMs, type RetryOptions } from './pipeline/retry-options.js';
export { PARTITION_KEY_HEADER, SUBJECT_HEADER } from './message/message-headers.js';
export {
  Action,
  type ActionClass,
  type ActionDescriptor,
  type ActionKind,
  type ResultOf,
  type SubjectOf,
} from './actions/action.js';
export { Command, Query, Event, type ActionDecoratorOptions } from './actions/action-decorators.js';
export { CommandHandler, QueryHandler, EventHandler } from './actions/handler-decorators.js';
export {
  getActionDescriptor,
  getHandlerDescriptor,
  type HandlerDescriptor,
} from './actions/action-metadata.js';
export type { HandlerContext } from './actions/handler-context.js';
export {
  defineCommandHandler,
  defineQueryHandler,
  defineEventHandler,
  type ActionHandler,
  type HandlerDefinition,
  type HandlerRegistration,
} from './actions/handler-definition.js';
export {
  BatchEventHandler,
  DEFAULT_BATCH_HANDLER_OPTIONS,
  defineBatchEventHandler,
  type BatchActionHandler,
  type BatchContext,
  type BatchEventHandlerFn,
  type BatchHandlerOptions,
  type BatchRecordOutcome,
} from './actions/batch-event-handler.js';
export {
  DEFAULT_RECEIVE_OPTIONS,
  PollingConsumer,
  type PollingConsumerState,
  type ReceiveOptions,
} from './endpoint/polling-consumer.js';
export type { PolledDelivery, PolledOutcome } from './endpoint/polled-delivery.js';
export { validateAction } from './actions/action-validation.js';
export {
  DEFAULT_ACTION_VALIDATION_OPTIONS,
  type ActionValidationOptions,
} from './actions/action-validation-options.js';
/**
 * class-transformer's `@Type(() => Class)`, re-exported: declares the class of a nested object (or
 * of each element of an array) so received payloads are turned into it and `@ValidateNested()`
 * validates it. Import it from `@gomes/core`: class-transformer keeps decorator metadata per
 * installed copy, and this is the copy gomes reads. See docs/actions-and-handlers.md, "Validation".
 *
 * @public
 */
export { Type } from 'class-transformer';
export type { SendActionOptions } from './bus/send-action-options.js';
export { CommandBus } from './bus/command-bus.js';
export { QueryBus } from './bus/query-bus.js';
export { EventBus } from './bus/event-bus.js';
export { Gomes, type GomesState, type UnhandledErrorListener } from './gomes/gomes.js';
export type { ReplyOutcome, RequestReplyStats } from './bus/request-reply-coordinator.js';
export { createGomes, gomes } from './gomes/create-gomes.js';
export { DEFAULT_GOMES_OPTIONS, type GomesOptions } from './gomes/gomes-options.js';
export { DEFAULT_HEALTH_OPTIONS, type HealthOptions } from './gomes/health-options.js';
export type {
  ConnectionHealth,
  ConsumerHealth,
  ConsumerHealthState,
  HealthReport,
  HealthStatus,
  PartitionHealth,
} from './gomes/health-report.js';
export { formatEndpointsTable, type EndpointInfo } from './gomes/active-endpoints.js';
export {
  DeadLetterHeaders,
  RedriveHeaders,
  DEAD_LETTER_ORIGINAL_HEADER_PREFIX,
  UndecodableRecordHeaders,
  DEAD_LETTER_MAX_STACK_LENGTH,
  deadLetterMessage,
  readDeadLetterEnvelope,
  type DeadLetterEnvelope,
  type DeadLetterSource,
} from './message/dead-letter-envelope.js';
export { DeadLetterChannel, DEFAULT_DEAD_LETTER_LIST_LIMIT } from './dead-letter/dead-letter-channel.js';
export {
  readRedriveMarker,
  type DeadLetter,
  type RedriveMarker,
  type RedriveMarkerPayload,
} from './dead-letter/dead-letter.js';
export type { DeadLetterFilter } from './dead-letter/dead-letter-filter.js';
export type {
  DeadLetterRedriveOptions,
  ListDeadLettersOptions,
  RedriveFailure,
  RedriveOptions,
  RedriveReport,
  RedriveSkipReason,
  RedriveStatus,
  RedrivenMessage,
  SkippedDeadLetter,
  UnreadableRecord,
} from './dead-letter/redrive-report.js';
export {
  acknowledge,
  DEFAULT_ACKNOWLEDGE_OPTIONS,
  type AcknowledgeOptions,
} from './pipeline/middleware/acknowledge.js';
export { deadLetter, type DeadLetterOptions } from './pipeline/middleware/dead-letter.js';
export { retry, type RetryHooks } from './pipeline/middleware/retry.js';
export {
  processingTimeout,
  MAX_PROCESSING_TIMEOUT_MS,
  type ProcessingTimeoutHooks,
} from './pipeline/middleware/processing-timeout.js';
export {
  beforeInterceptors,
  afterInterceptors,
  type BeforeInterceptorsOptions,
} from './pipeline/middleware/interceptors.js';
export { messageFilter, type MessageFilterOptions } from './pipeline/middleware/message-filter.js';
export {
  recipientListRouter,
  type RecipientListRouterOptions,
  type RecipientSelector,
} from './pipeline/middleware/recipient-list-router.js';
export {
  contentBasedRouter,
  type ContentBasedRouterOptions,
  type ChannelSelector,
} from './pipeline/middleware/content-based-router.js';
export {
  sendReply,
  ReplyHeaders,
  type ErrorReplyPayload,
  type SendReplyOptions,
} from './pipeline/middleware/send-reply.js';
export {
  idempotentConsumer,
  type IdempotentConsumerHooks,
} from './pipeline/middleware/idempotent-consumer.js';
export type { IdempotencyClaim, IdempotencyStore, LeaseRenewal } from './idempotency/idempotency-store.js';
export {
  DEFAULT_IDEMPOTENCY_OPTIONS,
  MIN_IDEMPOTENCY_LEASE_MS,
  MAX_IDEMPOTENCY_DURATION_MS,
  type IdempotencyOptions,
} from './idempotency/idempotency-options.js';
export {
  currentIdempotencyClaim,
  type ActiveIdempotencyClaim,
} from './idempotency/idempotency-claim-context.js';
export {
  InMemoryIdempotencyStore,
  type InMemoryIdempotencyStoreOptions,
} from './idempotency/in-memory-idempotency-store.js';
export {
  TopicTemplates,
  TopicPresets,
  type CleanupPolicy,
  type ResolvedTopic,
  type TopicMismatchPolicy,
  type TopicPreset,
  type TopicTemplate,
  type TopicTemplatesOptions,
} from './topics/topic-templates.js';
export type { TopicDifference, TopicProvisioningReport } from './topics/topic-provisioning.js';
export {
  consumerPipeline,
  type ConsumerPipelineOptions,
  type ConsumerPipelineHooks,
} from './pipeline/consumer-pipeline.js';
export {
  MessagingAttributes,
  MessagingSpanEvents,
  GOMES_MESSAGING_SYSTEM,
} from './observability/messaging-attributes.js';
export { MessagingMetricNames } from './observability/messaging-metrics.js';
export { TraceHeaders } from './observability/trace-context.js';
export {
  GOMES_INSTRUMENTATION_SCOPE,
  GOMES_INSTRUMENTATION_VERSION,
} from './observability/gomes-telemetry.js';
export { EventDrivenConsumer } from './endpoint/event-driven-consumer.js';
export type { SeekedPartition, SeekOptions, StartPosition } from './consume/start-position.js';
export {
  DEFAULT_EVENT_DRIVEN_CONSUMER_OPTIONS,
  DEFAULT_CONSUMER_STOP_BUDGET_MS,
  type EventDrivenConsumerOptions,
  type EventDrivenConsumerState,
  type EventDrivenConsumerStats,
} from './endpoint/event-driven-consumer-options.js';
export { PointToPointChannel } from './channel/point-to-point-channel.js';
export { PublishSubscribeChannel } from './channel/publish-subscribe-channel.js';
export {
  InMemoryBroker,
  DEFAULT_IN_MEMORY_BROKER_OPTIONS,
  MAX_IN_MEMORY_PARTITIONS,
  InMemoryConnection,
  inMemoryConnection,
  InMemoryPublisherChannel,
  InMemoryPublisherChannelBuilder,
  inMemoryPublisher,
  InMemoryConsumerChannel,
  InMemoryConsumerChannelBuilder,
  DEFAULT_IN_MEMORY_CONSUMER_OPTIONS,
  inMemoryConsumer,
  partitionForKey,
  type InMemoryBrokerOptions,
  type InMemoryRecord,
  type InMemoryConnectionOptions,
  type InMemoryConsumerChannelParams,
  type InMemoryConsumerOptions,
  type InMemoryStartOffset,
} from './transport/in-memory/index.js';
export {
  DEFAULT_REPLAY_OPTIONS,
  type ReplayCheckpointOptions,
  type ReplayFailurePolicy,
  type ReplayHandler,
  type ReplayHandlerContext,
  type ReplayOptions,
} from './replay/replay-options.js';
export type {
  ReplayFailure,
  ReplayPartitionReport,
  ReplayReport,
  ReplayStatus,
} from './replay/replay-report.js';
export type { ReplayCheckpoint, ReplayCheckpointStore } from './replay/replay-checkpoint-store.js';
export { InMemoryReplayCheckpointStore } from './replay/in-memory-replay-checkpoint-store.js';
