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

/** A message waiting for a subscriber. */
interface Pending {
  readonly message: Message;
  readonly attempt: number;
  /** Settles the `send` that queued it (absent for redeliveries). */
  readonly sender?: { resolve: () => void; reject: (error: Error) => void; cleanup: () => void };
}

/** One competing consumer of a {@link PointToPointChannel}. */
interface Receiver {
  readonly handler: DeliveryHandler;
  readonly options: SubscribeOptions;
  /** Delivered, not settled: given back to the channel when the subscription closes. */
  readonly unsettled: Map<Delivery, Pending>;
  stopped: boolean;
}

/**
 * An in-process point-to-point channel (EIP Point-to-Point Channel): each message goes to exactly
 * one subscriber, round-robin between subscribers (competing consumers). Messages are not copied.
 *
 * - `send` queues the message and resolves once a subscriber accepted it (its handler's promise
 *   resolved); with no subscriber it waits for one (abort it with `signal`). Messages are handed
 *   over one at a time, in send order. If the handler rejects, the error goes to that
 *   subscription's `onError` and `send` rejects with `GOMES_PUBLISH_FAILED`.
 * - `nack` puts the message back at the head of the queue after the delay (`deliveryAttempt` + 1),
 *   for the next subscriber in turn. Closing a subscription gives its unsettled messages back the
 *   same way.
 * - Any number of subscriptions may be open at once.
 *
 * @example
 * ```ts
 * const commands = new PointToPointChannel('create-order');
 * await commands.subscribe(async (d) => { await handle(d.message); await d.ack(); });
 * await commands.send(MessageBuilder.withPayload(cmd).messageType('Command').build());
 * ```
 * @public
 */
export class PointToPointChannel implements PublisherChannel, ConsumerChannel {
  /** @inheritDoc */
  readonly name: string;
  /** @inheritDoc */
  readonly channelName: string;
  readonly #queue: Pending[] = [];
  readonly #receivers: Receiver[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #next = 0;
  #sequence = 0;
  #pumping = false;
  #closed = false;

  constructor(name: string) {
    this.name = name;
    this.channelName = name;
  }

  /** Messages waiting for a subscriber. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Open, not stopped subscriptions. */
  get subscriberCount(): number {
    return this.#receivers.filter((r) => !r.stopped).length;
  }

  /**
   * Queues `message` and resolves once a subscriber accepted it.
   *
   * @throws GomesError `GOMES_CLOSED` after `close()` (also for sends still queued then),
   * `GOMES_ABORTED` when `signal` aborts before a subscriber accepted it, `GOMES_PUBLISH_FAILED`
   * when the handler rejected.
   */
  async send(message: Message, options: SendOptions = {}): Promise<void> {
    if (this.#closed) throw new GomesError('CLOSED', `Channel "${this.name}" is closed`);
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#queue.indexOf(pending);
        if (index < 0) return; // already handed over: the handler decides
        this.#queue.splice(index, 1);
        reject(abortError(signal as AbortSignal));
      };
      const pending: Pending = {
        message,
        attempt: 1,
        sender: { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(pending);
      void this.#pump();
    });
  }

  /**
   * Adds a competing consumer.
   *
   * @throws GomesError `GOMES_CLOSED` after `close()`.
   */
  async subscribe(handler: DeliveryHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.#closed) throw new GomesError('CLOSED', `Channel "${this.name}" is closed`);
    const receiver: Receiver = { handler, options, unsettled: new Map(), stopped: false };
    this.#receivers.push(receiver);
    void this.#pump();
    const stop = sharedPromise(async () => {
      receiver.stopped = true;
      return Promise.resolve();
    });
    const close = sharedPromise(async () => {
      await stop();
      const index = this.#receivers.indexOf(receiver);
      if (index >= 0) this.#receivers.splice(index, 1);
      const giveBack = [...receiver.unsettled.values()];
      receiver.unsettled.clear();
      if (!this.#closed) {
        for (const p of giveBack.reverse())
          this.#queue.unshift({ message: p.message, attempt: p.attempt + 1 });
        void this.#pump();
      }
    });
    return Promise.resolve(Object.freeze({ stop, close }));
  }

  /** Rejects queued sends with `GOMES_CLOSED` and ends every subscription. Idempotent. */
  readonly close: () => Promise<void> = sharedPromise(async () => {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const p of this.#queue.splice(0)) {
      p.sender?.cleanup();
      p.sender?.reject(
        new GomesError('CLOSED', `Channel "${this.name}" closed before the message was received`),
      );
    }
    for (const r of this.#receivers.splice(0)) {
      r.stopped = true;
      r.unsettled.clear();
    }
    return Promise.resolve();
  });

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        if (this.#queue.length === 0) return;
        const receiver = this.#pickReceiver();
        const pending = receiver ? this.#queue.shift() : undefined;
        if (!receiver || !pending) return;
        pending.sender?.cleanup();
        const delivery = this.#delivery(receiver, pending);
        receiver.unsettled.set(delivery, pending);
        try {
          await receiver.handler(delivery);
          pending.sender?.resolve();
        } catch (error) {
          const e = toError(error);
          receiver.unsettled.delete(delivery);
          try {
            receiver.options.onError?.(e);
          } catch {
            // A throwing error callback must not break the channel.
          }
          pending.sender?.reject(
            new GomesError(
              'PUBLISH_FAILED',
              `The subscriber of "${this.name}" failed to accept message ${pending.message.messageId}`,
              {
                cause: e,
              },
            ),
          );
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #pickReceiver(): Receiver | undefined {
    const active = this.#receivers.filter((r) => !r.stopped);
    if (active.length === 0 || this.#closed) return undefined;
    const receiver = active[this.#next % active.length];
    this.#next = (this.#next + 1) % active.length;
    return receiver;
  }

  #delivery(receiver: Receiver, pending: Pending): Delivery {
    let settled = false;
    const delivery: Delivery = Object.freeze({
      message: pending.message,
      key: pending.message.messageId,
      position: Object.freeze({ channel: this.name, offset: String(this.#sequence++) }),
      deliveryAttempt: pending.attempt,
      ack: async (): Promise<void> => {
        settled = true;
        receiver.unsettled.delete(delivery);
        return Promise.resolve();
      },
      nack: async (options: NackOptions = {}): Promise<void> => {
        if (settled) return Promise.resolve();
        settled = true;
        // After the subscription closed, the message was already given back.
        if (!receiver.unsettled.delete(delivery) || this.#closed) return Promise.resolve();
        const timer = setTimeout(
          () => {
            this.#timers.delete(timer);
            this.#queue.unshift({ message: pending.message, attempt: pending.attempt + 1 });
            void this.#pump();
          },
          Math.max(0, options.delayMs ?? 0),
        );
        this.#timers.add(timer);
        return Promise.resolve();
      },
    });
    return delivery;
  }
}
