import { ConfigurationError } from '../errors/configuration-error.js';
import { isGomesError } from '../errors/gomes-error.js';
import { createGomes } from '../gomes/create-gomes.js';
import type { Gomes } from '../gomes/gomes.js';
import { noopLogger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { PARTITION_KEY_HEADER } from '../transport/in-memory/partition-key.js';
import type { PolledDelivery } from './polled-delivery.js';

describe('PollingConsumer (in-memory transport)', () => {
  let app: Gomes;
  let broker: InMemoryBroker;
  let dead: Message[];

  beforeEach(async () => {
    broker = new InMemoryBroker();
    dead = [];
    broker.onAppend('jobs.dlq', (record) => dead.push(broker.decode(record)));
    app = createGomes({ logger: noopLogger })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'jobs').withPartitions(1))
      .addPublisherChannel(inMemoryPublisher('mem', 'jobs.dlq'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'jobs', 'pollers').withDeadLetterChannelName('jobs.dlq').withPolling(),
      );
    await app.start();
  });
  afterEach(async () => app.shutdown());

  async function send(...jobs: Array<{ id: number; key: string }>): Promise<void> {
    for (const job of jobs) {
      await app
        .publisherChannel('jobs')
        .send(MessageBuilder.withPayload(job).header(PARTITION_KEY_HEADER, job.key).build());
    }
  }
  const ids = (deliveries: readonly PolledDelivery[]): number[] =>
    deliveries.map((d) => (d.message.payload as { id: number }).id);
  const jobs = (n: number, from = 0): Array<{ id: number; key: string }> =>
    Array.from({ length: n }, (_, i) => ({ id: from + i, key: `k${from + i}` }));

  it('returns up to max deliveries; acked ones are committed', async () => {
    await send(...jobs(5));
    const poller = app.pollingConsumer('pollers');
    const first = await poller.receive({ max: 3, timeoutMs: 2000 });
    expect(ids(first)).toEqual([0, 1, 2]);
    expect(first[0]?.position).toMatchObject({ channel: 'jobs', partition: 0, offset: '0' });
    const rest = await poller.receive({ max: 10, timeoutMs: 50 });
    expect(ids(rest)).toEqual([3, 4]);
    for (const d of [...first, ...rest]) expect(d.ack()).toBe(true);
    expect(first[0]?.ack()).toBe(false);
    await poller.close();
    expect(poller.stats).toMatchObject({ acked: 5, succeeded: 5 });
    expect(broker.committedOffset('pollers', 'jobs', 0)).toBe(5n);
  });

  it('hands out the next message of a key only once the previous one was settled', async () => {
    await send({ id: 0, key: 'a' }, { id: 1, key: 'a' }, { id: 2, key: 'b' });
    const poller = app.pollingConsumer('pollers');
    const first = await poller.receive({ max: 3, timeoutMs: 100 });
    expect(ids(first)).toEqual([0, 2]);
    first.forEach((d) => d.ack());
    expect(ids(await poller.receive({ max: 3, timeoutMs: 100 }))).toEqual([1]);
  });

  it('nack hands the message out again; deadLetter parks it in the dead-letter channel and acks it', async () => {
    await send(...jobs(2));
    const poller = app.pollingConsumer('pollers').withNackDelay(1);
    const [a, b] = await poller.receive({ max: 2, timeoutMs: 2000 });
    expect(a?.nack()).toBe(true);
    expect(b?.deadLetter('bad job')).toBe(true);
    const again = await poller.receive({ max: 1, timeoutMs: 2000 });
    expect(ids(again)).toEqual([0]);
    expect(again[0]?.deliveryAttempt).toBe(2);
    again[0]?.ack();
    await poller.close();
    expect(dead.map((m) => (m.payload as { id: number }).id)).toEqual([1]);
    expect(readDeadLetterEnvelope(dead[0] as Message)).toMatchObject({ errorMessage: 'bad job' });
    expect(poller.stats).toMatchObject({ acked: 2, deadLettered: 1, nacked: 1 });
    expect(broker.committedOffset('pollers', 'jobs', 0)).toBe(2n);
  });

  it('what is unsettled at close is never acked: the next poller of the group gets it', async () => {
    await send(...jobs(5));
    const poller = app.pollingConsumer('pollers');
    const got = await poller.receive({ max: 5, timeoutMs: 2000 });
    expect(ids(got)).toEqual([0, 1, 2, 3, 4]);
    got[0]?.ack();
    got[1]?.ack();
    got[3]?.ack(); // past a gap: committed only up to the unsettled offset 2
    await poller.close(100);
    expect(got[2]?.ack()).toBe(false);
    expect(broker.committedOffset('pollers', 'jobs', 0)).toBe(2n);
    const closed: unknown = await poller.receive().catch((e: unknown) => e);
    expect(isGomesError(closed) && closed.code).toBe('GOMES_CLOSED');
    const next = app.pollingConsumer('pollers');
    expect(next).not.toBe(poller);
    const redelivered = await next.receive({ max: 3, timeoutMs: 2000 });
    expect(ids(redelivered)).toEqual([2, 3, 4]);
    redelivered.forEach((d) => d.ack());
    await next.close();
    expect(broker.committedOffset('pollers', 'jobs', 0)).toBe(5n);
  });

  it('a delivery left unsettled past the processing timeout is taken back and fails like a timed-out handler', async () => {
    await send(...jobs(1));
    const poller = app.pollingConsumer('pollers').withMessageProcessingTimeout(100);
    const [held] = await poller.receive({ max: 1, timeoutMs: 2000 });
    await waitFor(() => dead.length === 1, 5000);
    expect(held?.ack()).toBe(false);
    expect(readDeadLetterEnvelope(dead[0] as Message)).toMatchObject({
      errorCode: 'GOMES_PROCESSING_TIMEOUT',
    });
  });

  it('returns what arrived when the timeout passes, and validates its options', async () => {
    const poller = app.pollingConsumer('pollers');
    expect(await poller.receive({ max: 5, timeoutMs: 20 })).toEqual([]);
    await send(...jobs(1));
    expect(ids(await poller.receive({ max: 5, timeoutMs: 100 }))).toEqual([0]);
    const invalid = poller.receive({ max: 0, timeoutMs: -1 });
    await expect(invalid).rejects.toBeInstanceOf(ConfigurationError);
    await expect(invalid).rejects.toThrow(/max must be an integer >= 1[\s\S]*timeoutMs must be an integer/);
  });
});
