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
import { PublishOutcome } from './publish-outcome.js';
import type { KafkaPublisherOptions } from './kafka-publisher-options.js';
import type { SerializationContext } from './message-serializer.js';

/** Counters of a {@link KafkaPublisherChannel}. @public */
export interface KafkaPublisherStats {
  /** Records acknowledged by the broker. */
  readonly sent: number;
  /** Records reported failed to the caller (rejected send, or `onError` in async mode), timeouts included. */
  readonly failed: number;
  /** Records whose send timed out (`sendTimeoutMs`); also counted in `failed`. */
  readonly timedOut: number;
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
  /** Sync mode: settled with the record's produce request (see `settled`). */
  readonly done: Promise<void> | undefined;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** When the send times out (ms since the epoch). */
  readonly deadline: number;
  /** Reported to the caller already (acknowledged, failed or timed out): later outcomes are only counted. */
  settled = false;
  resolve: () => void = noop;
  reject: (error: GomesError) => void = noop;
  #bytes: number | undefined;

  constructor(record: DriverOutboundRecord, messageId: string, sync: boolean, deadline: number) {
    this.record = record;
    this.messageId = messageId;
    this.deadline = deadline;
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
 *   configured acks (`-1` = all in-sync replicas), or rejects (see Outcome below). Concurrent
 *   sends are coalesced into one produce request (up to `batchSize` / `batchBytes`); order is kept.
 * - **Async mode (`withAsync(true)`):** `send` resolves once the record is buffered; batches leave
 *   when `batchSize` or `batchBytes` is reached or after `lingerMs`. Failures cannot reach the caller:
 *   they are reported to {@link KafkaPublisherChannel.onError} listeners (and logged) and counted in
 *   `stats.failed`.
 * - **Send timeout (`sendTimeoutMs`).** A send is settled within `sendTimeoutMs` (plus at most a
 *   tenth of it, ≤ 1 s): a record still buffered then is dropped and fails with
 *   `GOMES_PUBLISH_FAILED` (it was not written); one whose produce request is under way fails with
 *   `GOMES_PUBLISH_OUTCOME_UNKNOWN` (the request is not cancelled: the broker may still write it).
 * - **Outcome.** A request the broker rejected for good (record too large, not authorized, invalid
 *   topic…) fails with `GOMES_PUBLISH_FAILED` (`retriable: false`). Any other failure (timeout,
 *   connection lost, broker gone) fails with `GOMES_PUBLISH_OUTCOME_UNKNOWN`: the record may have
 *   been written. A caller's retry then may duplicate it — the idempotent producer deduplicates only
 *   its own retries within one producer session, and the channel starts a new session after a
 *   failure — so consumers dedupe on `messageId` when callers retry.
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
  /** What the serializer is told about the records it writes. */
  readonly #context: SerializationContext;
  /** The latest send waiting for its serializer's preparation (settles, never rejects). */
  #prepareTail: Promise<void> | undefined;
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
  /** The records taken from the buffer for the next produce request, and whether it was sent. */
  #taken: { readonly batch: readonly Pending[]; sent: boolean } = { batch: [], sent: false };
  /** Expires sends past their deadline while anything is buffered or in flight. */
  #expiryTimer: NodeJS.Timeout | undefined;
  #sent = 0;
  #failed = 0;
  #timedOut = 0;
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
    this.#context = Object.freeze({ topic });
    this.#producer = producer;
    this.#createProducer = createProducer;
    this.#options = options;
    this.#replyTo = replyTo;
    this.#logger = logger.child({ publisher: topic });
  }

  /** Counters (see {@link KafkaPublisherStats}). */
  get stats(): KafkaPublisherStats {
    return {
      sent: this.#sent,
      failed: this.#failed,
      timedOut: this.#timedOut,
      buffered: this.#queue.length,
      batches: this.#batches,
    };
  }

  /** Whether `send` resolves before the broker acknowledged (async mode). */
  get async(): boolean {
    return this.#options.async;
  }

