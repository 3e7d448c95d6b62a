import assert from 'node:assert/strict';
import { DEFAULT_CONSUMER_ENDPOINT_OPTIONS } from '../channel/channel-builders.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { EventDrivenConsumer } from '../endpoint/event-driven-consumer.js';
import type { PolledDelivery } from '../endpoint/polled-delivery.js';
import { PollingConsumer } from '../endpoint/polling-consumer.js';
import { noopLogger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import { deadLetters, event } from './consume-contract.js';
import { topicWithDeadLetters, type ScenarioSuite } from './scenario-setup.js';
import type { ContractHarness } from './transport-contract-harness.js';
import { waitFor } from './wait-for.js';

async function poller(
  h: ContractHarness,
  topic: string,
  name: string,
  groupId: string,
  dlq: PublisherChannel,
): Promise<PollingConsumer> {
  const channel = await h.consumer(topic, name, groupId);
  const polling = new PollingConsumer({
    name,
    makeConsumer: (handler) =>
      new EventDrivenConsumer({
        name,
        channel,
        endpointOptions: { ...DEFAULT_CONSUMER_ENDPOINT_OPTIONS, deadLetterChannelName: dlq.name },
        handler,
        channels: { publisher: (n) => (n === dlq.name ? dlq : undefined) },
        logger: noopLogger,
      }),
  }).withNackDelay(1);
  h.onCleanup(async () => polling.close(1000));
  return polling;
}

const ids = (deliveries: readonly PolledDelivery[]): number[] =>
  deliveries.map((d) => (d.message.payload as { i: number }).i).sort((a, b) => a - b);

/** Receives until `count` deliveries arrived (a source may hand records over in several fetches). */
async function receiveAll(p: PollingConsumer, count: number, timeoutMs: number): Promise<PolledDelivery[]> {
  const got: PolledDelivery[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(
      ...(await p.receive({ max: count - got.length, timeoutMs: Math.max(1, deadline - Date.now()) })),
    );
  }
  return got;
}

/**
 * The polling consumer scenarios of the contract suite: the caller settles what `receive` returns
 * (ack, nack, dead-letter) and what is unsettled at close goes to the next member of the group.
 *
 * @internal
 */
export function registerPollingScenarios({ test, factory, features, timeoutMs }: ScenarioSuite): void {
  test('polling consumer: ack, nack (handed out again), dead-letter; unsettled at close goes to the next poller', async (h) => {
    const { topic, dlqTopic, publisher, dlq } = await topicWithDeadLetters(h, factory);
    for (let i = 0; i < 6; i++) await publisher.send(event(`k${i}`, { i }));
    const group = h.consumerName('pollers');
    const first = await poller(h, topic, h.consumerName('poller-1'), group, dlq);
    const got = await receiveAll(first, 6, timeoutMs);
    assert.deepEqual(ids(got), [0, 1, 2, 3, 4, 5]);
    const byId = new Map(got.map((d) => [(d.message.payload as { i: number }).i, d]));
    assert.ok(byId.get(0)!.ack());
    assert.ok(byId.get(1)!.nack());
    assert.ok(byId.get(2)!.deadLetter('bad record'));
    const again = await receiveAll(first, 1, timeoutMs);
    assert.deepEqual(ids(again), [1], 'the nacked record is handed out again');
    if (features.countsDeliveryAttempts) assert.equal(again[0]!.deliveryAttempt, 2);
    assert.ok(again[0]!.ack());
    // 3, 4 and 5 stay unsettled: never acked, so the next member of the group gets them.
    await first.close(1000);
    assert.equal(byId.get(3)!.ack(), false, 'a delivery taken back at close cannot be settled');
    assert.equal(first.stats.acked, 3);
    let letters: Message[] = [];
    await waitFor(async () => (letters = await deadLetters(h, dlqTopic)).length >= 1, timeoutMs, {
      description: 'record 2 is dead-lettered',
    });
    assert.deepEqual(
      letters.map((m) => (m.payload as { i: number }).i),
      [2],
    );
    const second = await poller(h, topic, h.consumerName('poller-2'), group, dlq);
    const redelivered = await receiveAll(second, 3, timeoutMs);
    assert.deepEqual(
      ids(redelivered),
      [3, 4, 5],
      'the unsettled records are redelivered, the settled ones not',
    );
    for (const d of redelivered) assert.ok(d.ack());
    assert.deepEqual(await second.receive({ max: 1, timeoutMs: 200 }), [], 'nothing else is delivered');
  });
}
