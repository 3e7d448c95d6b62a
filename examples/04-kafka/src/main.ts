/**
 * Example 04 — gomes on a real Kafka broker.
 *
 * Four scenarios, run in sequence, each with its own gomes instance(s) and KafkaConnection:
 *
 *   1. a producer service publishes keyed events (the key picks the partition, so one customer's
 *      events stay in order);
 *   2. a consumer group with several processors handles them: different keys in parallel, each
 *      key in order, offsets committed gap-free;
 *   3. request-reply between two gomes instances: `send()` on the checkout side resolves to the
 *      inventory side's handler result (and rejects with its error); then two replicas of checkout,
 *      configured alike, send at the same time and each gets the replies to its own requests;
 *   4. (optional) start position and seek: a new consumer group "audit" reads the orders topic from
 *      a point in time (`withStartPosition`, offsets by timestamp from the broker), then rewinds to
 *      the earliest records with `seek` while it runs.
 *
 * Broker: KAFKA_BROKERS (comma-separated, default 127.0.0.1:19092). Driver: GOMES_KAFKA_DRIVER
 * (`kafkajs`, the default, or `platformatic`), read here and passed as the connection's `driver`
 * option — the library itself reads no environment. Topic names carry a run id, so every run starts
 * from empty topics.
 *
 * Run: pnpm example:kafka   (= pnpm build && node scripts/run-with-kafka.mjs node examples/04-kafka/dist/main.js)
 */
import 'reflect-metadata';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import {
  Action,
  Command,
  CommandHandler,
  Event,
  EventHandler,
  Query,
  QueryHandler,
  createGomes,
  defineEventHandler,
  isGomesError,
  type Gomes,
  type LogFields,
  type Logger,
} from '@gomes/core';
import {
  KafkaConnection,
  KafkaConsumerChannelBuilder,
  KafkaPublisherChannelBuilder,
  type KafkaDriverName,
} from '@gomes/kafka';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');
const DRIVER = kafkaDriver(process.env['GOMES_KAFKA_DRIVER']);
const RUN = Date.now().toString(36);
const TOPICS = {
  orders: `shop.orders.${RUN}`,
  inventory: `shop.inventory.${RUN}`,
  inventoryReplies: `shop.inventory.replies.${RUN}`,
} as const;

// ---------------------------------------------------------------- the contract (wire names)

@Event('orderPlaced')
class OrderPlaced {
  @IsString() customerId: string;
  @IsInt() @Min(1) orderNo: number;
  @IsString() sku: string;
  constructor(customerId: string, orderNo: number, sku: string) {
    this.customerId = customerId;
    this.orderNo = orderNo;
    this.sku = sku;
  }
}

interface StockLevel {
  sku: string;
  available: number;
}

@Query('getStock')
class GetStock extends Action<StockLevel> {
  @IsString() @MinLength(3) sku: string;
  constructor(sku: string) {
    super();
    this.sku = sku;
  }
}

@Command('reserveStock')
class ReserveStock extends Action<string> {
  @IsString() @MinLength(3) sku: string;
  @IsInt() @Min(1) quantity: number;
  constructor(sku: string, quantity: number) {
    super();
    this.sku = sku;
    this.quantity = quantity;
  }
}

// ---------------------------------------------------------------- handlers

/** Fulfilment: slow-ish work per order, so several processors overlap. */
@EventHandler(OrderPlaced)
class Fulfilment {
  readonly byCustomer = new Map<string, number[]>();
  handled = 0;
  #active = 0;
  maxParallel = 0;