  /** `false` in async mode (`send` resolves on enqueue), else `true`. */
  get confirmsSends(): boolean {
    return !this.#options.async;
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
   * the returned promise is the record's own: settled when its produce request is (no extra promise
   * per send; the sends of one tick share one scheduled request). A send whose serializer must
   * prepare first (see {@link KafkaPublisherChannel.#prepare}) waits for it, and later sends wait
   * behind it.
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
      const preparing = this.#prepare(outgoing);
      if (preparing !== undefined) return this.#sendPrepared(outgoing, signal, preparing);
      return this.#sendNow(outgoing, signal);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** Sends `outgoing` once its serializer's preparation (and every earlier one) is done. */
  async #sendPrepared(
    outgoing: Message,
    signal: AbortSignal | undefined,
    preparing: Promise<void>,
  ): Promise<void> {
    await preparing;
    return this.#sendNow(outgoing, signal);
  }

  /** Translates `outgoing` and enqueues its record. May throw synchronously. */
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  #sendNow(outgoing: Message, signal: AbortSignal | undefined): Promise<void> {
    const pending = new Pending(
      this.#options.translator.toRecord(outgoing, this.#context),
      outgoing.messageId,
      !this.#options.async,
      Date.now() + this.#options.sendTimeoutMs,
    );
    if (pending.done === undefined) return this.#enqueueAsync(pending, signal);
    this.#enqueue(pending);
    return signal === undefined ? pending.done : this.#abortable(pending, pending.done, signal);
  }

