import type { RecordPosition } from '../channel/channel-reader.js';
import type { DeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { RedriveHeaders } from '../message/dead-letter-headers.js';
import { MessageBuilder } from '../message/message-builder.js';
import { MessageHeaders, PARTITION_KEY_HEADER, partitionKeyOf } from '../message/message-headers.js';
import type { Message } from '../message/message.js';

/**
 * One earlier redrive of a dead letter, read from its redrive marker (see `RedriveHeaders`).
 *
 * @public
 */
export interface RedriveMarker {
  /** Position of the redriven dead letter in the dead-letter channel. */
  readonly deadLetter: { readonly partition: number; readonly offset: string };
  /** The `messageId` that was republished (the original message's). */
  readonly messageId: string;
  /** The channel it was republished to. */
  readonly targetChannel: string;
  /** The `RedriveHeaders.REDRIVE_COUNT` the republished message carried. */
  readonly redriveCount: number;
  /** When the republish was confirmed. */
  readonly redrivenAt: Date | undefined;
}

/**
 * A dead letter read back from a dead-letter channel by `gomes.deadLetters(channel)`.
 *
 * @public
 */
export interface DeadLetter {
  /** Where it is stored in the dead-letter channel. */
  readonly position: RecordPosition;
  /** When it was dead-lettered: the dead-letter record's timestamp. */
  readonly deadLetteredAt: Date;
  /** The dead-letter message as stored (original payload, envelope and original headers). */
  readonly message: Message;
  /** Its error envelope (`readDeadLetterEnvelope(message)`). */
  readonly envelope: DeadLetterEnvelope;
  /** The original message's `messageId`; `undefined` when it carries no original headers. */
  readonly originalMessageId: string | undefined;
  /** The original message's `route`. */
  readonly route: string | undefined;
  /** Earlier redrives of this dead letter, oldest first (empty when never redriven). */
  readonly redrives: readonly RedriveMarker[];
}

/**
 * Reads a redrive marker (a record the dead-letter redrive appends to the dead-letter channel after
 * each confirmed republish); `undefined` when `message` is not one.
 *
 * @example
 * ```ts
 * if (readRedriveMarker(message)) return undefined; // a dead-letter consumer skips markers
 * ```
 * @public
 */
export function readRedriveMarker(message: Message): RedriveMarker | undefined {
  const at = message.header(RedriveHeaders.DEAD_LETTER);
  const messageId = message.header(RedriveHeaders.MESSAGE_ID);
  const targetChannel = message.header(RedriveHeaders.TARGET_CHANNEL);
  const match = at === undefined ? null : /^(\d+):(\d+)$/.exec(at);
  if (!match || messageId === undefined || targetChannel === undefined) return undefined;
  const count = Number(message.header(RedriveHeaders.COUNT));
  const redrivenAt = new Date(message.header(RedriveHeaders.REDRIVEN_AT) ?? '');
  return Object.freeze({
    deadLetter: Object.freeze({ partition: Number(match[1]), offset: match[2]! }),
    messageId,
    targetChannel,
    redriveCount: Number.isInteger(count) && count > 0 ? count : 1,
    redrivenAt: Number.isNaN(redrivenAt.getTime()) ? undefined : redrivenAt,
  });
}

/**
 * The redrive marker of `deadLetter`, republished as `messageId` to `targetChannel` with
 * `redriveCount`. It goes to the dead letter's partition (same partition key), after it.
 *
 * @internal
 */
export function redriveMarkerMessage(
  deadLetter: DeadLetter,
  targetChannel: string,
  redriveCount: number,
  redrivenAt: Date,
): Message<RedriveMarkerPayload> {
  const { partition, offset } = deadLetter.position;
  const messageId = deadLetter.originalMessageId ?? '';
  const builder = MessageBuilder.withPayload<RedriveMarkerPayload>({
    redriven: { partition, offset, messageId, targetChannel, redriveCount },
  })
    .messageType('Document')
    .causationId(deadLetter.message.messageId)
    .header(PARTITION_KEY_HEADER, partitionKeyOf(deadLetter.message.headers))
    .header(RedriveHeaders.DEAD_LETTER, `${partition}:${offset}`)
    .header(RedriveHeaders.MESSAGE_ID, messageId)
    .header(RedriveHeaders.TARGET_CHANNEL, targetChannel)
    .header(RedriveHeaders.COUNT, String(redriveCount))
    .header(RedriveHeaders.REDRIVEN_AT, redrivenAt.toISOString());
  const correlationId = deadLetter.message.header(MessageHeaders.CORRELATION_ID);
  if (correlationId !== undefined) builder.correlationId(correlationId);
  return builder.build();
}

/** The payload of a redrive marker (the same facts as its headers, for people reading the topic). @public */
export interface RedriveMarkerPayload {
  readonly redriven: {
    readonly partition: number;
    readonly offset: string;
    readonly messageId: string;
    readonly targetChannel: string;
    readonly redriveCount: number;
  };
}
