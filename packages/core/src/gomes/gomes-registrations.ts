import { ActionRegistry } from '../actions/action-registry.js';
import type { ConsumerChannelBuilder, PublisherChannelBuilder } from '../channel/channel-builders.js';
import type { ChannelConnection, ChannelConnectionState } from '../channel/channel-connection.js';
import type { Logger } from '../logging/logger.js';
import {
  consumersWithoutDeadLetter,
  replyChannelNames,
  type RegisteredConfiguration,
  type TopicRegistration,
} from './configuration-check.js';

/**
 * What a gomes instance was configured with before `start()`: connections, channels, declared
 * topics and action handlers.
 *
 * @internal
 */
export class GomesRegistrations implements RegisteredConfiguration {
  readonly registry = new ActionRegistry();
  readonly connections: ChannelConnection[] = [];
  readonly publishers: PublisherChannelBuilder[] = [];
  readonly consumers: ConsumerChannelBuilder[] = [];
  readonly topics: TopicRegistration[] = [];

  /** The consumer channels the application runs: all but the reply channels gomes runs itself. */
  applicationConsumers(): ConsumerChannelBuilder[] {
    const replyChannels = replyChannelNames(this.publishers);
    return this.consumers.filter((b) => !replyChannels.has(b.channelName));
  }

  /** Each connection's state (`connected` when it reports none and the instance is `started`). */
  connectionStates(started: boolean): { name: string; state: ChannelConnectionState }[] {
    return this.connections.map((c) => ({
      name: c.name,
      state: c.state ?? (started ? 'connected' : 'disconnected'),
    }));
  }

  /** Logs the start of the instance `instanceId`, after a warning per consumer without dead-letter channel. */
  logStarted(logger: Logger, instanceId: string): void {
    for (const consumer of consumersWithoutDeadLetter(this)) {
      logger.warn(
        `failed messages of consumer ${consumer} are redelivered until they succeed; configure withDeadLetterChannelName() to park them after the retries instead`,
        { consumer },
      );
    }
    logger.info('gomes started', {
      instanceId,
      connections: this.connections.length,
      publishers: this.publishers.length,
      consumers: this.consumers.length,
      actions: this.registry.entries().length,
    });
  }
}
