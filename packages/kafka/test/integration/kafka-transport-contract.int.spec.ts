// The core transport contract suite (`describeTransportContract`) run against the real broker.
import { Message } from '@gomes/core';
import { describeTransportContract } from '@gomes/core/testing';
import { KafkaConnection, KafkaPublisherChannelBuilder } from '@gomes/kafka';
import kafkajs from 'kafkajs';
import { uniqueTopic } from '../support/kafka-test-env.js';
import {
  closeAll,
  consumerBuilder,
  createTopic,
  env,
  readRaw,
  testDriverName,
} from '../support/kafka-harness.js';

afterAll(closeAll);

describeTransportContract('kafka', {
  timeoutMs: 30000,
  testTimeoutMs: 90000,
  quietPeriodMs: 500,
  features: { deadLettersUndecodableRecords: true, partitionedSource: true },
  connection: () =>
    new KafkaConnection('kafka', env.brokers, { driver: testDriverName(), socketConnectTimeoutMs: 5000 }),
  uniqueTopic: async (partitions) => createTopic(uniqueTopic('contract'), partitions),
  publishUndecodable: async (topic, key) => {
    // A record whose value is not JSON, written by a plain kafkajs producer (another client).
    const producer = new kafkajs.Kafka({
      brokers: env.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key, value: '{"not json' }] });
    } finally {
      await producer.disconnect();
    }
  },
  deadLetters: async (topic) =>
    (await readRaw(`${topic}.DLQ`, 1)).map((r) => new Message(r.value?.toString('utf8'), { ...r.headers })),
  publisher: (connectionName, topic) => new KafkaPublisherChannelBuilder(connectionName, topic),
  consumer: (connectionName, topic, consumerName, groupId) =>
    consumerBuilder(topic, consumerName, connectionName).withGroupId(groupId ?? consumerName),
});