  async handle(event: OrderPlaced): Promise<void> {
    this.#active++;
    this.maxParallel = Math.max(this.maxParallel, this.#active);
    try {
      await new Promise((resolve) => setTimeout(resolve, 20 + (event.orderNo % 3) * 15));
      this.byCustomer.set(event.customerId, [
        ...(this.byCustomer.get(event.customerId) ?? []),
        event.orderNo,
      ]);
      this.handled++;
      console.log(
        `  [fulfilment] order #${event.orderNo} of ${event.customerId} (${event.sku}) packed; ${this.#active} in progress`,
      );
    } finally {
      this.#active--;
    }
  }
}

@QueryHandler(GetStock)
class StockQueries {
  constructor(private readonly stock: Map<string, number>) {}
  handle(query: GetStock): StockLevel {
    console.log(`  [inventory] getStock ${query.sku}`);
    return { sku: query.sku, available: this.stock.get(query.sku) ?? 0 };
  }
}

@CommandHandler(ReserveStock)
class StockCommands {
  #next = 0;
  constructor(private readonly stock: Map<string, number>) {}
  handle(command: ReserveStock): string {
    const available = this.stock.get(command.sku) ?? 0;
    console.log(`  [inventory] reserveStock ${command.quantity} x ${command.sku} (available ${available})`);
    if (available < command.quantity) throw new Error(`only ${available} x ${command.sku} left`);
    this.stock.set(command.sku, available - command.quantity);
    return `reservation-${++this.#next}`;
  }
}

// ---------------------------------------------------------------- helpers

/** Prints gomes' errors only (warnings about retries and the like are part of other examples). */
function quietLogger(bindings: LogFields = {}): Logger {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message, fields) =>
      console.log(`  [gomes error] ${message} ${JSON.stringify({ ...bindings, ...fields })}`),
    child: (more) => quietLogger({ ...bindings, ...more }),
  };
}

function kafkaApp(name: string): Gomes {
  return createGomes({
    name,
    logger: quietLogger(),
    requestTimeoutMs: 15_000,
    shutdownTimeoutMs: 10_000,
  }).addChannelConnection(
    new KafkaConnection('kafka', BROKERS, { driver: DRIVER, clientId: `example-04-${name}` }),
  );
}

/** Fast group settings for a demo (defaults are tuned for production: 30 s sessions, 1 s commits). */
function consumer(topic: string, name: string): KafkaConsumerChannelBuilder {
  return new KafkaConsumerChannelBuilder('kafka', topic, name)
    .withGroupId(`${name}.${RUN}`)
    .withSessionTimeout(6000)
    .withHeartbeatInterval(500)
    .withMaxWait(100)
    .withCommitInterval(200);
}

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function describeError(error: unknown): string {
  return isGomesError(error) ? `${error.code}: ${error.message}` : String(error);
}

// ---------------------------------------------------------------- scenarios

const CUSTOMERS = ['alice', 'bob', 'carol'];
const ORDERS = 12;

/** 1. A producer service: publishes keyed events; the topic is created with 3 partitions. Returns
 * a time between order #6 and order #7 (for scenario 4). */
async function producerService(): Promise<Date> {
  let since = new Date();
  step(`1. producer service: ${ORDERS} orderPlaced events to ${TOPICS.orders}, keyed by customer`);
  const app = kafkaApp('order-service').addPublisherChannel(
    new KafkaPublisherChannelBuilder('kafka', TOPICS.orders).withTopic({ partitions: 3 }),
  );
  await app.start();
  const events = app.eventBusByChannel(TOPICS.orders);
  for (let orderNo = 1; orderNo <= ORDERS; orderNo++) {
    const customerId = CUSTOMERS[orderNo % CUSTOMERS.length]!;
    // publish() resolves once every in-sync replica acknowledged the record (acks=all, idempotent).
    await events.publish(new OrderPlaced(customerId, orderNo, `sku-${orderNo}`), {
      partitionKey: customerId,
    });
    console.log(`  [order-service] published orderPlaced #${orderNo} key=${customerId}`);
    if (orderNo === ORDERS / 2) since = await instantAfterLastRecord();
  }
  await app.shutdown();
  console.log('  [order-service] shut down (publisher flushed)');
  return since;
}

