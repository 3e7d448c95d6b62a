import {
  GomesError,
  MessageBuilder,
  noopLogger,
  type Logger,
  type Message,
  type PublisherChannel,
  type SendOptions,
} from '@gomes/core';
import type { DriverOutboundRecord, DriverProducer } from './driver/kafka-driver.js';
import { rootMessage } from './kafka-errors.js';
import type { KafkaPublisherOptions } from './kafka-publisher-options.js';

/** Counters of a {@link KafkaPublisherChannel}. @public */
export interface KafkaPublisherStats {
  /** Records acknowledged by the broker. */
  readonly sent: number;
  /** Records whose produce request failed for good. */
  readonly failed: number;
  /** Records buffered, not yet sent. */
  readonly buffered: number;
  /** Produce requests that succeeded. */
  readonly batches: number;
}

/** Receives async-mode publish failures. @public */
export type KafkaPublishErrorListener = (error: GomesError) => void;

/**
 * A record waiting for its produce request; in sync mode, with the promise its `send` returned.
 *
 * Its size in the request (key, value, header names and values as UTF-8) is known cheaply within
 * bounds: `minBytes` counts one byte per UTF-16 code unit of its strings (exact for ASCII), `maxBytes`
 * three (UTF-8's most per code unit). The exact `bytes` costs a UTF-8 scan of every string (~0.5 µs
 * for a 1 KiB value), so it is computed only when a batch gets close to `batchBytes`.
 */
class Pending {
  readonly record: DriverOutboundRecord;
  readonly messageId: string;
  /** Sync mode: settled with the record's produce request. */
  readonly done: Promise<void> | undefined;
  readonly minBytes: number;
  readonly maxBytes: number;
  resolve: () => void = noop;
  reject: (error: GomesError) => void = noop;
  #bytes: number | undefined;

  constructor(record: DriverOutboundRecord, messageId: string, sync: boolean) {
    this.record = record;
    this.messageId = messageId;
    const { key, value, headers } = record;
    let units = key === null ? 0 : typeof key === 'string' ? key.length : 0;
    let raw = key !== null && typeof key !== 'string' ? key.length : 0;
    if (typeof value === 'string') units += value.length;
    else if (value !== null) raw += value.length;
    for (const name in headers) units += name.length + headers[name]!.length;
    this.minBytes = units + raw;
    this.maxBytes = 3 * units + raw;
    this.done = sync
      ? new Promise<void>((resolve, reject) => {
          this.resolve = resolve;
          this.reject = reject;
        })
      : undefined;
  }

  /** The record's exact size in the request (computed on first use). */
  get bytes(): number {
    return (this.#bytes ??= recordBytes(this.record));
  }
}

const noop = (): void => undefined;
const NO_SEND_OPTIONS: SendOptions = Object.freeze({});

/**
 * A Kafka topic as a gomes {@link PublisherChannel} (Go gomes' outbound channel adapter).
 *
 * - **Sync mode (default):** `send` resolves after the broker acknowledged the record with the
 *   configured acks (`-1` = all in-sync replicas), or rejects with `GOMES_PUBLISH_FAILED`. Concurrent
 *   sends are coalesced into one produce request (up to `batchSize` / `batchBytes`); order is kept.
 * - **Async mode (`withAsync(true)`):** `send` resolves once the record is buffered; batches leave
 *   when `batchSize` or `batchBytes` is reached or after `lingerMs`. Failures cannot reach the caller:
 *   they are reported to {@link KafkaPublisherChannel.onError} listeners (and logged) and counted in
 *   `stats.failed`.
 * - `close()` flushes every buffered record, then disconnects the producer. Idempotent.
 * - The record key is the partition key (`partitionKey` header, else `correlationId`), so equal keys
 *   land on the same partition and keep their order.
 *
 * @public
 */
export class KafkaPublisherChannel implements PublisherChannel {
  /** @inheritDoc */
  readonly name: string;
  readonly #topic: string;
  #producer: DriverProducer;
  /** Creates a replacement producer (not connected yet). */
  readonly #createProducer: (() => DriverProducer) | undefined;
  /** An idempotent send failed: the next request goes through a new producer. */
  #replaceProducer = false;
  readonly #options: KafkaPublisherOptions;
  readonly #replyTo: string | undefined;
  readonly #logger: Logger;
  readonly #queue: Pending[] = [];
  readonly #errorListeners = new Set<KafkaPublishErrorListener>();
  readonly #spaceWaiters: (() => void)[] = [];
  #queuedBytes = 0;
  #loop: Promise<void> | undefined;
  /** The last acknowledged request's records, not resolved yet (see `#drain`). */
  #acked: Pending[] | undefined;
  #ackTimer: NodeJS.Immediate | undefined;
  #kickScheduled = false;
  #linger: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #sent = 0;
  #failed = 0;
  #batches = 0;

