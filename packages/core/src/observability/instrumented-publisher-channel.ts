import { context as otelContext, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import type { PublisherChannel, SendOptions } from '../channel/publisher-channel.js';
import { toError } from '../errors/gomes-error.js';
import { DeadLetterHeaders } from '../message/dead-letter-envelope.js';
import { partitionKeyOf } from '../message/message-headers.js';
import type { Message } from '../message/message.js';
import type { GomesTelemetry } from './gomes-telemetry.js';
import { MessagingAttributes as A } from './messaging-attributes.js';
import { errorTypeOf, failSpan, messageAttributes } from './span-helpers.js';
import { injectTraceContext } from './trace-context.js';

/**
 * Wraps a started publisher channel of a gomes instance: every `send` is counted and timed
 * (`messaging.client.sent.messages`, `messaging.client.operation.duration`) and, when tracing is on,
 * runs in a PRODUCER span (`send <channel>`, or `dead-letter <channel>` for a dead-letter message)
 * whose context is written into the message's `traceparent` / `tracestate` headers. The span is a
 * child of the active context (the bus call, the consumer's process span for replies and dead
 * letters).
 *
 * @internal
 */
export class InstrumentedPublisherChannel implements PublisherChannel {
  /** The transport's channel. */
  readonly inner: PublisherChannel;
  readonly #telemetry: GomesTelemetry;
  readonly #metricAttributes: Attributes;
  readonly #system: string;

  constructor(inner: PublisherChannel, telemetry: GomesTelemetry, system: string) {
    this.inner = inner;
    this.#telemetry = telemetry;
    this.#system = system;
    this.#metricAttributes = Object.freeze({
      [A.SYSTEM]: system,
      [A.DESTINATION_NAME]: inner.name,
      [A.OPERATION_NAME]: 'send',
    });
  }

  /** @inheritDoc */
  get name(): string {
    return this.inner.name;
  }

  /** @inheritDoc */
  get confirmsSends(): boolean | undefined {
    return this.inner.confirmsSends;
  }

  /** @inheritDoc */
  // Not `async`: one derived promise per send (the metrics are recorded when it settles).
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  send(message: Message, options?: SendOptions): Promise<void> {
    const started = performance.now();
    let sent: Promise<void>;
    try {
      // `Promise.resolve`: a channel whose `send` is not `async` may return anything (it was awaited).
      sent = this.#telemetry.tracing
        ? this.#tracedSend(message, options)
        : Promise.resolve(this.inner.send(message, options));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      sent = Promise.reject(error);
    }
    return sent.then(
      () => this.#telemetry.metrics.recordSend(this.#metricAttributes, seconds(started), undefined),
      (error: unknown) => {
        this.#telemetry.metrics.recordSend(
          this.#metricAttributes,
          seconds(started),
          errorTypeOf(toError(error)),
        );
        throw error;
      },
    );
  }

  /** @inheritDoc */
  async close(): Promise<void> {
    await this.inner.close();
  }

  async #tracedSend(message: Message, options: SendOptions | undefined): Promise<void> {
    const deadLetter = message.header(DeadLetterHeaders.ERROR_NAME) !== undefined;
    const attributes: Attributes = {
      ...messageAttributes(message),
      [A.SYSTEM]: this.#system,
      [A.DESTINATION_NAME]: this.name,
      [A.OPERATION_NAME]: deadLetter ? 'dead_letter' : 'send',
      [A.OPERATION_TYPE]: 'send',
    };
    if (this.#system === 'kafka') attributes[A.KAFKA_MESSAGE_KEY] = partitionKeyOf(message.headers);
    if (deadLetter)
      attributes[A.ERROR_TYPE] =
        message.header(DeadLetterHeaders.ERROR_CODE) ?? message.header(DeadLetterHeaders.ERROR_NAME);
    const span = this.#telemetry.tracer.startSpan(`${deadLetter ? 'dead-letter' : 'send'} ${this.name}`, {
      kind: SpanKind.PRODUCER,
      attributes,
    });
    const ctx = trace.setSpan(otelContext.active(), span);
    try {
      await otelContext.with(ctx, async () => this.inner.send(injectTraceContext(message, ctx), options));
    } catch (error) {
      failSpan(span, toError(error));
      throw error;
    } finally {
      span.end();
    }
  }
}

function seconds(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}