/** A time after every record written so far: waits for the clock to move on by a millisecond. */
async function instantAfterLastRecord(): Promise<Date> {
  const last = Date.now();
  while (Date.now() <= last) await new Promise((resolve) => setTimeout(resolve, 1));
  return new Date();
}

/** 2. A consumer group with several processors: keys in parallel, each key in order. */
async function consumerGroup(): Promise<void> {
  step(`2. consumer group "fulfilment" on ${TOPICS.orders}: 4 processors, per-key order`);
  const fulfilment = new Fulfilment();
  const app = kafkaApp('fulfilment')
    .addConsumerChannel(consumer(TOPICS.orders, 'fulfilment'))
    .addActionHandler(fulfilment);
  await app.start();
  const endpoint = app.eventDrivenConsumer('fulfilment').withAmountOfProcessors(4);
  await endpoint.run();
  await until(`${ORDERS} orders handled`, () => fulfilment.handled === ORDERS);
  for (const customer of CUSTOMERS) {
    const orders = fulfilment.byCustomer.get(customer) ?? [];
    const inOrder = orders.every((n, i) => i === 0 || n > orders[i - 1]!);
    console.log(`  ${customer}: orders ${orders.join(', ')} -> ${inOrder ? 'in order' : 'OUT OF ORDER'}`);
  }
  console.log(`  up to ${fulfilment.maxParallel} orders were packed at the same time`);
  const stats = endpoint.stats;
  await app.shutdown(); // in-flight work finishes, acked offsets are committed, the member leaves the group
  console.log(
    `  stats: received=${stats.received} succeeded=${stats.succeeded} failed=${stats.failed}; consumer ${endpoint.state}`,
  );
}

/** 3. Request-reply between two gomes instances (each its own connection, as two services would). */
async function requestReply(): Promise<void> {
  step(
    `3. request-reply: checkout -> ${TOPICS.inventory} -> inventory -> ${TOPICS.inventoryReplies} -> checkout`,
  );
  const stock = new Map([['book-42', 5]]);
  const inventory = kafkaApp('inventory')
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', TOPICS.inventoryReplies).withTopic())
    // A request whose handler fails gets an error reply, then is parked on <topic>.DLQ (not redelivered).
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', `${TOPICS.inventory}.DLQ`).withTopic())
    .addConsumerChannel(
      consumer(TOPICS.inventory, 'inventory')
        .withTopic({ partitions: 2 })
        .withSendReplyUsingReplyTo()
        .withDeadLetterChannelName(),
    )
    .addActionHandler(new StockQueries(stock))
    .addActionHandler(new StockCommands(stock));
  // Every replica of checkout is configured exactly alike. Each reads the reply topic on its own (a
  // private reader per instance, positioned at the end at start(), committing nothing), so every
  // reply reaches the replica that asked, however many replicas run.
  const checkoutReplica = (): Gomes =>
    kafkaApp('checkout')
      // Every message sent on this channel carries replyTo=<replies topic>; send() waits for the reply.
      .addPublisherChannel(
        new KafkaPublisherChannelBuilder('kafka', TOPICS.inventory).withReplyChannelName(
          TOPICS.inventoryReplies,
        ),
      )
      .addConsumerChannel(consumer(TOPICS.inventoryReplies, 'checkout.replies'));
  const checkout = checkoutReplica();
  const replica = checkoutReplica();
  try {
    await inventory.start();
    await inventory.eventDrivenConsumer('inventory').withAmountOfProcessors(2).run();
    await checkout.start();

    const level = await checkout.queryBusByChannel(TOPICS.inventory).send(new GetStock('book-42'));
    console.log(`  [checkout] getStock -> ${JSON.stringify(level)}`);
    const reservation = await checkout
      .commandBusByChannel(TOPICS.inventory)
      .send(new ReserveStock('book-42', 2));
    console.log(`  [checkout] reserveStock 2 -> ${reservation}`);
    try {
      await checkout.commandBusByChannel(TOPICS.inventory).send(new ReserveStock('book-42', 10));
    } catch (error) {
      console.log(`  [checkout] reserveStock 10 -> ${describeError(error)}`);
    }
    const after = await checkout.queryBusByChannel(TOPICS.inventory).send(new GetStock('book-42'));
    console.log(`  [checkout] getStock -> ${JSON.stringify(after)}`);

    // A second replica: both send 5 queries at the same time.
    await replica.start();
    await Promise.all(
      [checkout, replica].map(async (app, i) => {
        const levels = await Promise.all(
          Array.from({ length: 5 }, async () =>
            app.queryBusByChannel(TOPICS.inventory).send(new GetStock('book-42')),
          ),
        );
        console.log(`  [checkout replica ${i + 1}] ${levels.length} of 5 queries answered`);
      }),
    );
    await until("each replica read the other one's replies", () =>
      [checkout, replica].every((app) => app.requestReplyStats().foreign >= 5),
    );
    for (const [i, app] of [checkout, replica].entries()) {
      const { matched, foreign } = app.requestReplyStats();
      console.log(
        `  [checkout replica ${i + 1}] replies: ${matched} its own, ${foreign} for the other replica (dropped, counted)`,
      );
    }
  } finally {
    await replica.shutdown();
    await checkout.shutdown();
    await inventory.shutdown();
  }
}