  /** Async mode: waits for room in the buffer (`maxBufferedMessages`), then enqueues. */
  async #enqueueAsync(pending: Pending, signal: AbortSignal | undefined): Promise<void> {
    while (this.#queue.length >= this.#options.maxBufferedMessages && !this.#closing) {
      await this.#waitForSpace(signal, pending.deadline, pending.messageId);
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
      pending.settled = true;
      pending.reject(new GomesError('ABORTED', 'The send was aborted', { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await done;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Waits for what the serializer needs before it can encode `message` (e.g. a schema id from a
   * registry); `undefined` when nothing is pending, the usual case. Sends keep their order: while an
   * earlier send waits, later ones wait behind it, even when they need nothing themselves.
   */
  #prepare(message: Message): Promise<void> | undefined {
    const own = this.#options.translator.prepareOutbound(message, this.#context);
    const before = this.#prepareTail;
    if (own === undefined && before === undefined) return undefined;
    // `own` is awaited only after `before`: handle its rejection now so it is never reported unhandled.
    if (own !== undefined) void own.catch(() => undefined);
    const mine = (async () => {
      await before;
      await own;
    })();
    const tail = mine.catch(() => undefined);
    this.#prepareTail = tail;
    void tail.then(() => {
      if (this.#prepareTail === tail) this.#prepareTail = undefined;
    });
    return mine;
  }

  /**
   * Async mode: waits until a record leaves the buffer (or close); rejects `GOMES_ABORTED` on abort,
   * `GOMES_PUBLISH_FAILED` at `deadline` (nothing was buffered).
   */
  async #waitForSpace(signal: AbortSignal | undefined, deadline: number, messageId: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.#spaceWaiters.indexOf(wake);
        if (index >= 0) this.#spaceWaiters.splice(index, 1);
      };
      const wake = (): void => {
        leave();
        resolve();
      };
      const onAbort = (): void => {
        leave();
        reject(new GomesError('ABORTED', 'The send was aborted', { cause: signal?.reason }));
      };
      const onTimeout = (): void => {
        leave();
        this.#failed++;
        this.#timedOut++;
        reject(PublishOutcome.timedOut(this.#topic, [messageId], this.#options.sendTimeoutMs, false));
      };
      if (signal?.aborted) return onAbort();
      const timer = setTimeout(onTimeout, Math.max(0, deadline - Date.now()));
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
      clearInterval(this.#expiryTimer);
      this.#expiryTimer = undefined;
      this.#logger.debug('Kafka publisher closed', { ...this.stats });
    })();
    return this.#closing;
  }

  #enqueue(pending: Pending): void {
    this.#queue.push(pending);
    this.#queuedBytes += pending.minBytes;
    this.#armExpiry();
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
   * left to send they are resolved at once. Either way they resolve in order, after their ack; the
   * send timeout never fails an acknowledged send (see {@link KafkaPublisherChannel.#expire}).
   */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const taken = { batch: this.#takeBatch(), sent: false };
      if (taken.batch.length === 0) continue;
      this.#taken = taken;
      if (this.#replaceProducer) {
        this.#resolveAcked(); // no request under way to overlap with
        try {
          await this.#renewProducer();
        } catch (cause) {
          // Nothing was sent: the records were not written.
          const batch = taken.batch;
          this.#fail(
            batch,
            PublishOutcome.noProducer(
              this.#topic,
              batch.map((p) => p.messageId),
              cause,
            ),
          );
          continue;
        }
      }
      // Sends that timed out meanwhile were told they were not written: they stay out.
      const batch = taken.batch.filter((p) => !p.settled);
      if (batch.length === 0) continue;
      this.#taken = { batch, sent: true };
      try {
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
        const late = batch.filter((p) => p.settled).length;
        if (late > 0)
          this.#logger.info('Kafka acknowledged records whose send had timed out', { records: late });
        this.#acked = batch;
      } catch (cause) {
        this.#resolveAcked();
        // An idempotent producer rolls its sequence numbers back after a failed request the broker
        // may still have appended; a next request with as many records could then be taken for a
        // duplicate and acknowledged without being written. A new producer (new producer id) cannot.
        if (this.#options.idempotent && this.#createProducer) this.#replaceProducer = true;
        this.#fail(
          batch,
          PublishOutcome.requestFailed(
            this.#topic,
            batch.map((p) => p.messageId),
            cause,
          ),
        );
      }
    }
    this.#resolveAcked();
  }

  /** Resolves the sends of the last acknowledged request not settled yet (once; see {@link #drain}). */
  #resolveAcked(): void {
    if (this.#ackTimer) {
      clearImmediate(this.#ackTimer);
      this.#ackTimer = undefined;
    }
    const acked = this.#acked;
    if (!acked) return;
    this.#acked = undefined;
    for (const p of acked) {
      if (p.settled) continue;
      p.settled = true;
      p.resolve();
    }
  }

  /** Fails every send of `batch` not settled yet with `error` (async mode: reported once). */
  #fail(batch: readonly Pending[], error: GomesError): void {
    const open = batch.filter((p) => !p.settled);
    if (open.length === 0) return;
    this.#failed += open.length;
    for (const p of open) {
      p.settled = true;
      p.reject(error);
    }
    if (this.#options.async) this.#reportAsyncError(error);
  }

  /** Keeps the expiry sweep running while sends are buffered or in flight. */
  #armExpiry(): void {
    if (this.#expiryTimer) return;
    const every = Math.min(1000, Math.max(10, Math.floor(this.#options.sendTimeoutMs / 10)));
    this.#expiryTimer = setInterval(() => this.#expire(), every);
    this.#expiryTimer.unref();
  }

  /**
   * Times out sends past their deadline: buffered ones leave the buffer (`GOMES_PUBLISH_FAILED`,
   * not written), in-flight ones fail with `GOMES_PUBLISH_OUTCOME_UNKNOWN` (their request goes on).
   */
  #expire(now = Date.now()): void {
    this.#resolveAcked(); // acknowledged sends are resolved, never timed out
    const queued: Pending[] = [];
    // Equal timeouts: the buffer is in deadline order, expired sends are at its head.
    while (this.#queue.length > 0 && (this.#queue[0] as Pending).deadline <= now) {
      const p = this.#queue.shift() as Pending;
      this.#queuedBytes -= p.minBytes;
      if (!p.settled) queued.push(p);
    }
    // Taken for a request: maybe written once the request was sent, else not written.
    const { batch, sent } = this.#taken;
    const taken = batch.filter((p) => !p.settled && p.deadline <= now);
    this.#timeOut(sent ? taken : [], true);
    this.#timeOut(sent ? queued : [...taken, ...queued], false);
    if (queued.length > 0) this.#wakeSpaceWaiters();
    if (this.#queue.length === 0 && this.#taken.batch.every((p) => p.settled)) {
      clearInterval(this.#expiryTimer);
      this.#expiryTimer = undefined;
    }
  }

  /** Fails `expired` sends as timed out (`inFlight`: their request was sent). */
  #timeOut(expired: readonly Pending[], inFlight: boolean): void {
    if (expired.length === 0) return;
    this.#timedOut += expired.length;
    this.#fail(
      expired,
      PublishOutcome.timedOut(
        this.#topic,
        expired.map((p) => p.messageId),
        this.#options.sendTimeoutMs,
        inFlight,
      ),
    );
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
   * sizes only once those bounds come close to the limit. Sends settled meanwhile (aborted, timed
   * out) are left out.
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
    this.#wakeSpaceWaiters();
    return batch.filter((p) => !p.settled);
  }

  #wakeSpaceWaiters(): void {
    const room = this.#options.maxBufferedMessages - this.#queue.length;
    this.#spaceWaiters.slice(0, Math.max(0, room)).forEach((wake) => wake());
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
