import { GomesError, toError } from '../errors/gomes-error.js';
import { abortError } from '../internal/abortable-sleep.js';
import { sharedPromise } from '../internal/shared-promise.js';
import type { Message } from '../message/message.js';
import type {
  ConsumerChannel,
  Delivery,
  DeliveryHandler,
  NackOptions,
  SubscribeOptions,
  Subscription,
} from './consumer-channel.js';
import type { PublisherChannel, SendOptions } from './publisher-channel.js';

/** One subscriber of a {@link PublishSubscribeChannel}. */
class Subscriber implements Subscription {
  readonly #channel: string;
  readonly #handler: DeliveryHandler;
  readonly #options: SubscribeOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onClosed: () => void;
  #tail: Promise<void> = Promise.resolve();
  #sequence = 0;
  stopped = false;
  closed = false;

  constructor(channel: string, handler: DeliveryHandler, options: SubscribeOptions, onClosed: () => void) {
    this.#channel = channel;
    this.#handler = handler;
    this.#options = options;
    this.#onClosed = onClosed;
  }

  /** Queues a delivery behind the previous ones; resolves when the handler accepted it. */
  async deliver(message: Message, attempt: number): Promise<void> {
    const run = this.#tail.then(async () => {
      if (this.stopped) return;
      await this.#handler(this.#delivery(message, attempt));
    });
    this.#tail = run.catch(() => undefined);
    try {
      await run;
    } catch (error) {
      const e = toError(error);
      this.#report(e);
      throw e;
    }
  }

  readonly stop: () => Promise<void> = sharedPromise(async () => {
    this.stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    return Promise.resolve();
  });

  readonly close: () => Promise<void> = sharedPromise(async () => {
    await this.stop();
    this.closed = true;
    this.#onClosed();
  });

  #delivery(message: Message, attempt: number): Delivery {
    let settled = false;
    const offset = String(this.#sequence++);
    return Object.freeze({
      message,
      key: message.messageId,
      position: Object.freeze({ channel: this.#channel, offset }),
      deliveryAttempt: attempt,
      ack: async (): Promise<void> => {
        settled = true;
        return Promise.resolve();
      },
      nack: async (options: NackOptions = {}): Promise<void> => {
        if (settled || this.stopped) return Promise.resolve();
        settled = true;
        const timer = setTimeout(
          () => {
            this.#timers.delete(timer);
            this.deliver(message, attempt + 1).catch(() => undefined);
          },
          Math.max(0, options.delayMs ?? 0),
        );
        this.#timers.add(timer);
        return Promise.resolve();
      },
    });
  }

  #report(error: Error): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // A throwing error callback must not break the channel.
    }
  }
}

/**
 * An in-process publish-subscribe channel (EIP Publish-Subscribe Channel): every subscription gets
 * every message sent after it subscribed. Messages are not copied or serialised.
 *
 * - `send` hands the message to every current subscriber and resolves once all of them accepted it
 *   (their handler's promise resolved). With no subscriber, the message is dropped. If a handler
 *   rejects, the error goes to that subscription's `onError` and `send` rejects with
 *   `GOMES_PUBLISH_FAILED` (the other subscribers still got it).
 * - Each subscriber receives deliveries one at a time, in send order. `nack` redelivers the message
 *   to the same subscriber after the delay (`deliveryAttempt` + 1); `ack` is a no-op.
 * - Any number of subscriptions may be open at once.
 *
 * @example
 * ```ts
 * const events = new PublishSubscribeChannel('order-events');
 * await events.subscribe(async (d) => { audit(d.message); await d.ack(); });
 * await events.send(MessageBuilder.withPayload(e).messageType('Event').build());
 * ```
 * @public
 */
export class PublishSubscribeChannel implements PublisherChannel, ConsumerChannel {
  /** @inheritDoc */
  readonly name: string;
  /** @inheritDoc */
  readonly channelName: string;
  readonly #subscribers = new Set<Subscriber>();
  #closed = false;

  constructor(name: string) {
    this.name = name;
    this.channelName = name;
  }

  /** Open subscriptions. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /**
   * Hands `message` to every subscriber.
   *
   * @throws GomesError `GOMES_CLOSED` after `close()`, `GOMES_ABORTED` when `signal` is aborted,
   * `GOMES_PUBLISH_FAILED` when a handler rejected.
   */
  async send(message: Message, options: SendOptions = {}): Promise<void> {
    if (this.#closed) throw new GomesError('CLOSED', `Channel "${this.name}" is closed`);
    if (options.signal?.aborted) throw abortError(options.signal);
    const results = await Promise.allSettled([...this.#subscribers].map(async (s) => s.deliver(message, 1)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      throw new GomesError(
        'PUBLISH_FAILED',
        `A subscriber of "${this.name}" failed to accept message ${message.messageId}`,
        {
          cause: failed.reason,
        },
      );
    }
  }

  /**
   * Adds a subscription that gets every message sent from now on.
   *
   * @throws GomesError `GOMES_CLOSED` after `close()`.
   */
  async subscribe(handler: DeliveryHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.#closed) throw new GomesError('CLOSED', `Channel "${this.name}" is closed`);
    const subscriber: Subscriber = new Subscriber(this.name, handler, options, () =>
      this.#subscribers.delete(subscriber),
    );
    this.#subscribers.add(subscriber);
    return Promise.resolve(subscriber);
  }

  /** Closes every subscription; later sends reject with `GOMES_CLOSED`. Idempotent. */
  readonly close: () => Promise<void> = sharedPromise(async () => {
    this.#closed = true;
    await Promise.all([...this.#subscribers].map(async (s) => s.close()));
  });
}
