import { ErrorCodes, GomesError, isGomesError, type ErrorCodeName } from '@gomes/core';
import type { DriverInboundRecord } from './driver/kafka-driver.js';
import type { KafkaMessageTranslator } from './kafka-message-translator.js';
import { rootMessage } from './kafka-errors.js';
import { sleepUnlessAborted } from './internal/async-utils.js';

/** Retry pacing of {@link waitUntilDecodable}. @internal */
export interface DecodeRetryBackoff {
  /** Wait after the first retriable failure; doubles with every further one. */
  readonly initialMs: number;
  /** Longest wait between two attempts. */
  readonly maxMs: number;
}

/** Default pacing: 500 ms, doubling, at most 10 s between attempts. @internal */
export const DEFAULT_DECODE_RETRY_BACKOFF: DecodeRetryBackoff = { initialMs: 500, maxMs: 10_000 };

/** What {@link waitUntilDecodable} needs. @internal */
export interface DecodeReadiness {
  readonly translator: KafkaMessageTranslator;
  /** Aborted when the subscription closes. */
  readonly signal: AbortSignal;
  /** Receives each retriable failure (logged and reported to the channel's error listeners). */
  readonly report: (error: GomesError) => void;
  readonly backoff?: DecodeRetryBackoff;
}

/**
 * Waits until the translator can decode `record`, given the promise of its first `prepareInbound`
 * call. A retriable failure (say, the schema registry is unreachable) is reported and retried with
 * exponential backoff, the record kept: nothing is skipped or dead-lettered while the failure may
 * pass. Resolves `true` once decodable, `false` when `halted()` turned true (or the subscription
 * closed) first; rejects with a non-retriable error, which makes the record undecodable (the caller
 * dead-letters it).
 *
 * @internal
 */
export async function waitUntilDecodable(
  readiness: DecodeReadiness,
  record: DriverInboundRecord,
  first: Promise<void>,
  halted: () => boolean,
): Promise<boolean> {
  const backoff = readiness.backoff ?? DEFAULT_DECODE_RETRY_BACKOFF;
  let pending: Promise<void> | undefined = first;
  for (let attempt = 1; pending !== undefined; attempt++) {
    try {
      await pending;
      return true;
    } catch (error) {
      if (!isGomesError(error) || !error.retriable) throw error;
      const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt - 1, 20));
      readiness.report(
        new GomesError(
          codeNameOf(error),
          `Record ${record.topic}/${record.partition}@${record.offset} cannot be decoded yet (attempt ${attempt}): ${rootMessage(error)}; the partition waits and retries in ${delay} ms`,
          {
            cause: error,
            retriable: true,
            details: { topic: record.topic, partition: record.partition, offset: record.offset, attempt },
          },
        ),
      );
      await sleepUnlessAborted(delay, readiness.signal);
      if (halted() || readiness.signal.aborted) return false;
      pending = readiness.translator.prepareInbound(record);
    }
  }
  return true;
}

/** The {@link ErrorCodes} key of `error`'s code (a retriable error keeps its code when reported). */
function codeNameOf(error: GomesError): ErrorCodeName {
  const names = Object.keys(ErrorCodes) as ErrorCodeName[];
  return names.find((name) => ErrorCodes[name].code === error.code) ?? 'TRANSLATION_FAILED';
}
