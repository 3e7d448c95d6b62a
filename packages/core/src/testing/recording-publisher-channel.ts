import type { PublisherChannel, SendOptions } from '../channel/publisher-channel.js';
import { GomesError } from '../errors/gomes-error.js';
import { abortError } from '../internal/abortable-sleep.js';
import { sharedPromise } from '../internal/shared-promise.js';
import type { Message } from '../message/message.js';
import { waitFor } from './wait-for.js';

/**
 * A {@link PublisherChannel} for unit tests: it records every message it accepts and can be told to
 * fail. It follows the channel contract (`send` after `close` rejects with `GOMES_CLOSED`; `close`
 * is idempotent).
 *
 * @example
 * ```ts
 * const dlq = new RecordingPublisherChannel('orders.dlq');
 * // ... register it, run the consumer ...
 * await dlq.waitForMessages(1);
 * expect(dlq.messages[0]!.payload).toMatchObject({ ReasonError: 'boom' });
 * dlq.failNext(2); // the next two sends reject with GOMES_PUBLISH_FAILED
 * ```
 * @public
 */
export class RecordingPublisherChannel implements PublisherChannel {
  /** @inheritDoc */
  readonly name: string;
  readonly #messages: Message[] = [];
  #failure: Error | undefined;
  #failNextCount = 0;
  #failNextError: Error | undefined;
  #sendCalls = 0;
  #closeCalls = 0;
  #closed = false;

  constructor(name = 'recording') {
    this.name = name;
  }

  /** Messages accepted so far, in send order. */
  get messages(): readonly Message[] {
    return [...this.#messages];
  }

  /** Payloads of the accepted messages. */
  get payloads(): readonly unknown[] {
    return this.#messages.map((m) => m.payload);
  }

  /** Every `send` call, failed ones included. */
  get sendCalls(): number {
    return this.#sendCalls;
  }

  /** Times `close()` was called. */
  get closeCalls(): number {
    return this.#closeCalls;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Makes every later send reject with `error` (default: a `GOMES_PUBLISH_FAILED` error); `undefined` heals it. */
  failWith(error: Error | undefined = this.#defaultError()): this {
    this.#failure = error;
    return this;
  }

  /** Makes the next `count` sends reject with `error` (default: a `GOMES_PUBLISH_FAILED` error). */
  failNext(count = 1, error?: Error): this {
    this.#failNextCount = count;
    this.#failNextError = error;
    return this;
  }

  /** Forgets the recorded messages and any configured failure. */
  clear(): void {
    this.#messages.length = 0;
    this.#failure = undefined;
    this.#failNextCount = 0;
    this.#failNextError = undefined;
  }

  /** Resolves with the messages once at least `count` were accepted. */
  async waitForMessages(count: number, timeoutMs = 5000): Promise<readonly Message[]> {
    await waitFor(() => this.#messages.length >= count, timeoutMs, {
      description: `${count} message(s) on "${this.name}" (got ${this.#messages.length})`,
    });
    return this.messages;
  }

  /** @inheritDoc */
  async send(message: Message, options: SendOptions = {}): Promise<void> {
    this.#sendCalls++;
    if (this.#closed) throw new GomesError('CLOSED', `Publisher channel "${this.name}" is closed`);
    if (options.signal?.aborted) throw abortError(options.signal);
    if (this.#failNextCount > 0) {
      this.#failNextCount--;
      throw this.#failNextError ?? this.#defaultError();
    }
    if (this.#failure) throw this.#failure;
    this.#messages.push(message);
    return Promise.resolve();
  }

  readonly #close = sharedPromise(async () => {
    this.#closed = true;
    return Promise.resolve();
  });

  /** @inheritDoc */
  async close(): Promise<void> {
    this.#closeCalls++;
    await this.#close();
  }

  #defaultError(): Error {
    return new GomesError('PUBLISH_FAILED', `Recording channel "${this.name}" was told to fail`);
  }
}
