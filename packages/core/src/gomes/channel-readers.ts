import { DeadLetterChannel } from '../dead-letter/dead-letter-channel.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { GomesError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import type { ChannelResolver } from '../pipeline/processing-context.js';
import { replayOptionsProblems, type ReplayOptions } from '../replay/replay-options.js';
import { ReplayRun } from '../replay/replay-run.js';
import type { RegisteredConfiguration } from './configuration-check.js';
import type { GomesRuntime } from './gomes-runtime.js';

/** What reads a registered channel back: the started runtime and the registrations. @internal */
export interface ChannelReadersContext {
  readonly runtime: GomesRuntime;
  readonly config: Pick<RegisteredConfiguration, 'publishers' | 'consumers'>;
  readonly logger: Logger;
}

/**
 * The dead letters of the publisher channel `channel` (see `Gomes.deadLetters`).
 *
 * @throws GomesError `GOMES_NOT_FOUND` when no publisher channel `channel` is registered,
 * `GOMES_NOT_SUPPORTED` when its transport cannot read it back.
 * @internal
 */
export function openDeadLetterChannel(context: ChannelReadersContext, channel: string): DeadLetterChannel {
  const { runtime, logger } = context;
  const builder = context.config.publishers.find((p) => p.channelName === channel);
  if (!builder) {
    throw new GomesError(
      'NOT_FOUND',
      `No publisher channel "${channel}" is registered; register one for the dead-letter channel to list or redrive it`,
      { details: { channel } },
    );
  }
  if (!builder.createReader) {
    throw new GomesError(
      'NOT_SUPPORTED',
      `The transport of publisher channel "${channel}" cannot read it back (its builder has no createReader)`,
      { details: { channel, connection: builder.connectionName } },
    );
  }
  const connection = runtime.connections.get(builder.connectionName)!;
  return new DeadLetterChannel({
    reader: builder.createReader({ connection, logger }),
    publisher: runtime.publisher(channel),
    publishers: (name) => runtime.publishers.get(name),
    logger,
  });
}

/**
 * A replay run of `options` (see `Gomes.replay`), not started.
 *
 * @throws ConfigurationError listing every problem of `options`.
 * @internal
 */
export function prepareReplay(
  context: ChannelReadersContext,
  options: ReplayOptions,
  registeredHandler: MessageHandlerFn,
  channels: ChannelResolver,
): ReplayRun {
  const problems = replayOptionsProblems(options);
  const builder = context.config.publishers.find((p) => p.channelName === options.channel);
  if (typeof options.channel === 'string' && options.channel !== '' && !builder) {
    problems.push(
      `no publisher channel "${options.channel}" is registered; register one (addPublisherChannel) for the channel to replay it`,
    );
  } else if (builder && !builder.createReader) {
    problems.push(
      `the transport of channel "${options.channel}" cannot read it back (its builder has no createReader)`,
    );
  }
  const consumer =
    options.consumer === undefined
      ? undefined
      : context.config.consumers.find((c) => c.consumerName === options.consumer);
  if (typeof options.consumer === 'string' && options.consumer !== '' && !consumer) {
    problems.push(`no consumer channel "${options.consumer}" is registered`);
  } else if (consumer && consumer.channelName !== options.channel) {
    problems.push(
      `consumer "${consumer.consumerName}" reads channel "${consumer.channelName}", not "${options.channel}"`,
    );
  }
  ConfigurationError.throwIfAny(problems, `replay of "${String(options.channel)}"`);
  const connection = context.runtime.connections.get(builder!.connectionName)!;
  return new ReplayRun(
    {
      reader: builder!.createReader!({ connection, logger: context.logger }),
      registeredHandler,
      consumer: consumer?.endpointOptions,
      channels,
      logger: context.logger,
    },
    options,
  );
}
