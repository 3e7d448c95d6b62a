import { GomesError } from '@gomes/core';
import { isNonRetriableProduceError, rootMessage } from './kafka-errors.js';

/**
 * The errors a Kafka publisher fails a send with, by what is known about the record:
 *
 * - **not written** (`GOMES_PUBLISH_FAILED`): it never left the client (no producer, timed out in
 *   the buffer), or the broker rejected it for good (`retriable: false`);
 * - **maybe written** (`GOMES_PUBLISH_OUTCOME_UNKNOWN`): its request may have reached the broker (a
 *   timeout, a lost connection, the broker gone, the send timeout while the request was under way).
 *   A caller's retry may duplicate it: the idempotent producer deduplicates only its own retries
 *   within one producer session.
 *
 * @internal
 */
export const PublishOutcome = {
  /** The produce request failed with `cause`. */
  requestFailed(topic: string, messageIds: readonly string[], cause: unknown): GomesError {
    const details = { topic, messageIds: [...messageIds] };
    const what = `Publishing ${messageIds.length} message(s) to Kafka topic "${topic}" failed: ${rootMessage(cause)}`;
    return isNonRetriableProduceError(cause)
      ? new GomesError('PUBLISH_FAILED', `${what}; the broker rejected them (not written)`, {
          cause,
          retriable: false,
          details,
        })
      : new GomesError(
          'PUBLISH_OUTCOME_UNKNOWN',
          `${what}; they may or may not have been written (a retry may duplicate them)`,
          { cause, details },
        );
  },

  /** No producer could be connected for the request: nothing was sent. */
  noProducer(topic: string, messageIds: readonly string[], cause: unknown): GomesError {
    return new GomesError(
      'PUBLISH_FAILED',
      `Publishing ${messageIds.length} message(s) to Kafka topic "${topic}" failed: no producer (${rootMessage(cause)}); they were not written`,
      { cause, details: { topic, messageIds: [...messageIds] } },
    );
  },

  /** The send timeout passed: `sent` tells whether their request was under way. */
  timedOut(topic: string, messageIds: readonly string[], sendTimeoutMs: number, sent: boolean): GomesError {
    const what = `Publishing ${messageIds.length} message(s) to Kafka topic "${topic}" timed out after ${sendTimeoutMs} ms (sendTimeoutMs)`;
    const details = { topic, messageIds: [...messageIds], sendTimeoutMs };
    return sent
      ? new GomesError(
          'PUBLISH_OUTCOME_UNKNOWN',
          `${what} waiting for the broker's acknowledgement; they may or may not have been written (a retry may duplicate them)`,
          { details },
        )
      : new GomesError('PUBLISH_FAILED', `${what} before they were sent; they were not written`, { details });
  },
} as const;
