/**
 * `@gomes/core/transport`: the SPI a transport author implements — a {@link PartitionedSource} for
 * consuming (the consumer core does intake, ordering, retries, settlement, dead letters, commits and
 * revoke drain on top of it) and the channel contracts for publishing.
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
  Subscription,
} from '../../channel/consumer-channel.js';
export type { PublisherChannel } from '../../channel/publisher-channel.js';
export type { ChannelConnection } from '../../channel/channel-connection.js';
export { PartitionOffsetTracker } from '../../channel/partition-offset-tracker.js';
