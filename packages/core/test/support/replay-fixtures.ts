// Shared by the gomes.replay specs (packages/core/src/replay/*.spec.ts): an orders app on the
// in-memory transport, publishing in phases separated by recorded instants.
import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import { Event } from '../../src/actions/action-decorators.js';
import { defineEventHandler } from '../../src/actions/handler-definition.js';
import type { ConsumerChannelBuilder, PublisherChannelBuilder } from '../../src/channel/channel-builders.js';
import { createGomes } from '../../src/gomes/create-gomes.js';
import type { Gomes } from '../../src/gomes/gomes.js';
import type { Logger } from '../../src/logging/logger.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { InMemoryBroker } from '../../src/transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../../src/transport/in-memory/in-memory-connection.js';
import { inMemoryPublisher } from '../../src/transport/in-memory/in-memory-publisher-channel-builder.js';
import { recordingLogger } from './recording-logger.js';

@Event('replay.orderPlaced')
export class OrderPlaced {
  @IsString() orderId: string;
  @IsString() customer: string;
  @IsInt() @Min(0) seq: number;
  constructor(orderId: string, customer: string, seq: number) {
    this.orderId = orderId;
    this.customer = customer;
    this.seq = seq;
  }
}

export const TOPIC = 'replay.orders';
export const CUSTOMERS = ['ann', 'bob', 'cid', 'dee', 'eve', 'fay'];
/** Fast retries for the tests (the defaults wait 100 ms, then 200 ms). */
export const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5, jitter: 0 };

/** Instances to shut down after each test (the spec importing this file registers the hook). */
export const instances: Gomes[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map(async (g) => g.shutdown().catch(() => undefined)));
});

/** What the registered handler saw, in order. */
export type Seen = { orderId: string; customer: string; seq: number }[];

export async function app(
  handle: (order: OrderPlaced) => void | Promise<void> = () => undefined,
  broker = new InMemoryBroker(),
  logger: Logger = recordingLogger(),
  publisher: PublisherChannelBuilder = inMemoryPublisher('memory', TOPIC).withPartitions(3),
  consumers: readonly ConsumerChannelBuilder[] = [],
  extraPublishers: readonly PublisherChannelBuilder[] = [],
): Promise<{ gomes: Gomes; broker: InMemoryBroker }> {
  const gomes = createGomes({ logger })
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(publisher)
    .addActionHandler(defineEventHandler(OrderPlaced, handle));
  for (const consumer of consumers) gomes.addConsumerChannel(consumer);
  for (const extra of extraPublishers) gomes.addPublisherChannel(extra);
  instances.push(gomes);
  await gomes.start();
  return { gomes, broker };
}

/** Publishes `count` orders (customers round-robin, the customer is the partition key). */
export async function publish(gomes: Gomes, phase: string, count: number): Promise<OrderPlaced[]> {
  const bus = gomes.eventBusByChannel(TOPIC);
  const sent: OrderPlaced[] = [];
  for (let i = 0; i < count; i++) {
    const order = new OrderPlaced(`${phase}-${i}`, CUSTOMERS[i % CUSTOMERS.length]!, i);
    await bus.publish(order, { partitionKey: order.customer });
    sent.push(order);
  }
  return sent;
}

/** A time strictly after every timestamp taken so far (waits for the clock to tick). */
export async function nextInstant(): Promise<Date> {
  const now = Date.now();
  await waitFor(() => Date.now() > now, 1000, { intervalMs: 1 });
  return new Date();
}

/** Phase `before` (not in the window), `inside`, `after` (not in the window), with the window. */
export async function threePhases(
  gomes: Gomes,
  inside: number,
): Promise<{ from: Date; to: Date; expected: OrderPlaced[] }> {
  await publish(gomes, 'before', 12);
  const from = await nextInstant();
  const expected = await publish(gomes, 'inside', inside);
  const to = await nextInstant();
  await publish(gomes, 'after', 12);
  return { from, to, expected };
}

export function ids(orders: readonly { orderId: string }[]): string[] {
  return orders.map((o) => o.orderId);
}

/** Per customer (= partition key), the sequence numbers in handling order. */
export function perCustomer(orders: readonly { customer: string; seq: number }[]): Map<string, number[]> {
  const result = new Map<string, number[]>();
  for (const o of orders) result.set(o.customer, [...(result.get(o.customer) ?? []), o.seq]);
  return result;
}
