/**
 * Per-call options of the buses.
 *
 * @public
 */
export interface SendActionOptions {
  /** Custom headers (reserved names are rejected). */
  headers?: Readonly<Record<string, string>>;
  /**
   * Conversation id. When omitted: inside a handler, the `correlationId` of the message being
   * handled (see `inheritCausation` in `GomesOptions`); elsewhere a new one (uuid v7).
   */
  correlationId?: string;
  /**
   * `messageId` of the message that caused this one. When omitted inside a handler: the `messageId`
   * of the message being handled (see `inheritCausation` in `GomesOptions`).
   */
  causationId?: string;
  /**
   * Who produced the message: the `origin` header, CloudEvents `source` (a URI-reference such as
   * `/orders-service` or `urn:acme:orders`). @default the instance's `origin` option (`gomes`)
   */
  origin?: string;
  /**
   * What the message is about within its origin (an order id, …): header `gomes.subject`,
   * CloudEvents `subject`. Overrides the action decorator's `subject` function. A non-empty string.
   */
  subject?: string;
  /** Partition/order key; messages with the same key keep their order. Default: correlationId. */
  partitionKey?: string;
  /** Aborts waiting (for the handler in-process, for the reply over a channel). */
  signal?: AbortSignal;
  /**
   * How long `send` waits for a remote reply over a channel, in ms: an integer in 0..2147483647, or
   * `Infinity` to wait without a timer (until the reply, `signal` or shutdown). Anything else makes
   * `send` reject with a `GOMES_CONFIGURATION` GomesError before sending.
   * @default the instance's requestTimeoutMs
   */
  timeoutMs?: number;
}