/**
 * 4. Start position and seek (optional): a new group reads the topic from a point in time — the
 * broker resolves the time to an offset per partition (`offsetsForTimes`) — then, while it runs, is
 * moved back to the earliest records.
 */
async function startPositionAndSeek(since: Date): Promise<void> {
  step(`4. start position and seek: group "audit" reads ${TOPICS.orders} from a point in time, then rewinds`);
  const audited: number[] = [];
  const app = kafkaApp('audit')
    .addConsumerChannel(consumer(TOPICS.orders, 'audit'))
    .addActionHandler(defineEventHandler(OrderPlaced, (event) => void audited.push(event.orderNo)));
  await app.start();
  // Applied at the first assignment of each partition, over any committed offset of the group.
  const audit = app.eventDrivenConsumer('audit').withStartPosition({ kind: 'timestamp', timestamp: since });
  await audit.run();
  const sorted = (orders: number[]): string => [...orders].sort((a, b) => a - b).join(', ');
  await until('the orders since the start position', () => audited.length === ORDERS / 2);
  console.log(`  [audit] started after order #${ORDERS / 2}: orders ${sorted(audited)}`);
  // Running handlers finish, what is done is committed, then every partition is read from its start.
  const moved = await audit.seek({ kind: 'earliest' });
  console.log(
    `  [audit] seek earliest: ${moved.length} partitions moved to offset ${[...new Set(moved.map((m) => m.offset))].join(', ')}`,
  );
  await until('every order again', () => audited.length === ORDERS / 2 + ORDERS);
  console.log(`  [audit] after the seek: orders ${sorted(audited.slice(ORDERS / 2))}`);
  await app.shutdown();
}

export async function main(): Promise<void> {
  const startedAt = Date.now();
  console.log(`gomes example 04 — Kafka at ${BROKERS.join(',')}, driver ${DRIVER} (run ${RUN})`);
  const since = await producerService();
  await consumerGroup();
  await requestReply();
  await startPositionAndSeek(since);
  console.log(`\ndone in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(`example 04 failed: ${describeError(error)}`);
  process.exitCode = 1;
});

/** The application's driver setting (unset: kafkajs); an unknown name stops the example. */
function kafkaDriver(value: string | undefined): KafkaDriverName {
  const name = value?.trim() || 'kafkajs';
  if (name !== 'kafkajs' && name !== 'platformatic')
    throw new Error(`GOMES_KAFKA_DRIVER=${name}: expected kafkajs or platformatic`);
  return name;
}
