// The Kafka bounded reader on topics written by transactional producers: a partition whose last
// records are a transaction marker or an aborted transaction still ends (the client filters those
// records out, so the reader sees its end through the processed batch, not through a record).
import { MessageBuilder } from '@gomes/core';
import type { ChannelRecord } from '@gomes/core/transport';
import { withTimeout } from '@gomes/core/testing';
import { KafkaMessageTranslator, KafkaPublisherChannelBuilder } from '@gomes/kafka';
import kafkajs from 'kafkajs';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, connection, createTopic, ctx, env } from '../support/kafka-harness.js';

afterEach(closeAll);

/** Produces `ids` as gomes messages in one transaction, committed or aborted. */
async function inTransaction(topic: string, ids: string[], outcome: 'commit' | 'abort'): Promise<void> {
  const translator = new KafkaMessageTranslator();
  const producer = new kafkajs.Kafka({ brokers: env.brokers, logLevel: kafkajs.logLevel.NOTHING }).producer({
    transactionalId: uniqueTopic('reader-txn'),
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const transaction = await producer.transaction();
    const messages = ids.map((id) => {
      const record = translator.toRecord(MessageBuilder.withPayload({ id }).messageId(id).build());
      return { key: record.key, value: record.value, headers: { ...record.headers } };
    });
    await transaction.send({ topic, messages });
    await (outcome === 'commit' ? transaction.commit() : transaction.abort());
  } finally {
    await producer.disconnect();
  }
}

async function readIds(topic: string): Promise<string[]> {
  const conn = await connection();
  const reader = new KafkaPublisherChannelBuilder('kafka', topic).createReader(ctx(conn));
  const records: ChannelRecord[] = [];
  await withTimeout(
    (async () => {
      for await (const record of reader.read()) records.push(record);
    })(),
    30_000,
    'the bounded read',
  );
  return records.map((r) =>
    r.kind === 'message' ? r.message.messageId : `undecodable@${r.position.offset}`,
  );
}

describe('KafkaChannelReader on transactional topics (real broker)', () => {
  it('ends at a commit marker: the committed records, in order', async () => {
    const topic = await createTopic(uniqueTopic('reader-committed'), 1);
    await inTransaction(topic, ['c-1', 'c-2', 'c-3'], 'commit');
    expect(await readIds(topic)).toEqual(['c-1', 'c-2', 'c-3']);
  }, 60_000);

  it('ends after an aborted transaction at the end of the partition, without its records', async () => {
    const topic = await createTopic(uniqueTopic('reader-aborted'), 1);
    await inTransaction(topic, ['c-1', 'c-2'], 'commit');
    await inTransaction(topic, ['a-1', 'a-2', 'a-3'], 'abort');
    expect(await readIds(topic)).toEqual(['c-1', 'c-2']);
  }, 60_000);
});
