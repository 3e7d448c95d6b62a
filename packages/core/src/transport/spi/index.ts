/**
 * `@gomes/core/transport`: the SPI a transport author implements — a {@link PartitionedSource} for
 * consuming (the consumer core does intake, ordering, retries, settlement, dead letters, commits and
 * revoke drain on top of it), the channel contracts, channel builder bases, and the codecs a
 * transport reuses (CloudEvents, go-gomes timestamps and dead letters, topic provisioning, trace
 * context). Applications import `@gomes/core`.
 *
 * @packageDocumentation
 */
export type {
  DecodeResult,
  PartitionedSource,
  SourceListener,
  SourceRecord,
  SourcePosition,
  SourceSettlement,
} from './partitioned-source.js';
export type {
  ConsumerChannel,
  Delivery,
  DeliveryHandler,
  DeliveryPosition,
  NackOptions,
  PartitionLag,
  SubscribeOptions,
  Subscription,
  TransportDeadLetterChannel,
} from '../../channel/consumer-channel.js';
export type { PublisherChannel, SendOptions } from '../../channel/publisher-channel.js';
export type { ChannelConnection, ChannelConnectionState } from '../../channel/channel-connection.js';
export type {
  ConsumerChannelStatus,
  ConsumerTransportState,
  PartitionProgress,
} from '../../channel/consumer-channel-status.js';
export {
  readEndProblems,
  readStartProblems,
  type ChannelReader,
  type ChannelReadOptions,
  type ChannelRecord,
  type ReadEnd,
  type ReadStart,
  type RecordPosition,
} from '../../channel/channel-reader.js';
export type { ChannelBuildContext, PreflightContext } from '../../channel/channel-builders.js';
export { ConsumerChannelAdapterBuilder } from '../../channel/consumer-channel-adapter-builder.js';
export { PublisherChannelAdapterBuilder } from '../../channel/publisher-channel-adapter-builder.js';
export { PartitionOffsetTracker } from '../../channel/partition-offset-tracker.js';
export { partitionKeyOf } from '../../message/message-headers.js';
export { formatGoGomesTimestamp } from '../../message/timestamp.js';
export {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  CLOUDEVENTS_SPEC_VERSION,
  CloudEventsHeaders,
  GOMES_ENVELOPE,
  cloudEventAttributes,
  cloudEventsBinaryHeaders,
  cloudEventsModeOf,
  decodeStructuredCloudEvent,
  encodeStructuredCloudEvent,
  envelopeProblems,
  fromCloudEventsBinaryHeaders,
  isJsonContentType,
  messageEnvelope,
  type CloudEventData,
  type MessageEnvelope,
  type StructuredCloudEvent,
} from '../../message/cloudevents.js';
export { readGoGomesDeadLetter, type GoGomesDeadLetter } from '../../message/go-gomes-dead-letter.js';
export { provisionTopics, type ExistingTopic, type TopicAdmin } from '../../topics/topic-provisioning.js';
export { injectTraceContext, extractTraceContext } from '../../observability/trace-context.js';
export { resolveOptions, type ResolvedOptions } from '../../internal/resolve-options.js';
export { SourceSubscription, type SourceSubscriptionParams } from '../../consume/source-subscription.js';
