import type { EventDrivenConsumerInit } from './event-driven-consumer-options.js';

/** The dead-letter wiring of an event-driven consumer (see {@link consumerDeadLetterSetup}). @internal */
export interface ConsumerDeadLetterSetup {
  /** Publisher channels, the transport's dead-letter channel included. */
  readonly channels: EventDrivenConsumerInit['channels'];
  /** Endpoint options, with the transport's dead-letter channel for failed messages when it applies. */
  readonly endpointOptions: EventDrivenConsumerInit['endpointOptions'];
  /** Where undecodable records go, if anywhere. */
  readonly undecodable: string | undefined;
}

/**
 * The dead-letter channels of a consumer: its own (`withDeadLetterChannelName`), else the
 * transport's (Kafka `withDeadLetterTopic` / `<topic>.DLQ`, see `ConsumerChannel.deadLetterChannel`)
 * — always for undecodable records, and for failed messages when the transport's was named
 * explicitly. One envelope (core's) either way.
 *
 * @internal
 */
export function consumerDeadLetterSetup(init: EventDrivenConsumerInit): ConsumerDeadLetterSetup {
  const { channels, endpointOptions } = init;
  const own = endpointOptions.deadLetterChannelName;
  const transport = own === undefined ? init.channel.deadLetterChannel?.() : undefined;
  if (!transport) return { channels, endpointOptions, undecodable: own };
  const { publisher } = transport;
  return {
    channels: { publisher: (name) => (name === publisher.name ? publisher : channels.publisher(name)) },
    endpointOptions: transport.forFailedMessages
      ? { ...endpointOptions, deadLetterChannelName: publisher.name }
      : endpointOptions,
    undecodable: publisher.name,
  };
}
