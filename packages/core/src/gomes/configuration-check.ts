import type { ChannelConnection } from '../channel/channel-connection.js';
import type { ConsumerChannelBuilder, PublisherChannelBuilder } from '../channel/channel-builders.js';
import type { ActionRegistry } from '../actions/action-registry.js';
import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { TopicTemplates } from '../topics/topic-templates.js';

/** Topics declared on a connection with `gomes.addTopics`. @internal */
export interface TopicRegistration {
  readonly connectionName: string;
  readonly templates: TopicTemplates;
}

/** Everything registered on an instance before `start()`. @internal */
export interface RegisteredConfiguration {
  readonly connections: readonly ChannelConnection[];
  readonly publishers: readonly PublisherChannelBuilder[];
  readonly consumers: readonly ConsumerChannelBuilder[];
  readonly registry: ActionRegistry;
  readonly topics: readonly TopicRegistration[];
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

/** Names of the channels that some publisher uses as its reply channel. @internal */
export function replyChannelNames(publishers: readonly PublisherChannelBuilder[]): Set<string> {
  return new Set(publishers.flatMap((p) => (p.replyChannelName ? [p.replyChannelName] : [])));
}

/**
 * Every problem of a configuration, checked before anything connects: duplicate names, unknown
 * or mismatched connections, invalid builder options, unknown dead-letter channels, request-reply
 * without a reply consumer, duplicate command/query handlers, consumers with nothing to route to.
 *
 * @internal
 */
export function checkConfiguration(config: RegisteredConfiguration): string[] {
  const problems: string[] = [];
  const connections = new Map(config.connections.map((c) => [c.name, c]));
  const publisherNames = new Set(config.publishers.map((p) => p.channelName));
  const replyChannels = replyChannelNames(config.publishers);

  for (const name of duplicates(config.connections.map((c) => c.name)))
    problems.push(`connection "${name}" is registered more than once`);
  for (const name of duplicates(config.publishers.map((p) => p.channelName)))
    problems.push(`publisher channel "${name}" is registered more than once`);
  for (const name of duplicates(config.consumers.map((c) => c.consumerName)))
    problems.push(`consumer "${name}" is registered more than once`);

  for (const connection of config.connections) {
    problems.push(...connection.validate().map((p) => `connection "${connection.name}": ${p}`));
  }

  const checkConnection = (
    what: string,
    connectionName: string,
    accepts: (c: ChannelConnection) => boolean,
  ): void => {
    const connection = connections.get(connectionName);
    if (!connection) problems.push(`${what} refers to unknown connection "${connectionName}"`);
    else if (!accepts(connection))
      problems.push(`${what} cannot use connection "${connectionName}" (another transport)`);
  };

  for (const p of config.publishers) {
    problems.push(...p.validate());
    checkConnection(`publisher "${p.channelName}"`, p.connectionName, (c) => p.acceptsConnection(c));
    if (p.replyChannelName && !config.consumers.some((c) => c.channelName === p.replyChannelName)) {
      problems.push(
        `publisher "${p.channelName}" expects replies on "${p.replyChannelName}" but no consumer channel consumes "${p.replyChannelName}"`,
      );
    }
  }

  const hasHandlers = config.registry.entries().length > 0;
  for (const c of config.consumers) {
    problems.push(...c.validate());
    checkConnection(`consumer "${c.consumerName}"`, c.connectionName, (conn) => c.acceptsConnection(conn));
    const dlq = c.endpointOptions.deadLetterChannelName;
    if (dlq !== undefined && !publisherNames.has(dlq)) {
      problems.push(
        `consumer "${c.consumerName}" dead-letters to "${dlq}", which is not a registered publisher channel`,
      );
    }
    const routesElsewhere = c.endpointOptions.middleware.length > 0 || c.endpointOptions.polled;
    if (!replyChannels.has(c.channelName) && !hasHandlers && !routesElsewhere) {
      problems.push(`consumer "${c.consumerName}" has no route handler: no action handler is registered`);
    }
  }

  const declared = new Map<string, string>();
  for (const { connectionName, templates } of config.topics) {
    const where = `topics on connection "${connectionName}"`;
    const connection = connections.get(connectionName);
    if (!connection) problems.push(`${where}: unknown connection "${connectionName}"`);
    else if (typeof connection.topicAdmin !== 'function') {
      problems.push(`${where}: connection "${connectionName}" cannot provision topics`);
    }
    problems.push(...templates.validate().map((p) => `${where}: ${p}`));
    for (const name of templates.templates.map((t) => templates.prefix + t.name)) {
      const key = `${connectionName}/${name}`;
      if (declared.has(key)) problems.push(`${where}: topic "${name}" is declared by two addTopics calls`);
      declared.set(key, name);
    }
  }

  problems.push(...config.registry.problems());
  return problems;
}

/**
 * Consumers with no dead-letter channel: their failed messages are redelivered until they succeed.
 * Not an error — `start()` logs a warning naming each. Reply consumers are left out, and so are
 * consumers of a dead-letter channel (one that a consumer of this instance dead-letters to): a
 * dead-letter reader is where failures end up, not a place that needs one.
 *
 * @internal
 */
export function consumersWithoutDeadLetter(config: RegisteredConfiguration): string[] {
  const replyChannels = replyChannelNames(config.publishers);
  const deadLetterChannels = new Set(
    config.consumers.flatMap((c) => c.endpointOptions.deadLetterChannelName ?? []),
  );
  return config.consumers
    .filter(
      (c) =>
        !replyChannels.has(c.channelName) &&
        !deadLetterChannels.has(c.channelName) &&
        c.endpointOptions.deadLetterChannelName === undefined,
    )
    .map((c) => c.consumerName);
}

/**
 * Runs every builder's optional `preflight` (checks that need I/O, such as schema registration and
 * compatibility) concurrently and returns all their problems. A preflight that throws is reported as a
 * problem of its builder, so one failure does not hide the others.
 *
 * @internal
 */
export async function runPreflights(config: RegisteredConfiguration, logger: Logger): Promise<string[]> {
  const checks = [
    ...config.publishers.map((b) => ({ what: `publisher "${b.channelName}"`, builder: b })),
    ...config.consumers.map((b) => ({ what: `consumer "${b.consumerName}"`, builder: b })),
  ].filter(({ builder }) => typeof builder.preflight === 'function');
  const results = await Promise.all(
    checks.map(async ({ what, builder }) => {
      try {
        return await builder.preflight!({ logger });
      } catch (error) {
        return [`${what}: preflight check failed: ${toError(error).message}`];
      }
    }),
  );
  return [...new Set(results.flat())];
}
