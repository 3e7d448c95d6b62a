import { MessageBuilder } from '../../message/message-builder.js';
import { PARTITION_KEY_HEADER } from '../../message/message-headers.js';
import { Message } from '../../message/message.js';
import { describeTransportContract } from '../../testing/index.js';
import { InMemoryBroker } from './in-memory-broker.js';
import { InMemoryConnection } from './in-memory-connection.js';
import { inMemoryConsumer } from './in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from './in-memory-publisher-channel-builder.js';

// One broker for the whole suite, as a real cluster would be; every test uses its own topics.
const broker = new InMemoryBroker();
let topicSeq = 0;

describeTransportContract('in-memory', {
  timeoutMs: 5000,
  features: { deadLettersUndecodableRecords: true },
  quietPeriodMs: 100,
  connection: () => new InMemoryConnection('memory', { broker }),
  uniqueTopic: async (partitions) => {
    const topic = `contract-topic-${++topicSeq}`;
    broker.createTopic(topic, partitions);
    return topic;
  },
  publishUndecodable: async (topic, key) => {
    // A stored message whose timestamp header cannot be parsed: decode() rejects it.
    const valid = MessageBuilder.withPayload({ undecodable: true }).header(PARTITION_KEY_HEADER, key).build();
    broker.publish(topic, new Message(valid.payload, { ...valid.headers, timestamp: 'not-a-time' }));
    return Promise.resolve();
  },
  deadLetters: async (topic) =>
    Promise.resolve(
      broker.hasTopic(`${topic}.DLQ`) ? broker.records(`${topic}.DLQ`, 0).map((r) => broker.decode(r)) : [],
    ),
  publisher: (connectionName, topic) => inMemoryPublisher(connectionName, topic),
  consumer: (connectionName, topic, consumerName, groupId) => {
    const builder = inMemoryConsumer(connectionName, topic, consumerName).withStartOffset('earliest');
    return groupId === undefined ? builder : builder.withGroupId(groupId);
  },
});
