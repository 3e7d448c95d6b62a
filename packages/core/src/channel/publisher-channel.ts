import type { Message } from '../message/message.js';

/** Per-call options of {@link PublisherChannel.send}. @public */
export interface SendOptions {
  /** Aborts a send that has not been accepted yet. */
  signal?: AbortSignal;
}

/**
 * Outbound contract #1: a channel that messages are sent to (a topic, a queue, an in-memory channel).
 *
 * - `send` resolves once the transport has accepted the message durably: for Kafka, after the
 *   broker acknowledged it with the configured acks; in memory, once it is stored. It rejects with a
 *   `GomesError` otherwise. Asynchronous (batching) publishers resolve on enqueue and report failures
 *   through their own error events; they say so in their docs.
 * - Messages sent with the same partition key (see the transport) keep their order.
 * - `close()` flushes anything buffered, then releases resources. It is idempotent; concurrent calls
 *   share one promise. `send` after `close` rejects with `GOMES_CLOSED`.
 *
 * @public
 */
export interface PublisherChannel {
  /** Channel name (topic/queue name). */
  readonly name: string;
  /**
   * Optional: `false` when `send` resolves before the transport stored the message (an asynchronous,
   * batching publisher). Left out or `true`: `send` resolves only once the message is stored, as the
   * contract above says. Operations that must not move on before a message is stored (a dead-letter
   * redrive) refuse channels that say `false`.
   */
  readonly confirmsSends?: boolean;
  /** Sends one message; see the contract above. */
  send(message: Message, options?: SendOptions): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
}
