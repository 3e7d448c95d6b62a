/**
 * Pins the runtime export list of each entry point, so an accidental export (an internal helper,
 * a tracker, an executor) fails here. Type-only exports are checked by `pnpm typecheck` in the
 * packages and examples that import them. To add an export on purpose, add it to the list.
 */
import * as core from './index.js';
import * as testing from './testing/index.js';
import * as transport from './transport/spi/index.js';

const USER_API = [
  'Action',
  'BatchEventHandler',
  'CLOUDEVENTS_MODES',
  'Command',
  'CommandBus',
  'CommandHandler',
  'ConfigurationError',
  'DEAD_LETTER_MAX_STACK_LENGTH',
  'DEAD_LETTER_ORIGINAL_HEADER_PREFIX',
  'DEFAULT_ACKNOWLEDGE_OPTIONS',
  'DEFAULT_ACTION_VALIDATION_OPTIONS',
  'DEFAULT_BATCH_HANDLER_OPTIONS',
  'DEFAULT_CONSUMER_ENDPOINT_OPTIONS',
  'DEFAULT_CONSUMER_STOP_BUDGET_MS',
  'DEFAULT_DEAD_LETTER_LIST_LIMIT',
  'DEFAULT_EVENT_DRIVEN_CONSUMER_OPTIONS',
  'DEFAULT_GOMES_OPTIONS',
  'DEFAULT_HEALTH_OPTIONS',
  'DEFAULT_IDEMPOTENCY_OPTIONS',
  'DEFAULT_IN_MEMORY_BROKER_OPTIONS',
  'DEFAULT_IN_MEMORY_CONSUMER_OPTIONS',
  'DEFAULT_ORIGIN',
  'DEFAULT_RECEIVE_OPTIONS',
  'DEFAULT_REPLAY_OPTIONS',
  'DEFAULT_RETRY_OPTIONS',
  'DEFAULT_VERSION',
  'DeadLetterChannel',
  'DeadLetterHeaders',
  'ErrorCodes',
  'Event',
  'EventBus',
  'EventDrivenConsumer',
  'EventHandler',
  'GOMES_INSTRUMENTATION_SCOPE',
  'GOMES_INSTRUMENTATION_VERSION',
  'GOMES_MESSAGING_SYSTEM',
  'Gomes',
  'GomesError',
  'InMemoryBroker',
  'InMemoryConnection',
  'InMemoryConsumerChannel',
  'InMemoryConsumerChannelBuilder',
  'InMemoryIdempotencyStore',
  'InMemoryPublisherChannel',
  'InMemoryPublisherChannelBuilder',
  'InMemoryReplayCheckpointStore',
  'MAX_IDEMPOTENCY_DURATION_MS',
  'MAX_IN_MEMORY_PARTITIONS',
  'MAX_PROCESSING_TIMEOUT_MS',
  'MESSAGE_TYPES',
  'MIN_IDEMPOTENCY_LEASE_MS',
  'Message',
  'MessageBuilder',
  'MessageHeaders',
  'MessagingAttributes',
  'MessagingMetricNames',
  'MessagingSpanEvents',
  'NonRetriableError',
  'PARTITION_KEY_HEADER',
  'PointToPointChannel',
  'PollingConsumer',
  'PublishSubscribeChannel',
  'Query',
  'QueryBus',
  'QueryHandler',
  'RESERVED_HEADER_NAMES',
  'RedriveHeaders',
  'ReplyHeaders',
  'SUBJECT_HEADER',
  'TopicPresets',
  'TopicTemplates',
  'TraceHeaders',
  'Type',
  'UndecodableRecordHeaders',
  'ValidationError',
  'acknowledge',
  'afterInterceptors',
  'beforeInterceptors',
  'composeMiddleware',
  'consumerPipeline',
  'contentBasedRouter',
  'createGomes',
  'currentIdempotencyClaim',
  'deadLetter',
  'deadLetterMessage',
  'defineBatchEventHandler',
  'defineCommandHandler',
  'defineEventHandler',
  'defineQueryHandler',
  'formatEndpointsTable',
  'formatTimestamp',
  'getActionDescriptor',
  'getHandlerDescriptor',
  'gomes',
  'idempotentConsumer',
  'inMemoryConnection',
  'inMemoryConsumer',
  'inMemoryPublisher',
  'isGomesError',
  'isRetriable',
  'messageFilter',
  'newMessageId',
  'noopLogger',
  'parseMessageType',
  'parseTimestamp',
  'partitionForKey',
  'pinoLogger',
  'processingTimeout',
  'readDeadLetterEnvelope',
  'readRedriveMarker',
  'recipientListRouter',
  'retry',
  'retryDelayMs',
  'sendReply',
  'validateAction',
];

const TRANSPORT_SPI = [
  'CLOUDEVENTS_JSON_CONTENT_TYPE',
  'CLOUDEVENTS_SPEC_VERSION',
  'CloudEventsHeaders',
  'ConsumerChannelAdapterBuilder',
  'GOMES_ENVELOPE',
  'PartitionOffsetTracker',
  'PublisherChannelAdapterBuilder',
  'cloudEventAttributes',
  'cloudEventsBinaryHeaders',
  'cloudEventsModeOf',
  'decodeStructuredCloudEvent',
  'encodeStructuredCloudEvent',
  'envelopeProblems',
  'extractTraceContext',
  'formatGoGomesTimestamp',
  'fromCloudEventsBinaryHeaders',
  'injectTraceContext',
  'isJsonContentType',
  'messageEnvelope',
  'partitionKeyOf',
  'provisionTopics',
  'readEndProblems',
  'readGoGomesDeadLetter',
  'readStartProblems',
  'resolveOptions',
  'SourceSubscription',
];

const TESTING = [
  'DEFAULT_TRANSPORT_CONTRACT_FEATURES',
  'RecordingPublisherChannel',
  'createTestDelivery',
  'describeIdempotencyStoreContract',
  'describeTransportContract',
  'holdsFor',
  'waitFor',
  'withTimeout',
];

/** Internals that must never be exported from any entry point. */
const INTERNAL = [
  'murmur2',
  'KeyedExecutor',
  'DEFAULT_KEYED_EXECUTOR_OPTIONS',
  'TrackedDelivery',
  'InMemorySubscription',
  'HANDLER_REJECTED_REDELIVERY_DELAY_MS',
  'resolveRetryOptions',
  'resolveGomesOptions',
  'resolveHealthOptions',
  'resolveInMemoryBrokerOptions',
  'resolveInMemoryConsumerOptions',
  'resolveActionValidationOptions',
  'validateEventDrivenConsumerOptions',
  'validateIdempotencyOptions',
  'startPositionProblems',
];

const keys = (m: object): string[] =>
  Object.keys(m)
    .filter((k) => k !== '__esModule')
    .sort();

describe('public export lists', () => {
  it('@gomes/core exports the user API only', () => {
    expect(keys(core)).toEqual([...USER_API].sort());
  });

  it('@gomes/core/transport exports the transport SPI', () => {
    expect(keys(transport)).toEqual([...TRANSPORT_SPI].sort());
  });

  it('@gomes/core/testing exports the test kit', () => {
    expect(keys(testing)).toEqual([...TESTING].sort());
  });

  it('no entry point exports an internal', () => {
    for (const entry of [core, transport, testing]) {
      expect(keys(entry).filter((k) => INTERNAL.includes(k))).toEqual([]);
    }
    expect(keys(core).filter((k) => keys(transport).includes(k))).toEqual([]);
  });
});
