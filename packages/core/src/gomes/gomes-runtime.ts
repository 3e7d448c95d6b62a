import type { ConsumerChannel, Subscription } from '../channel/consumer-channel.js';
import type { ChannelConnection } from '../channel/channel-connection.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import type { RequestReplyCoordinator } from '../bus/request-reply-coordinator.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { GomesError, isGomesError, toError } from '../errors/gomes-error.js';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import type { Logger } from '../logging/logger.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { InstrumentedPublisherChannel } from '../observability/instrumented-publisher-channel.js';
import type { LagSource } from '../observability/messaging-metrics.js';
import { messagingSystemOf } from '../observability/span-helpers.js';
import { provisionTopics, type TopicProvisioningReport } from '../topics/topic-provisioning.js';
import { replyChannelNames, type RegisteredConfiguration } from './configuration-check.js';
import { subscribeReplies } from './reply-subscription.js';

/**
 * What a started instance owns: connected connections, built channels, reply subscriptions. It
 * knows how to build itself (rolling back on failure) and how to take itself down in order.
 *
 * @internal
 */
export class GomesRuntime {
  readonly connections = new Map<string, ChannelConnection>();
  readonly publishers = new Map<string, PublisherChannel>();
  readonly consumerChannels = new Map<string, ConsumerChannel>();
  /** `messaging.system` of each consumer channel's connection, by consumer name. */
  readonly consumerSystems = new Map<string, string>();
  readonly replySubscriptions: Subscription[] = [];
  /** Idempotency stores of the consumers, started by `build` and closed by `close`. */
  readonly idempotencyStores: IdempotencyStore[] = [];
  /** What provisioning the declared topics found and did, per `addTopics` call. */
  readonly topicReports: TopicProvisioningReport[] = [];
  readonly #logger: Logger;

  private constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * Starts the consumers' idempotency stores, connects every connection, provisions the declared
   * topics, builds publishers, then consumer channels, and subscribes the reply consumers (each as
   * this instance's ephemeral reader, see {@link subscribeReplies}). On any failure it undoes what
   * it did and rethrows. Publishers are wrapped in an
   * {@link InstrumentedPublisherChannel} (metrics, and PRODUCER spans when tracing is on).
   */
  static async build(
    config: RegisteredConfiguration,
    coordinator: RequestReplyCoordinator,
    logger: Logger,
    telemetry: GomesTelemetry,
  ): Promise<GomesRuntime> {
    const runtime = new GomesRuntime(logger);
    try {
      const stores = new Set(config.consumers.flatMap((c) => c.endpointOptions.idempotency?.store ?? []));
      for (const store of stores) {
        runtime.idempotencyStores.push(store);
        try {
          await store.start?.();
        } catch (error) {
          throw new GomesError(
            'IDEMPOTENCY_STORE_FAILED',
            `Idempotency store (${store.description}) could not start: ${toError(error).message}`,
            { cause: error, retriable: false },
          );
        }
        logger.info('idempotency store ready', { store: store.description });
      }
      for (const connection of config.connections) {
        await connection.connect();
        runtime.connections.set(connection.name, connection);
        logger.info('connection connected', { connection: connection.name });
      }
      for (const { connectionName, templates } of config.topics) {
        const connection = runtime.connections.get(connectionName)!;
        runtime.topicReports.push(
          await provisionTopics(connectionName, connection.topicAdmin!(), templates, logger),
        );
      }
      for (const builder of config.publishers) {
        const connection = runtime.connections.get(builder.connectionName)!;
        const channel = await builder.build({ connection, logger });
        runtime.publishers.set(
          builder.channelName,
          new InstrumentedPublisherChannel(channel, telemetry, messagingSystemOf(connection)),
        );
      }
      const replyChannels = replyChannelNames(config.publishers);
      const missingTopics: GomesError[] = [];
      for (const builder of config.consumers) {
        const connection = runtime.connections.get(builder.connectionName)!;
        const system = messagingSystemOf(connection);
        try {
          if (replyChannels.has(builder.channelName)) {
            runtime.replySubscriptions.push(
              await subscribeReplies({
                builder,
                context: { connection, logger },
                coordinator,
                telemetry,
                system,
              }),
            );
            continue;
          }
          const channel = await builder.build({ connection, logger });
          runtime.consumerSystems.set(builder.consumerName, system);
          runtime.consumerChannels.set(builder.consumerName, channel);
        } catch (error) {
          // Collected, so that one error names every missing topic (see `missingTopicsError`).
          if (isGomesError(error) && error.code === ErrorCodes.TOPIC_NOT_FOUND.code)
            missingTopics.push(error);
          else throw error;
        }
      }
      if (missingTopics.length > 0) throw missingTopicsError(missingTopics);
      return runtime;
    } catch (error) {
      await runtime.close();
      throw error;
    }
  }

  /**
   * Closes reply subscriptions, then publishers (flushing), then idempotency stores, then
   * connections. Never throws; returns the errors.
   */
  async close(): Promise<Error[]> {
    const errors: Error[] = [];
    const settle = async (what: string, work: Array<Promise<unknown>>): Promise<void> => {
      for (const r of await Promise.allSettled(work)) {
        if (r.status === 'rejected') {
          const err = toError(r.reason);
          errors.push(err);
          this.#logger.error(`shutdown: ${what} failed`, { error: err.message });
        }
      }
    };
    await settle(
      'closing a reply subscription',
      this.replySubscriptions.map(async (s) => s.close()),
    );
    await settle(
      'closing a publisher',
      [...this.publishers.values()].map(async (p) => p.close()),
    );
    await settle(
      'closing an idempotency store',
      this.idempotencyStores.map(async (s) => s.close?.()),
    );
    await settle(
      'disconnecting a connection',
      [...this.connections.values()].reverse().map(async (c) => c.disconnect()),
    );
    return errors;
  }

  /** The consumer channels that report their lag, for the lag metric. */
  lagSources(): LagSource[] {
    return [...this.consumerChannels].flatMap(([consumer, channel]) =>
      channel.consumerLag
        ? [
            {
              consumer,
              system: this.consumerSystems.get(consumer) ?? 'gomes',
              lag: () => channel.consumerLag!(),
            },
          ]
        : [],
    );
  }

  /** The publisher channel called `name`, or throws NOT_FOUND. */
  publisher(name: string): PublisherChannel {
    const channel = this.publishers.get(name);
    if (!channel)
      throw new GomesError('NOT_FOUND', `No publisher channel "${name}" is registered`, {
        details: { name },
      });
    return channel;
  }
}

/**
 * One `GOMES_TOPIC_NOT_FOUND` for every consumer whose topic is missing: the single error as it is,
 * several as one error listing each (`details.problems`) with every topic (`details.topics`).
 */
function missingTopicsError(errors: readonly GomesError[]): GomesError {
  if (errors.length === 1) return errors[0]!;
  const topics = errors.flatMap((e) => {
    const named = e.details['topics'];
    return Array.isArray(named) ? (named as unknown[]).map(String) : [];
  });
  return new GomesError(
    'TOPIC_NOT_FOUND',
    `${errors.length} consumers read topics that do not exist:\n` +
      errors.map((e) => `  - ${e.message}`).join('\n'),
    { cause: errors[0], details: { topics, problems: errors.map((e) => e.message) } },
  );
}
