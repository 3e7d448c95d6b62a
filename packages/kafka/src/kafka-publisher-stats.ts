import type { GomesError } from '@gomes/core';

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

/** Receives async-mode publish failures of a {@link KafkaPublisherChannel}. @public */
export type KafkaPublishErrorListener = (error: GomesError) => void;
