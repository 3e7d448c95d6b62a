import { GomesError, isGomesError } from '@gomes/core';
import type { DecodeResult, SourceRecord } from '@gomes/core/transport';
import { describeDecodeError } from './kafka-errors.js';
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
  return {
    offset: BigInt(record.offset),
    key: record.key === null ? `${record.topic}/${record.partition}` : record.key.toString('utf8'),
    headers: record.headers,
    rawValue: record.value === null ? undefined : record.value,
    decode: (): DecodeResult => {
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
        return { ok: true, message: translator.fromRecord(record) };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
      }
    },
  };
}
