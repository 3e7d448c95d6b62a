/**
 * `@gomes/kafka`: Kafka channel adapters for gomes, on kafkajs or `@platformatic/kafka` (the
 * connection's `driver` option).
 *
 * @packageDocumentation
 */
export { Secret } from './internal/secret.js';
export { KafkaConnection, type KafkaConnectionState } from './kafka-connection.js';
export {
  DEFAULT_KAFKA_CONNECTION_OPTIONS,
  type KafkaConnectionOptions,
  type KafkaSaslOptions,
  type KafkaTlsOptions,
} from './kafka-connection-options.js';
export type {
  CompressionCodec,
  KafkaDriverName,
  KafkaGroupProtocol,
  RequiredAcks,
  SaslMechanism,
  TopicPartitions,
} from './driver/kafka-driver.js';
export { KafkaHeaders } from './kafka-headers.js';
export {
  JsonMessageSerializer,
  type MessageSerializer,
  type SerializationContext,
  type SerializerPreflightContext,
} from './message-serializer.js';
export {
  KAFKA_WIRE_FORMATS,
  KafkaMessageTranslator,
  type KafkaInboundRecord,
  type KafkaMessageTranslatorOptions,
  type KafkaOutboundRecord,
  type KafkaWireFormat,
} from './kafka-message-translator.js';
export type { KafkaTopicSpec } from './topic-provisioner.js';
export {
  DEFAULT_KAFKA_PUBLISHER_OPTIONS,
  SUPPORTED_COMPRESSION,
  validateKafkaPublisherOptions,
  type KafkaPublisherOptions,
} from './kafka-publisher-options.js';
export { KafkaPublisherChannel } from './kafka-publisher-channel.js';
export type { KafkaPublishErrorListener, KafkaPublisherStats } from './kafka-publisher-stats.js';
export { KafkaPublisherChannelBuilder } from './kafka-publisher-channel-builder.js';
export { KafkaChannelReader } from './kafka-channel-reader.js';
export { KAFKA_READER_GROUP_PREFIX } from './bounded-topic-read.js';
export {
  DEFAULT_KAFKA_CONSUMER_OPTIONS,
  validateKafkaConsumerOptions,
  type KafkaConsumerOptions,
  type KafkaIsolationLevel,
  type KafkaStartOffset,
} from './kafka-consumer-options.js';
export type { KafkaConsumerState } from './kafka-consumer-state.js';
export { KafkaConsumerChannel } from './kafka-consumer-channel.js';
export { KafkaConsumerChannelBuilder } from './kafka-consumer-channel-builder.js';
