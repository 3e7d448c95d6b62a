// Shared by the event-driven consumer specs on a subscribe-only channel
// (packages/core/src/endpoint/event-driven-consumer*.spec.ts): a scripted channel with only
// `subscribe` (so the consumer runs on the engine through its subscription source), publishers,
// messages and a consumer factory with test defaults.
import type { ConsumerEndpointOptions } from '../../src/channel/channel-builders.js';
import { DEFAULT_CONSUMER_ENDPOINT_OPTIONS } from '../../src/channel/channel-builders.js';
import type {
  ConsumerChannel,
  Delivery,
  DeliveryHandler,
  NackOptions,
  SubscribeOptions,
  Subscription,
} from '../../src/channel/consumer-channel.js';
import type { PublisherChannel } from '../../src/channel/publisher-channel.js';
import { EventDrivenConsumer } from '../../src/endpoint/event-driven-consumer.js';
import { noopLogger, type Logger } from '../../src/logging/logger.js';
import { MessageBuilder } from '../../src/message/message-builder.js';
import type { Message } from '../../src/message/message.js';
import type { MessageHandlerFn } from '../../src/pipeline/message-handler.js';

/** An array-backed consumer channel: hands deliveries over one at a time, awaiting the handler (backpressure). */
export class FakeChannel implements ConsumerChannel {
  readonly name = 'orders-consumer';
  readonly channelName = 'orders';
  readonly acks: string[] = [];
  readonly nacks: { id: string; delayMs: number | undefined }[] = [];
  handedOver = 0;
  stopped = false;
  closed = false;
  options: SubscribeOptions | undefined;
  readonly #queue: Delivery[] = [];
  #wake: (() => void) | undefined;
  #offset = 0;
  /** Makes the transport's ack / nack of these message ids reject. */
  readonly failAck = new Set<string>();
  readonly failNack = new Set<string>();

  push(message: Message, key = 'default', deliveryAttempt = 1): void {
    const offset = String(this.#offset++);
    let settled = false;
    this.#queue.push({
      message,
      key,
      position: { channel: this.channelName, partition: 0, offset },
      deliveryAttempt,
      ack: async () => {
        if (this.failAck.has(message.messageId)) throw new Error('broker refused the ack');
        if (settled) return;
        settled = true;
        this.acks.push(message.messageId);
      },
      nack: async (o: NackOptions = {}) => {
        if (this.failNack.has(message.messageId)) throw new Error('broker refused the nack');
        if (settled) return;
        settled = true;
        this.nacks.push({ id: message.messageId, delayMs: o.delayMs });
      },
    });
    this.#wake?.();
  }

  async subscribe(handler: DeliveryHandler, options?: SubscribeOptions): Promise<Subscription> {
    this.options = options;
    const loop = (async () => {
      while (!this.stopped) {
        const next = this.#queue.shift();
        if (!next) {
          await new Promise<void>((r) => (this.#wake = r));
          continue;
        }
        this.handedOver++;
        await handler(next);
      }
    })();
    const stop = async (): Promise<void> => {
      this.stopped = true;
      this.#wake?.();
      await loop;
    };
    return {
      stop,
      close: async () => {
        await stop();
        this.closed = true;
      },
    };
  }
}

export function publisher(name: string, fail?: Error): PublisherChannel & { sent: Message[] } {
  const sent: Message[] = [];
  return {
    name,
    sent,
    send: async (m) => (fail ? Promise.reject(fail) : void sent.push(m)),
    close: async () => undefined,
  };
}

export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}
export const turns = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
export function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
export const msg = (payload: unknown = {}, route = 'createOrder'): Message =>
  MessageBuilder.withPayload(payload).route(route).correlationId('corr').header('tenant', 'acme').build();

export interface Setup {
  endpoint?: Partial<ConsumerEndpointOptions>;
  handler?: MessageHandlerFn;
  publishers?: PublisherChannel[];
  onError?: (e: Error) => void;
  logger?: Logger;
  channel?: FakeChannel;
}

export function setup(s: Setup = {}): { channel: FakeChannel; consumer: EventDrivenConsumer } {
  const channel = s.channel ?? new FakeChannel();
  const consumer = new EventDrivenConsumer({
    name: 'orders-consumer',
    channel,
    endpointOptions: { ...DEFAULT_CONSUMER_ENDPOINT_OPTIONS, ...s.endpoint },
    handler: s.handler ?? (async (m) => m),
    channels: { publisher: (n) => s.publishers?.find((p) => p.name === n) },
    logger: s.logger ?? noopLogger,
    ...(s.onError ? { onError: s.onError } : {}),
    retryHooks: { random: () => 0.5 },
  });
  return { channel, consumer: consumer.withNackDelay(0) };
}
export const fastRetry = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, jitter: 0 };

/**
 * Consumers a test runs, stopped after each test (call it inside a `describe`): `start` runs one
 * and returns it; `running` takes consumers a test runs itself.
 */
export function runningConsumers(): {
  readonly running: EventDrivenConsumer[];
  readonly start: (c: EventDrivenConsumer) => Promise<EventDrivenConsumer>;
} {
  const running: EventDrivenConsumer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map(async (c) => c.stop(100)));
  });
  return {
    running,
    start: async (c) => {
      running.push(c);
      await c.run();
      return c;
    },
  };
}
