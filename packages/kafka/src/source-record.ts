import { GomesError, isGomesError } from '@gomes/core';
import type { DecodeResult, SourceRecord } from '@gomes/core/transport';
import { describeDecodeError } from './kafka-errors.js';
import { waitUntilDecodable } from './decode-readiness.js';
import type { DriverInboundRecord } from './driver/kafka-driver.js';
import type { KafkaMessageTranslator } from './kafka-message-translator.js';

/**
 * A fetched Kafka record as a {@link SourceRecord} of the consume core: decoded lazily by the
 * translator; `undecodable` is the error of a preparation (schema lookup) that cannot succeed.
 *
 * @internal
 */
export function toSourceRecord(
  record: DriverInboundRecord,
  translator: KafkaMessageTranslator,
  undecodable: Error | undefined,
): SourceRecord {
  return new KafkaSourceRecord(record, translator, undecodable);
}

/**
 * One object per fetched record, `decode` on its prototype: no closure (and its context) per
 * record, which showed in the consume profile's allocations. The value is the fetched buffer
 * itself (never copied).
 */
class KafkaSourceRecord implements SourceRecord {
  readonly offset: bigint;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawValue: Buffer | undefined;
  readonly #record: DriverInboundRecord;
  readonly #translator: KafkaMessageTranslator;
  readonly #undecodable: Error | undefined;

  constructor(
    record: DriverInboundRecord,
    translator: KafkaMessageTranslator,
    undecodable: Error | undefined,
  ) {
    this.offset = BigInt(record.offset);
    this.key = record.key === null ? `${record.topic}/${record.partition}` : record.key.toString('utf8');
    this.headers = record.headers;
    this.rawValue = record.value === null ? undefined : record.value;
    this.#record = record;
    this.#translator = translator;
    this.#undecodable = undecodable;
  }

  decode(): DecodeResult {
    const record = this.#record;
    const undecodable = this.#undecodable;
    if (undecodable) {
      if (isGomesError(undecodable)) return { ok: false, error: undecodable };
      const error = new GomesError(
        'TRANSLATION_FAILED',
        `Cannot decode record ${record.topic}/${record.partition}@${record.offset}: ${describeDecodeError(undecodable)}`,
        {
          cause: undecodable,
          retriable: false,
          details: { topic: record.topic, partition: record.partition, offset: record.offset },
        },
      );
      return { ok: false, error };
    }
    try {
      return { ok: true, message: this.#translator.fromRecord(record) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
}

/**
 * A fetched batch as source records: records whose decoding needs I/O first (a schema registry)
 * are prepared in order — a retriable failure is retried with backoff (see `waitUntilDecodable`), a
 * non-retriable one makes the record undecodable. `undefined` when `halted()` turned true while
 * waiting (revoked or closed: the batch is fetched again by the next owner).
 *
 * @internal
 */
export async function prepareSourceRecords(
  records: readonly DriverInboundRecord[],
  translator: KafkaMessageTranslator,
  signal: AbortSignal,
  report: (error: Error) => void,
  halted: () => boolean,
): Promise<SourceRecord[] | undefined> {
  const prepared: SourceRecord[] = [];
  for (const record of records) {
    let undecodable: Error | undefined;
    const pending = translator.prepareInbound(record);
    if (pending) {
      try {
        if (!(await waitUntilDecodable({ translator, signal, report }, record, pending, halted)))
          return undefined;
      } catch (error) {
        undecodable = error instanceof Error ? error : new Error(String(error));
      }
    }
    prepared.push(toSourceRecord(record, translator, undecodable));
  }
  return prepared;
}
