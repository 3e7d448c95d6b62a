import type { ChannelBuildContext, PublisherChannelBuilder } from './channel-builders.js';
import type { ChannelConnection } from './channel-connection.js';
import type { PublisherChannel } from './publisher-channel.js';

/**
 * Base of every transport's publisher builder. Immutable: each `with*` returns a new builder.
 *
 * @public
 */
export abstract class PublisherChannelAdapterBuilder implements PublisherChannelBuilder {
  /** @inheritDoc */
  readonly connectionName: string;
  /** @inheritDoc */
  readonly channelName: string;
  /** @inheritDoc */
  readonly replyChannelName: string | undefined = undefined;

  protected constructor(connectionName: string, channelName: string) {
    this.connectionName = connectionName;
    this.channelName = channelName;
  }

  /** Stamps `replyTo: name` on every message sent through this channel (request-reply). */
  withReplyChannelName(name: string): this {
    return this.derive({ replyChannelName: name } as Partial<Record<keyof this, unknown>>);
  }

  /** @inheritDoc */
  validate(): string[] {
    const problems: string[] = [];
    const where = `publisher "${this.channelName}"`;
    if (!this.channelName) problems.push('a publisher channel needs a non-empty name');
    if (!this.connectionName) problems.push(`${where} needs a non-empty connection name`);
    if (this.replyChannelName === '') problems.push(`${where}: reply channel name must not be empty`);
    problems.push(...this.validateTransportOptions().map((p) => `${where}: ${p}`));
    return problems;
  }

  /** @inheritDoc */
  abstract acceptsConnection(connection: ChannelConnection): boolean;

  /** @inheritDoc */
  abstract build(context: ChannelBuildContext): Promise<PublisherChannel>;

  /** Transport-specific problems (empty when valid). */
  protected abstract validateTransportOptions(): string[];

  /** Returns a copy of this builder with `changes` applied to its own fields. */
  protected derive(changes: Partial<Record<keyof this, unknown>>): this {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this, changes);
    return Object.freeze(copy);
  }
}
