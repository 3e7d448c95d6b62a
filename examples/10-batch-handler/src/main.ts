/**
 * Example 10 — a batch event handler and a polling consumer.
 *
 * `projector` consumes `items` with 2 processors and hands the events to a batch handler
 * (`maxSize` 10, `maxWaitMs` 20): it "writes" each batch in one call and returns one outcome per
 * event — a negative quantity is dead-lettered, the first try of item 13 asks for a retry, the rest
 * is done. Batches hold more events than processors and at most one event per key. Then
 * `item-pullers` pulls the dead letters with a polling consumer and acks them.
 *
 * Run: pnpm build && node examples/10-batch-handler/dist/main.js
 */
import 'reflect-metadata';
import {
  Event,
  createGomes,
  defineBatchEventHandler,
  inMemoryConnection,
  inMemoryConsumer,
  inMemoryPublisher,
  noopLogger,
  readDeadLetterEnvelope,
  type BatchRecordOutcome,
} from '@gomes/core';

@Event('itemAdded')
class ItemAdded {
  constructor(
    readonly id: number,
    readonly sku: string,
    readonly quantity: number,
  ) {}
}

async function main(): Promise<void> {
  const tries = new Map<number, number>();
  const app = createGomes({ name: 'inventory', logger: noopLogger })
    .addChannelConnection(inMemoryConnection('mem'))
    .addPublisherChannel(inMemoryPublisher('mem', 'items').withPartitions(2))
    .addPublisherChannel(inMemoryPublisher('mem', 'items.DLQ'))
    .addConsumerChannel(
      inMemoryConsumer('mem', 'items', 'projector')
        .withRetry({ maxAttempts: 3, initialDelayMs: 10 })
        .withDeadLetterChannelName('items.DLQ'),
    )
    .addConsumerChannel(inMemoryConsumer('mem', 'items.DLQ', 'item-pullers').withPolling())
    .addActionHandler(
      defineBatchEventHandler(
        ItemAdded,
        (events): BatchRecordOutcome[] => {
          const skus = events.map((e) => e.sku);
          console.log(
            `batch of ${events.length}: ${events.map((e) => e.id).join(',')} (distinct skus: ${new Set(skus).size === skus.length})`,
          );
          return events.map((e) => {
            const n = (tries.get(e.id) ?? 0) + 1;
            tries.set(e.id, n);
            if (e.quantity < 0) return 'dead-letter';
            if (e.id === 13 && n === 1) return 'retry';
            return 'done';
          });
        },
        { maxSize: 10, maxWaitMs: 20 },
      ),
    );
  await app.start();
  const consumer = app.eventDrivenConsumer('projector').withAmountOfProcessors(2);
  await consumer.run();

  const bus = app.eventBusByChannel('items');
  for (let id = 0; id < 30; id++) {
    const item = new ItemAdded(id, `sku-${id % 12}`, id === 7 ? -1 : 1);
    await bus.publish(item, { partitionKey: item.sku });
  }
  while (consumer.stats.acked < 30) await new Promise((resolve) => setTimeout(resolve, 10));
  const { succeeded, deadLettered, retried } = consumer.stats;
  console.log(`projector: succeeded=${succeeded} deadLettered=${deadLettered} retried=${retried}`);

  const poller = app.pollingConsumer('item-pullers');
  for (const d of await poller.receive({ max: 10, timeoutMs: 200 })) {
    const envelope = readDeadLetterEnvelope(d.message);
    console.log(`pulled dead letter ${JSON.stringify(d.message.payload)}: ${envelope?.errorMessage}`);
    d.ack();
  }
  await app.shutdown();
  console.log('gomes stopped');
}

await main();
