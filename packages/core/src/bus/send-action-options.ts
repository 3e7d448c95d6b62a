/**
 * Per-call options of the buses.
 *
 * @public
 */
export interface SendActionOptions {
  /** Custom headers (reserved names are rejected). */
  headers?: Readonly<Record<string, string>>;
  /** Conversation id; a new one (uuid v7) when omitted. */
  correlationId?: string;
  /** `messageId` of the message that caused this one. */
  causationId?: string;
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