  /** @internal Built by {@link KafkaPublisherChannelBuilder}. */
  constructor(
    topic: string,
    producer: DriverProducer,
    options: KafkaPublisherOptions,
    replyTo: string | undefined,
    logger: Logger = noopLogger,
    createProducer?: () => DriverProducer,
  ) {
    this.name = topic;
    this.#topic = topic;
    this.#producer = producer;
    this.#createProducer = createProducer;
    this.#options = options;
    this.#replyTo = replyTo;
    this.#logger = logger.child({ publisher: topic });
  }

  /** Counters (see {@link KafkaPublisherStats}). */
  get stats(): KafkaPublisherStats {
    return { sent: this.#sent, failed: this.#failed, buffered: this.#queue.length, batches: this.#batches };
  }

  /** Whether `send` resolves before the broker acknowledged (async mode). */
  get async(): boolean {
    return this.#options.async;
  }

  /** Listens to async-mode failures; returns a function that removes the listener. */
  onError(listener: KafkaPublishErrorListener): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /**
   * @inheritDoc
   *
   * The message is translated once into the record that goes to the client as it is. In sync mode
   * the returned promise is the record's own: settled when its produce request is (no timer, no
   * extra promise per send; the sends of one tick share one scheduled request).
   */
  // Not `async`: see above; failures before enqueueing still reject.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  send(message: Message, options: SendOptions = NO_SEND_OPTIONS): Promise<void> {
    try {
      if (this.#closing) throw new GomesError('CLOSED', `Kafka publisher "${this.name}" is closed`);
      const signal = options.signal;
      if (signal?.aborted) throw new GomesError('ABORTED', 'The send was aborted', { cause: signal.reason });
      const outgoing =
        this.#replyTo !== undefined && message.replyTo === undefined
          ? MessageBuilder.from(message).replyTo(this.#replyTo).build()
          : message;
      const pending = new Pending(
        this.#options.translator.toRecord(outgoing),
        outgoing.messageId,
        !this.#options.async,
      );
      if (pending.done === undefined) return this.#enqueueAsync(pending, signal);
      this.#enqueue(pending);
      return signal === undefined ? pending.done : this.#abortable(pending, pending.done, signal);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** Async mode: waits for room in the buffer (`maxBufferedMessages`), then enqueues. */
  async #enqueueAsync(pending: Pending, signal: AbortSignal | undefined): Promise<void> {
    while (this.#queue.length >= this.#options.maxBufferedMessages && !this.#closing) {
      await this.#waitForSpace(signal);
    }
    if (this.#closing) throw new GomesError('CLOSED', `Kafka publisher "${this.name}" is closed`);
    this.#enqueue(pending);
  }

  /** Sync mode with a signal: an abort before the record left the buffer takes it out and rejects. */
  async #abortable(pending: Pending, done: Promise<void>, signal: AbortSignal): Promise<void> {
    const onAbort = (): void => {
      const index = this.#queue.indexOf(pending);
      if (index < 0) return; // already in a produce request: wait for the broker's answer
      this.#queue.splice(index, 1);
      this.#queuedBytes -= pending.minBytes;
      pending.reject(new GomesError('ABORTED', 'The send was aborted', { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await done;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Async mode: waits until a record leaves the buffer (or close); rejects `GOMES_ABORTED` on abort. */
  async #waitForSpace(signal: AbortSignal | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.#spaceWaiters.indexOf(wake);
        if (index >= 0) this.#spaceWaiters.splice(index, 1);
        reject(new GomesError('ABORTED', 'The send was aborted', { cause: signal?.reason }));
      };
      if (signal?.aborted) return onAbort();
      this.#spaceWaiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Sends everything buffered now and resolves when it is acknowledged (or failed). */
  async flush(): Promise<void> {
    this.#kick();
    while (this.#loop) await this.#loop;
  }

  /** @inheritDoc */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#spaceWaiters.splice(0).forEach((wake) => wake());
      await this.flush();
      await this.#producer.close();
      this.#logger.debug('Kafka publisher closed', { ...this.stats });
    })();
    return this.#closing;
  }

  #enqueue(pending: Pending): void {
    this.#queue.push(pending);
    this.#queuedBytes += pending.minBytes;
    const full =
      this.#queue.length >= this.#options.batchSize || this.#queuedBytes >= this.#options.batchBytes;
    if (full || !this.#options.async || this.#options.lingerMs === 0) {
      // Sync sends of the same tick share one request (one scheduled kick for all of them).
      if (full) this.#kick();
      else if (!this.#kickScheduled) {
        this.#kickScheduled = true;
        setImmediate(() => {
          this.#kickScheduled = false;
          this.#kick();
        });
      }
    } else {
      this.#linger ??= setTimeout(() => this.#kick(), this.#options.lingerMs);
    }
  }

  #kick(): void {
    if (this.#linger) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
    }
    if (this.#loop || this.#queue.length === 0) return;
    this.#loop = this.#drain().finally(() => {
      this.#loop = undefined;
    });
  }

  /**
   * Sends the buffer, one produce request at a time. The sends of an acknowledged request are
   * resolved once the next request is under way (on the next turn of the event loop) rather than
   * before: their callers' follow-up work (often the next sends: serialising, building messages)
   * then runs while the broker handles that request, instead of in front of it. When nothing is
   * left to send they are resolved at once. Either way they resolve in order, after their ack.
   */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      try {
        if (this.#replaceProducer) await this.#renewProducer();
        const sending = this.#producer.send({
          topic: this.#topic,
          records: batch.map((p) => p.record),
          acks: this.#options.requiredAcks,
          compression: this.#options.compression,
          timeoutMs: this.#options.requestTimeoutMs,
        });
        if (this.#acked) this.#ackTimer ??= setImmediate(() => this.#resolveAcked());
        await sending;
        this.#resolveAcked();
        this.#sent += batch.length;
        this.#batches++;
        this.#acked = batch;
      } catch (cause) {
        this.#resolveAcked();
        // An idempotent producer rolls its sequence numbers back after a failed request the broker
        // may still have appended; a next request with as many records could then be taken for a
        // duplicate and acknowledged without being written. A new producer (new producer id) cannot.
        if (this.#options.idempotent && this.#createProducer) this.#replaceProducer = true;
        this.#failed += batch.length;
        const error = new GomesError(
          'PUBLISH_FAILED',
          `Publishing ${batch.length} message(s) to Kafka topic "${this.#topic}" failed: ${rootMessage(cause)}`,
          { cause, details: { topic: this.#topic, messageIds: batch.map((p) => p.messageId) } },
        );
        for (const p of batch) p.reject(error);
        if (this.#options.async) this.#reportAsyncError(error);
      }
    }
    this.#resolveAcked();
  }

  /** Resolves the sends of the last acknowledged request (once; see {@link #drain}). */
  #resolveAcked(): void {
    if (this.#ackTimer) {
      clearImmediate(this.#ackTimer);
      this.#ackTimer = undefined;
    }
    const acked = this.#acked;
    if (!acked) return;
    this.#acked = undefined;
    for (const p of acked) p.resolve();
  }

  /** Closes the producer and connects a new one in its place. */
  async #renewProducer(): Promise<void> {
    const old = this.#producer;
    this.#producer = (this.#createProducer as () => DriverProducer)();
    this.#replaceProducer = false;
    await old.close().catch((error: unknown) => {
      this.#logger.warn('Closing the replaced Kafka producer failed', { reason: rootMessage(error) });
    });
    try {
      await this.#producer.connect();
    } catch (error) {
      this.#replaceProducer = true; // try a fresh one for the next request
      throw error;
    }
    this.#logger.info('Kafka producer replaced after a failed send (new producer id)');
  }

  /**
   * The next request's records: up to `batchSize`, and at most `batchBytes` (a first record larger
   * than that goes alone). The size is checked on the records' upper bounds, and on their exact
   * sizes only once those bounds come close to the limit.
   */
  #takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const limit = this.#options.batchBytes;
    let upper = 0;
    let exact: number | undefined;
    while (this.#queue.length > 0 && batch.length < this.#options.batchSize) {
      const next = this.#queue[0] as Pending;
      if (batch.length > 0) {
        if (exact === undefined && upper + next.maxBytes > limit) {
          exact = 0;
          for (const p of batch) exact += p.bytes;
        }
        if (exact !== undefined && exact + next.bytes > limit) break;
      }
      this.#queue.shift();
      this.#queuedBytes -= next.minBytes;
      upper += next.maxBytes;
      if (exact !== undefined) exact += next.bytes;
      batch.push(next);
    }
    const room = this.#options.maxBufferedMessages - this.#queue.length;
    this.#spaceWaiters.splice(0, Math.max(0, room)).forEach((wake) => wake());
    return batch;
  }

  #reportAsyncError(error: GomesError): void {
    this.#logger.error('Async Kafka publish failed', {
      code: error.code,
      reason: error.message,
      ...error.details,
    });
    for (const listener of this.#errorListeners) {
      try {
        listener(error);
      } catch (listenerError) {
        this.#logger.error('Publish error listener threw', { reason: rootMessage(listenerError) });
      }
    }
  }
}

/** The bytes a record adds to a produce request (key, value, header names and values, as UTF-8). */
function recordBytes(record: DriverOutboundRecord): number {
  const { key, value, headers } = record;
  let bytes =
    (value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length) +
    (key === null ? 0 : Buffer.byteLength(key));
  for (const name in headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(headers[name]!);
  return bytes;
}
