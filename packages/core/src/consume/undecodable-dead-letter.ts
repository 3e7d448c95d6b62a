import { GomesError, isGomesError } from '../errors/gomes-error.js';
import { deadLetterMessage } from '../message/dead-letter-envelope.js';
import { UndecodableRecordHeaders } from '../message/dead-letter-headers.js';
import { Message } from '../message/message.js';
import { PARTITION_KEY_HEADER } from '../message/message-headers.js';
import type { DeliveryPosition } from '../channel/consumer-channel.js';
import type { SourceRecord } from '../transport/spi/partitioned-source.js';

/** The decode failure as a non-retriable `GOMES_TRANSLATION_FAILED` (unless it is a GomesError already). */
export function undecodableError(error: Error): Error {
  if (isGomesError(error)) return error;
  return new GomesError('TRANSLATION_FAILED', error.message || 'Undecodable record', {
    cause: error,
    retriable: false,
  });
}

/**
 * The dead letter of a record that could not be decoded: the standard envelope (see
 * `deadLetterMessage`) around the raw stored value (its exact bytes) and headers, plus the undecodable reason
 * headers. The same envelope as a failed delivery, published through the consumer's dead-letter
 * channel.
 *
 * @internal
 */
export function undecodableDeadLetter(
  record: SourceRecord,
  error: Error,
  position: DeliveryPosition,
  channelName: string,
  endpointName: string,
): Message<Uint8Array | string | undefined> {
  const original = new Message<Uint8Array | string | undefined>(record.rawValue, { ...record.headers });
  const letter = deadLetterMessage(
    original,
    error,
    { attempts: 0 },
    {
      channelName,
      endpointName,
      delivery: { position },
    },
  );
  const now = new Date().toISOString();
  return new Message(letter.payload, {
    // Same key as the source record, so per-key order carries over to the dead-letter channel.
    ...(record.key ? { [PARTITION_KEY_HEADER]: record.key } : {}),
    ...letter.headers,
    [UndecodableRecordHeaders.REASON]: error.message || error.name,
    [UndecodableRecordHeaders.SOURCE_TOPIC]: position.channel,
    [UndecodableRecordHeaders.SOURCE_PARTITION]: String(position.partition),
    [UndecodableRecordHeaders.SOURCE_OFFSET]: String(position.offset),
    ...(position.group === undefined ? {} : { [UndecodableRecordHeaders.GROUP_ID]: position.group }),
    [UndecodableRecordHeaders.FAILED_AT]: now,
  });
}
