import type { ChannelBuildContext, ConsumerChannelBuilder } from '../channel/channel-builders.js';
import type { Subscription } from '../channel/consumer-channel.js';
import type { RequestReplyCoordinator } from '../bus/request-reply-coordinator.js';
import { toError } from '../errors/gomes-error.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { MessagingAttributes as A } from '../observability/messaging-attributes.js';
import { traceReplyDelivery } from '../observability/request-reply-tracing.js';

/** What {@link subscribeReplies} needs. @internal */
export interface ReplySubscriptionParams {
  /** The reply consumer as the user configured it. */
  readonly builder: ConsumerChannelBuilder;
  readonly context: ChannelBuildContext;
  readonly coordinator: RequestReplyCoordinator;
  readonly telemetry: GomesTelemetry;
  /** `messaging.system` of the connection. */
  readonly system: string;
}

/**
 * Builds and subscribes the reply consumer of one reply channel, as an **ephemeral reader** of
 * this instance (`ConsumerChannelBuilder.asEphemeralReader(instanceId)`): it reads every reply of
 * the channel, from the end of the channel as it was at `start()`, in a group of its own, and
 * commits nothing. Each reply goes to the {@link RequestReplyCoordinator}: one addressed to
 * another instance (a replica's) is acked at once (no span) and counted; one nobody waits for is
 * counted; both are logged at debug level only and recorded in `gomes.reply.dropped.messages`.
 * Every reply is acked, also one whose handling failed (logged as an error): a reply is never worth
 * redelivering.
 *
 * A builder without the capability is read in its configured group, with one warning.
 *
 * @internal
 */
export async function subscribeReplies(params: ReplySubscriptionParams): Promise<Subscription> {
  const { builder, context, coordinator, telemetry, system } = params;
  const { logger } = context;
  const reader = builder.asEphemeralReader?.(coordinator.instanceId);
  if (!reader) {
    logger.warn(
      `reply consumer ${builder.consumerName}: its transport cannot read per instance, so it reads in its shared group; with several replicas of this service, replies reach the wrong replica and requests time out`,
      { consumer: builder.consumerName },
    );
  }
  const channel = await (reader ?? builder).build(context);
  const attributes = {
    [A.SYSTEM]: system,
    [A.DESTINATION_NAME]: channel.channelName,
    [A.GOMES_ENDPOINT]: builder.consumerName,
  };
  return channel.subscribe(
    async (delivery) => {
      const message = delivery.message;
      try {
        if (coordinator.isForeign(message)) {
          coordinator.dropForeign(message);
          telemetry.metrics.recordReplyDropped(attributes, 'foreign');
        } else {
          await traceReplyDelivery(telemetry, delivery, system, async () => {
            if (coordinator.handleReply(message) === 'unmatched')
              telemetry.metrics.recordReplyDropped(attributes, 'unmatched');
          });
        }
      } catch (error) {
        // Read again, it would fail again until its request times out: logged, then acked.
        logger.error('reply could not be handled; dropped (its request times out)', {
          consumer: builder.consumerName,
          messageId: message.messageId,
          error: toError(error).message,
        });
      } finally {
        await delivery.ack();
      }
    },
    {
      onError: (e) =>
        logger.error('reply consumer error', { consumer: builder.consumerName, error: e.message }),
    },
  );
}
