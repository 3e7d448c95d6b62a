/**
 * `@gomes/core`: messages, channels, buses, event-driven consumers, the handler pipeline and the
 * in-memory transport.
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
export type { PublisherChannel, SendOptions } from './channel/publisher-channel.js';
export type {
  ConsumerChannel,
  Delivery,
  DeliveryHandler,
  DeliveryPosition,
  NackOptions,
  PartitionLag,
  SubscribeOptions,
  Subscription,
} from './channel/consumer-channel.js';
export type { ChannelConnection, ChannelConnectionState } from './channel/channel-connection.js';
export type {
  ConsumerChannelStatus,
  ConsumerTransportState,
  PartitionProgress,
} from './channel/consumer-channel-status.js';
export {
  DEFAULT_CONSUMER_ENDPOINT_OPTIONS,
  type ChannelBuildContext,
  type ConsumerChannelBuilder,
  type ConsumerEndpointOptions,
  type PublisherChannelBuilder,
} from './channel/channel-builders.js';
export { ConsumerChannelAdapterBuilder } from './channel/consumer-channel-adapter-builder.js';
export { PublisherChannelAdapterBuilder } from './channel/publisher-channel-adapter-builder.js';
export type { ProcessingContext, ProcessingState, ChannelResolver } from './pipeline/processing-context.js';
export {
  composeMiddleware,
  type HandlerMiddleware,
  type Interceptor,
  type MessageFilterFn,
  type MessageHandlerFn,
} from './pipeline/message-handler.js';
export {
  DEFAULT_RETRY_OPTIONS,
  resolveRetryOptions,
  retryDelayMs,
  type RetryOptions,
} from './pipeline/retry-options.js';
export { PARTITION_KEY_HEADER, partitionKeyOf } from './message/message-headers.js';
export {
  Action,
  type ActionClass,
  type ActionDescriptor,
  type ActionKind,
  type ResultOf,
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
export { validateAction } from './actions/action-validation.js';
export type { SendActionOptions } from './bus/send-action-options.js';
export { CommandBus } from './bus/command-bus.js';
export { QueryBus } from './bus/query-bus.js';
export { EventBus } from './bus/event-bus.js';
export { Gomes, type GomesState, type UnhandledErrorListener } from './gomes/gomes.js';
export { createGomes, gomes } from './gomes/create-gomes.js';
export { DEFAULT_GOMES_OPTIONS, resolveGomesOptions, type GomesOptions } from './gomes/gomes-options.js';
export {
  DEFAULT_HEALTH_OPTIONS,
  resolveHealthOptions,
  type HealthOptions,
  type ResolvedHealthOptions,
} from './gomes/health-options.js';
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
  DEAD_LETTER_ORIGINAL_HEADER_PREFIX,
  UndecodableRecordHeaders,
  DEAD_LETTER_MAX_STACK_LENGTH,
  deadLetterMessage,
  readDeadLetterEnvelope,
  type DeadLetterEnvelope,
  type DeadLetterSource,
} from './message/dead-letter-envelope.js';
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
export { TraceHeaders, injectTraceContext, extractTraceContext } from './observability/trace-context.js';
export {
  GOMES_INSTRUMENTATION_SCOPE,
  GOMES_INSTRUMENTATION_VERSION,
} from './observability/gomes-telemetry.js';
export type { PipelineObservability } from './observability/pipeline-observability.js';
export {
  KeyedExecutor,
  DEFAULT_KEYED_EXECUTOR_OPTIONS,
  type KeyedExecutorOptions,
  type KeyedExecutorStats,
  type KeyedTask,
} from './endpoint/keyed-executor.js';
export { EventDrivenConsumer } from './endpoint/event-driven-consumer.js';
export {
  DEFAULT_EVENT_DRIVEN_CONSUMER_OPTIONS,
  DEFAULT_CONSUMER_STOP_BUDGET_MS,
  validateEventDrivenConsumerOptions,
  type EventDrivenConsumerInit,
  type EventDrivenConsumerOptions,
  type EventDrivenConsumerState,
  type EventDrivenConsumerStats,
} from './endpoint/event-driven-consumer-options.js';
export { PartitionOffsetTracker } from './channel/partition-offset-tracker.js';
export { PointToPointChannel } from './channel/point-to-point-channel.js';
export { PublishSubscribeChannel } from './channel/publish-subscribe-channel.js';
export {
  InMemoryBroker,
  DEFAULT_IN_MEMORY_BROKER_OPTIONS,
  MAX_IN_MEMORY_PARTITIONS,
  resolveInMemoryBrokerOptions,
  InMemoryConnection,
  IN_MEMORY_TRANSPORT,
  inMemoryConnection,
  isInMemoryConnection,
  InMemoryPublisherChannel,
  InMemoryPublisherChannelBuilder,
  inMemoryPublisher,
  InMemoryConsumerChannel,
  InMemoryConsumerChannelBuilder,
  DEFAULT_IN_MEMORY_CONSUMER_OPTIONS,
  inMemoryConsumer,
  resolveInMemoryConsumerOptions,
  InMemorySubscription,
  HANDLER_REJECTED_REDELIVERY_DELAY_MS,
  murmur2,
  partitionForKey,
  type InMemoryBrokerOptions,
  type InMemoryRecord,
  type GroupMemberListener,
  type GroupMembership,
  type InMemoryConnectionOptions,
  type InMemoryConsumerChannelParams,
  type InMemoryConsumerOptions,
  type InMemoryStartOffset,
} from './transport/in-memory/index.js';
