/**
 * The in-memory transport: a Kafka-shaped broker in the process (the embedded default transport and
 * a test kit), its connection and its publisher/consumer builders.
 *
 * @packageDocumentation
 */
export {
  InMemoryBroker,
  DEFAULT_IN_MEMORY_BROKER_OPTIONS,
  MAX_IN_MEMORY_PARTITIONS,
  resolveInMemoryBrokerOptions,
  type InMemoryBrokerOptions,
  type InMemoryRecord,
} from './in-memory-broker.js';
export type { GroupMemberListener, GroupMembership } from './in-memory-consumer-group.js';
export {
  InMemoryConnection,
  IN_MEMORY_TRANSPORT,
  inMemoryConnection,
  isInMemoryConnection,
  type InMemoryConnectionOptions,
} from './in-memory-connection.js';
export { InMemoryPublisherChannel } from './in-memory-publisher-channel.js';
export { InMemoryChannelReader } from './in-memory-channel-reader.js';
export { InMemoryPublisherChannelBuilder, inMemoryPublisher } from './in-memory-publisher-channel-builder.js';
export { InMemoryConsumerChannel, type InMemoryConsumerChannelParams } from './in-memory-consumer-channel.js';
export {
  InMemoryConsumerChannelBuilder,
  DEFAULT_IN_MEMORY_CONSUMER_OPTIONS,
  inMemoryConsumer,
  resolveInMemoryConsumerOptions,
  type InMemoryConsumerOptions,
} from './in-memory-consumer-channel-builder.js';
export { HANDLER_REJECTED_REDELIVERY_DELAY_MS, type InMemoryStartOffset } from './in-memory-source.js';
export { murmur2, partitionForKey } from './partition-key.js';
