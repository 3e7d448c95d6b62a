// The core transport contract suite (`describeTransportContract`) run against the real broker.
import { describeTransportContract } from '@gomes/core/testing';
import { KafkaConnection, KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, consumerBuilder, createTopic, env } from '../support/kafka-harness.js';

afterAll(closeAll);

describeTransportContract('kafka', {
  timeoutMs: 30000,
  testTimeoutMs: 90000,
  quietPeriodMs: 500,
  connection: () => new KafkaConnection('kafka', env.brokers, { connectionTimeoutMs: 5000 }),
  uniqueTopic: async (partitions) => createTopic(uniqueTopic('contract'), partitions),
  publisher: (connectionName, topic) => new KafkaPublisherChannelBuilder(connectionName, topic),
  consumer: (connectionName, topic, consumerName, groupId) =>
    consumerBuilder(topic, consumerName, connectionName).withGroupId(groupId ?? consumerName),
});
