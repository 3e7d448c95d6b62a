import assert from 'node:assert/strict';
import type { ChannelConnection } from '../channel/channel-connection.js';
import type {
  ConsumerChannel,
  Delivery,
  DeliveryHandler,
  Subscription,
} from '../channel/consumer-channel.js';
import type { ChannelReader } from '../channel/channel-reader.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { noopLogger } from '../logging/logger.js';
import type { TransportContractFactory } from './transport-contract.js';
import { withTimeout } from './wait-for.js';

/** What a collecting handler does with each delivery. @internal */
export type SettleDecision = 'ack' | 'nack' | 'none' | { nackDelayMs: number };

/** Deliveries received by one subscription. @internal */
export interface Collector {
  readonly deliveries: Delivery[];
  readonly subscription: Subscription;
  readonly errors: Error[];
  /** Message ids, in delivery order. */
  ids(): string[];
}

/**
 * One test's resources: a connected connection plus every channel and subscription it built, all
 * closed by `cleanup()` (in reverse order, each failure ignored so the rest still closes).
 *
 * @internal
 */
export class ContractHarness {
  readonly #factory: TransportContractFactory;
  readonly connection: ChannelConnection;
  readonly timeoutMs: number;
  readonly #closers: (() => Promise<void>)[] = [];
  #consumerSeq = 0;
  #cleaned = false;

  private constructor(factory: TransportContractFactory, connection: ChannelConnection, timeoutMs: number) {
    this.#factory = factory;
    this.connection = connection;
    this.timeoutMs = timeoutMs;
  }

  static async create(factory: TransportContractFactory, timeoutMs: number): Promise<ContractHarness> {
    const connection = await factory.connection();
    assert.deepEqual(connection.validate(), [], 'the connection is valid');
    await withTimeout(connection.connect(), timeoutMs, 'connection.connect()');
    const harness = new ContractHarness(factory, connection, timeoutMs);
    harness.#closers.push(async () => connection.disconnect());
    return harness;
  }

  /** Registers `close` to run at cleanup (before what was opened earlier). */
  onCleanup(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  /** A unique consumer name for this test. */
  consumerName(prefix = 'consumer'): string {
    return `contract-${prefix}-${Date.now().toString(36)}-${++this.#consumerSeq}`;
  }

  async publisher(topic: string): Promise<PublisherChannel> {
    const builder = this.#factory.publisher(this.connection.name, topic);
    assert.deepEqual(builder.validate(), [], 'the publisher builder is valid');
    assert.equal(
      builder.acceptsConnection(this.connection),
      true,
      'the publisher builder accepts the connection',
    );
    const channel = await builder.build({ connection: this.connection, logger: noopLogger });
    this.#closers.push(async () => channel.close());
    return channel;
  }

  /** The bounded reader of `topic`, from its publisher builder. */
  reader(topic: string): ChannelReader {
    const builder = this.#factory.publisher(this.connection.name, topic);
    assert.ok(builder.createReader !== undefined, 'the publisher builder has createReader (bounded reads)');
    return builder.createReader({ connection: this.connection, logger: noopLogger });
  }

  async consumer(topic: string, consumerName: string, groupId?: string): Promise<ConsumerChannel> {
    const builder = this.#factory.consumer(this.connection.name, topic, consumerName, groupId);
    assert.deepEqual(builder.validate(), [], 'the consumer builder is valid');
    assert.equal(
      builder.acceptsConnection(this.connection),
      true,
      'the consumer builder accepts the connection',
    );
    return builder.build({ connection: this.connection, logger: noopLogger });
  }

  async subscribe(
    channel: ConsumerChannel,
    handler: DeliveryHandler,
    onError?: (e: Error) => void,
  ): Promise<Subscription> {
    const subscription = await channel.subscribe(handler, onError ? { onError } : {});
    this.#closers.push(async () => subscription.close());
    return subscription;
  }

  /**
   * Subscribes with a handler that records every delivery and settles it as `decide` says (ack by
   * default), before accepting it.
   */
  async collect(
    channel: ConsumerChannel,
    decide: (delivery: Delivery, seen: readonly Delivery[]) => SettleDecision = () => 'ack',
  ): Promise<Collector> {
    const deliveries: Delivery[] = [];
    const errors: Error[] = [];
    const subscription = await this.subscribe(
      channel,
      async (delivery) => {
        const decision = decide(delivery, deliveries);
        deliveries.push(delivery);
        if (decision === 'ack') await delivery.ack();
        else if (decision === 'nack') await delivery.nack();
        else if (decision !== 'none') await delivery.nack({ delayMs: decision.nackDelayMs });
      },
      (e) => errors.push(e),
    );
    return { deliveries, subscription, errors, ids: () => deliveries.map((d) => d.message.messageId) };
  }

  /** Closes everything this test opened, newest first. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.#cleaned) return;
    this.#cleaned = true;
    for (const close of this.#closers.reverse()) {
      try {
        await withTimeout(close(), this.timeoutMs, 'cleanup');
      } catch {
        // Keep closing the rest; the test itself reports what went wrong.
      }
    }
  }
}
