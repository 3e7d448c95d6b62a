import {
  GomesError,
  MessageBuilder,
  noopLogger,
  type Logger,
  type Message,
  type PublisherChannel,
  type SendOptions,
} from '@gomes/core';
import type { DriverProducer } from './driver/kafka-driver.js';
import type { KafkaPublisherOptions } from './kafka-publisher-options.js';
import type { KafkaPublishErrorListener, KafkaPublisherStats } from './kafka-publisher-stats.js';
import type { SerializationContext } from './message-serializer.js';
import { PendingRecord } from './pending-record.js';
import { PreparationChain } from './preparation-chain.js';
import { PublishBuffer } from './publish-buffer.js';
import { PublishErrorListeners } from './publish-error-listeners.js';
import { PublishOutcome } from './publish-outcome.js';
import { RenewableProducer } from './renewable-producer.js';

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
  /** Sends waiting for their serializer's preparation, in order. */
  readonly #preparations = new PreparationChain();
  readonly #producer: RenewableProducer;
  readonly #options: KafkaPublisherOptions;
  readonly #replyTo: string | undefined;
  readonly #logger: Logger;
  readonly #buffer: PublishBuffer;
  readonly #errorListeners: PublishErrorListeners;
  #loop: Promise<void> | undefined;
  /** The last acknowledged request's records, not resolved yet (see `#drain`). */
  #acked: PendingRecord[] | undefined;
  #ackTimer: NodeJS.Immediate | undefined;
  #kickScheduled = false;
  #linger: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** The records taken from the buffer for the next produce request, and whether it was sent. */
  #taken: { readonly batch: readonly PendingRecord[]; sent: boolean } = { batch: [], sent: false };
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
    this.#options = options;
    this.#buffer = new PublishBuffer(options.maxBufferedMessages);
    this.#replyTo = replyTo;
    this.#logger = logger.child({ publisher: topic });
    this.#producer = new RenewableProducer(producer, createProducer, options.idempotent, this.#logger);
    this.#errorListeners = new PublishErrorListeners(this.#logger);
  }

  /** Counters (see {@link KafkaPublisherStats}). */
  get stats(): KafkaPublisherStats {
    return {
      sent: this.#sent,
      failed: this.#failed,
      timedOut: this.#timedOut,
      buffered: this.#buffer.length,
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
    return this.#errorListeners.add(listener);
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
    const record = this.#options.translator.toRecord(outgoing, this.#context);
    const producer = this.#producer.current;
    const pending = new PendingRecord(
      // Encoded now (drivers that can), while an earlier request is with the broker.
      producer.prepare ? producer.prepare(record) : record,
      outgoing.messageId,
      !this.#options.async,
      Date.now() + this.#options.sendTimeoutMs,
    );
    if (pending.done === undefined) return this.#enqueueAsync(pending, signal);
    this.#enqueue(pending);
    return signal === undefined ? pending.done : this.#abortable(pending, pending.done, signal);
  }

  /** Async mode: waits for room in the buffer (`maxBufferedMessages`), then enqueues. */
  async #enqueueAsync(pending: PendingRecord, signal: AbortSignal | undefined): Promise<void> {
    while (this.#buffer.full && !this.#closing) {
      await this.#buffer.waitForSpace(signal, pending.deadline, () => {
        this.#failed++;
        this.#timedOut++;
        return PublishOutcome.timedOut(this.#topic, [pending.messageId], this.#options.sendTimeoutMs, false);
      });
    }
    if (this.#closing) throw new GomesError('CLOSED', `Kafka publisher "${this.name}" is closed`);
    this.#enqueue(pending);
  }

  /** Sync mode with a signal: an abort before the record left the buffer takes it out and rejects. */
  async #abortable(pending: PendingRecord, done: Promise<void>, signal: AbortSignal): Promise<void> {
    const onAbort = (): void => {
      if (!this.#buffer.remove(pending)) return; // already in a produce request: wait for the broker's answer
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
    return this.#preparations.after(this.#options.translator.prepareOutbound(message, this.#context));
  }

  /** Sends everything buffered now and resolves when it is acknowledged (or failed). */
  async flush(): Promise<void> {
    this.#kick();
    while (this.#loop) await this.#loop;
  }

  /** @inheritDoc */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#buffer.wakeAll();
      await this.flush();
      await this.#producer.close();
      clearInterval(this.#expiryTimer);
      this.#expiryTimer = undefined;
      this.#logger.debug('Kafka publisher closed', { ...this.stats });
    })();
    return this.#closing;
  }

  #enqueue(pending: PendingRecord): void {
    this.#buffer.push(pending);
    this.#armExpiry();
    const full =
      this.#buffer.length >= this.#options.batchSize || this.#buffer.minBytes >= this.#options.batchBytes;
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
    if (this.#loop || this.#buffer.length === 0) return;
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
    while (this.#buffer.length > 0) {
      const taken = {
        batch: this.#buffer.takeBatch(this.#options.batchSize, this.#options.batchBytes),
        sent: false,
      };
      if (taken.batch.length === 0) continue;
      this.#taken = taken;
      if (this.#producer.needsRenewal) {
        this.#resolveAcked(); // no request under way to overlap with
        try {
          await this.#producer.renew();
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
        const sending = this.#producer.current.send({
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
        this.#producer.sendFailed(); // an idempotent producer is replaced (see RenewableProducer)
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
  #fail(batch: readonly PendingRecord[], error: GomesError): void {
    const open = batch.filter((p) => !p.settled);
    if (open.length === 0) return;
    this.#failed += open.length;
    for (const p of open) {
      p.settled = true;
      p.reject(error);
    }
    if (this.#options.async) this.#errorListeners.report(error);
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
    // Equal timeouts: the buffer is in deadline order, expired sends are at its head.
    const queued = this.#buffer.takeExpired(now);
    // Taken for a request: maybe written once the request was sent, else not written.
    const { batch, sent } = this.#taken;
    const taken = batch.filter((p) => !p.settled && p.deadline <= now);
    this.#timeOut(sent ? taken : [], true);
    this.#timeOut(sent ? queued : [...taken, ...queued], false);
    if (this.#buffer.length === 0 && this.#taken.batch.every((p) => p.settled)) {
      clearInterval(this.#expiryTimer);
      this.#expiryTimer = undefined;
    }
  }

  /** Fails `expired` sends as timed out (`inFlight`: their request was sent). */
  #timeOut(expired: readonly PendingRecord[], inFlight: boolean): void {
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
}
