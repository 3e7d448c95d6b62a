import { validateIdempotencyOptions, type IdempotencyOptions } from '../idempotency/idempotency-options.js';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import type { HandlerMiddleware, Interceptor, MessageFilterFn } from '../pipeline/message-handler.js';
import { resolveRetryOptions, type RetryOptions } from '../pipeline/retry-options.js';
import type {
  ChannelBuildContext,
  ConsumerChannelBuilder,
  ConsumerEndpointOptions,
} from './channel-builders.js';
import { DEFAULT_CONSUMER_ENDPOINT_OPTIONS } from './channel-builders.js';
import type { ChannelConnection } from './channel-connection.js';
import type { ConsumerChannel } from './consumer-channel.js';

/**
 * Base of every transport's consumer builder: the endpoint options every consumer has (dead letter,
 * retry, interceptors, filter, middleware, replies). Builders are immutable: each `with*` returns a
 * new builder and leaves the receiver unchanged.
 *
 * @public
 */
export abstract class ConsumerChannelAdapterBuilder implements ConsumerChannelBuilder {
  /** @inheritDoc */
  readonly connectionName: string;
  /** @inheritDoc */
  readonly channelName: string;
  /** @inheritDoc */
  readonly consumerName: string;
  /** @inheritDoc */
  readonly endpointOptions: ConsumerEndpointOptions = DEFAULT_CONSUMER_ENDPOINT_OPTIONS;

  protected constructor(connectionName: string, channelName: string, consumerName: string) {
    this.connectionName = connectionName;
    this.channelName = channelName;
    this.consumerName = consumerName;
  }

  /**
   * Sends messages that failed for good (after retries) to this publisher channel (register a
   * publisher channel of that name). @default name `<channelName>.DLQ`
   */
  withDeadLetterChannelName(name = `${this.channelName}.DLQ`): this {
    return this.withEndpoint({ deadLetterChannelName: name });
  }

  /** Retries a failed message with exponential backoff and jitter before dead-lettering it. */
  withRetry(options: Partial<RetryOptions> = {}): this {
    return this.withEndpoint({ retry: { ...options } });
  }

  /** Go gomes' fixed retry delays: one retry per entry, waiting that many ms before it. */
  withRetryTimes(...delaysMs: number[]): this {
    return this.withEndpoint({ retry: { delaysMs: [...delaysMs] } });
  }

  /** Appends interceptors that run before the handler. */
  withBeforeInterceptors(...interceptors: Interceptor[]): this {
    return this.withEndpoint({
      beforeInterceptors: [...this.endpointOptions.beforeInterceptors, ...interceptors],
    });
  }

  /** Appends interceptors that run on the handler's result. */
  withAfterInterceptors(...interceptors: Interceptor[]): this {
    return this.withEndpoint({
      afterInterceptors: [...this.endpointOptions.afterInterceptors, ...interceptors],
    });
  }

  /** Processes only messages for which `filter` returns true; others are acked and counted as filtered. */
  withFilter(filter: MessageFilterFn): this {
    return this.withEndpoint({ filter });
  }

  /** Appends middleware run inside retry, around the handler (first added = outermost). */
  withMiddleware(...middleware: HandlerMiddleware[]): this {
    return this.withEndpoint({ middleware: [...this.endpointOptions.middleware, ...middleware] });
  }

  /**
   * Whether each handler result (or final error) is published to the channel named by the message's
   * `replyTo` header. On by default; `withSendReplyUsingReplyTo(false)` turns it off.
   */
  withSendReplyUsingReplyTo(enabled = true): this {
    return this.withEndpoint({ sendReplyUsingReplyTo: enabled });
  }

  /**
   * Declares that the channel is read with `gomes.pollingConsumer(consumerName)` (the caller settles
   * each message), so `start()` does not require an action handler for it.
   */
  withPolling(enabled = true): this {
    return this.withEndpoint({ polled: enabled });
  }

  /**
   * Makes the consumer idempotent: a message whose key (default `messageId`) was already processed
   * successfully by a member sharing `store` is acked without running its handler (counted in
   * `stats.duplicates`), and members racing one message run it once. See `idempotentConsumer` and
   * docs/idempotency.md.
   */
  withIdempotency(store: IdempotencyStore, options: IdempotencyOptions): this {
    return this.withEndpoint({
      idempotency: Object.freeze({ store, options: Object.freeze({ ...options }) }),
    });
  }

  /** @inheritDoc */
  validate(): string[] {
    const problems: string[] = [];
    const where = `consumer "${this.consumerName}"`;
    if (!this.consumerName) problems.push('a consumer needs a non-empty name');
    if (!this.channelName) problems.push(`${where} needs a non-empty channel name`);
    if (!this.connectionName) problems.push(`${where} needs a non-empty connection name`);
    if (this.endpointOptions.retry) {
      problems.push(...resolveRetryOptions(this.endpointOptions.retry).problems.map((p) => `${where}: ${p}`));
    }
    const idempotency = this.endpointOptions.idempotency;
    if (idempotency) {
      if (typeof idempotency.store?.claim !== 'function') {
        problems.push(`${where}: withIdempotency needs an IdempotencyStore`);
      }
      problems.push(...validateIdempotencyOptions(idempotency.options).map((p) => `${where}: ${p}`));
    }
    problems.push(...this.validateTransportOptions().map((p) => `${where}: ${p}`));
    return problems;
  }

  /** @inheritDoc */
  abstract acceptsConnection(connection: ChannelConnection): boolean;

  /** @inheritDoc */
  abstract build(context: ChannelBuildContext): Promise<ConsumerChannel>;

  /** Transport-specific problems (empty when valid). */
  protected abstract validateTransportOptions(): string[];

  /** Returns a copy of this builder with `changes` applied to its own fields. */
  protected derive(changes: Partial<Record<keyof this, unknown>>): this {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this, changes);
    return Object.freeze(copy);
  }

  private withEndpoint(changes: Partial<ConsumerEndpointOptions>): this {
    return this.derive({ endpointOptions: Object.freeze({ ...this.endpointOptions, ...changes }) } as Partial<
      Record<keyof this, unknown>
    >);
  }
}
