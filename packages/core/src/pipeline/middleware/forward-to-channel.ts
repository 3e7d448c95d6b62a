import type { PublisherChannel } from '../../channel/publisher-channel.js';
import { GomesError, isGomesError, toError } from '../../errors/gomes-error.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';

/**
 * Looks up every channel first (so nothing is sent when one is unknown), then sends `message` to
 * each in order, with `channelName` set to the target and everything else — `messageId` included —
 * kept.
 *
 * @throws GomesError `GOMES_NOT_FOUND` (non-retriable) for an unknown channel; the publisher's
 * `GomesError`, or `GOMES_PUBLISH_FAILED` wrapping another error, when a send fails.
 * @internal
 */
export async function forwardToChannels(
  channelNames: readonly string[],
  message: Message,
  ctx: ProcessingContext,
): Promise<void> {
  const targets: PublisherChannel[] = channelNames.map((name) => {
    const publisher = ctx.channels.publisher(name);
    if (!publisher) {
      throw new GomesError(
        'NOT_FOUND',
        `Cannot route message ${message.messageId}: channel "${name}" does not exist`,
        {
          details: { channelName: name, messageId: message.messageId },
        },
      );
    }
    return publisher;
  });
  for (const [index, publisher] of targets.entries()) {
    const name = channelNames[index] ?? publisher.name;
    try {
      await publisher.send(MessageBuilder.from(message).channelName(name).build(), { signal: ctx.signal });
    } catch (error) {
      if (isGomesError(error)) throw error;
      throw new GomesError(
        'PUBLISH_FAILED',
        `Routing message ${message.messageId} to "${name}" failed: ${toError(error).message}`,
        {
          cause: error,
          details: { channelName: name, messageId: message.messageId },
        },
      );
    }
    ctx.logger.debug('Message routed', { channelName: name });
  }
}
