import type {
  Attributes,
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  ObservableResult,
} from '@opentelemetry/api';
import type { PartitionLag } from '../channel/consumer-channel.js';
import { MessagingAttributes as A } from './messaging-attributes.js';

/** Instrument names gomes records (OpenTelemetry semantic-convention names where one exists). @public */
export const MessagingMetricNames = {
  /** Counter `{message}`: messages a publisher channel was asked to send (attribute `error.type` when it failed). */
  SENT: 'messaging.client.sent.messages',
  /** Histogram `s`: duration of a publisher channel send (until the transport accepted it). */
  SEND_DURATION: 'messaging.client.operation.duration',
  /** Counter `{message}`: messages a consumer started processing (redeliveries included). */
  CONSUMED: 'messaging.client.consumed.messages',
  /** Histogram `s`: duration of one consumer pipeline run (all retries of one delivery). */
  PROCESS_DURATION: 'messaging.process.duration',
  /** Counter `{message}`: deliveries processed successfully (acked; filtered ones included). */
  SUCCEEDED: 'gomes.consumer.succeeded.messages',
  /** Counter `{message}`: deliveries whose processing failed after all attempts (nacked or dead-lettered). */
  FAILED: 'gomes.consumer.failed.messages',
  /** Counter `{message}`: failed attempts that were retried. */
  RETRIED: 'gomes.consumer.retried.messages',
  /** Counter `{message}`: duplicates an idempotent consumer skipped (acked; also in `succeeded`). */
  DUPLICATES: 'gomes.consumer.duplicate.messages',
  /** Counter `{message}`: messages published to a dead-letter channel. */
  DEAD_LETTERED: 'gomes.consumer.dead_lettered.messages',
  /** Gauge `{message}`: messages being processed now, per consumer. */
  IN_FLIGHT: 'gomes.consumer.in_flight.messages',
  /** Gauge `{message}`: consumer lag per topic-partition (high watermark − acked position). */
  LAG: 'gomes.consumer.lag',
  /**
   * Counter `{message}`: replies a reply consumer received and dropped, by `gomes.reply.outcome`:
   * `foreign` (addressed to another instance) or `unmatched` (no request waits for it: late).
   */
  REPLIES_DROPPED: 'gomes.reply.dropped.messages',
} as const;

/** Where the lag gauge reads from: one entry per consumer. @internal */
export interface LagSource {
  readonly consumer: string;
  readonly system: string;
  readonly lag: () => readonly PartitionLag[];
}

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Instruments {
  readonly sent: Counter;
  readonly sendDuration: Histogram;
  readonly consumed: Counter;
  readonly processDuration: Histogram;
  readonly succeeded: Counter;
  readonly failed: Counter;
  readonly retried: Counter;
  readonly deadLettered: Counter;
  readonly repliesDropped: Counter;
  readonly duplicates: Counter;
}

/**
 * The metric instruments of one gomes instance. They are created by {@link MessagingMetrics.bind}
 * (called by `gomes.start()`) from the injected MeterProvider or the global one of
 * `@opentelemetry/api`; until then every recording is dropped. Register the SDK before `start()`.
 *
 * @internal
 */
export class MessagingMetrics {
  readonly #provider: MeterProvider | undefined;
  readonly #inFlight = new Map<string, { count: number; attributes: Attributes }>();
  #lagSources: () => readonly LagSource[] = () => [];
  #instruments: Instruments | undefined;

  constructor(provider: MeterProvider | undefined) {
    this.#provider = provider;
  }

  /** Creates the instruments (once). `getProvider` is the global provider, read now. */
  bind(getProvider: () => MeterProvider, version: string): void {
    if (this.#instruments) return;
    const meter = (this.#provider ?? getProvider()).getMeter('@gomes/core', version);
    this.#instruments = createInstruments(meter);
    meter
      .createObservableGauge(MessagingMetricNames.IN_FLIGHT, {
        description: 'Messages being processed',
        unit: '{message}',
      })
      .addCallback((result) => this.#observeInFlight(result));
    meter
      .createObservableGauge(MessagingMetricNames.LAG, {
        description: 'Consumer lag per topic-partition',
        unit: '{message}',
      })
      .addCallback((result) => this.#observeLag(result));
  }

  /** Sets what the lag gauge reads. */
  setLagSources(sources: () => readonly LagSource[]): void {
    this.#lagSources = sources;
  }

  /** A send finished (`errorType` set when it failed). */
  recordSend(attributes: Attributes, seconds: number, errorType: string | undefined): void {
    const i = this.#instruments;
    if (!i) return;
    const attrs = errorType === undefined ? attributes : { ...attributes, 'error.type': errorType };
    i.sent.add(1, attrs);
    i.sendDuration.record(seconds, attrs);
  }

  /** A consumer started processing a delivery. */
  processStarted(endpoint: string, attributes: Attributes): void {
    const entry = this.#inFlight.get(endpoint) ?? { count: 0, attributes };
    entry.count++;
    this.#inFlight.set(endpoint, entry);
    this.#instruments?.consumed.add(1, attributes);
  }

  /** A consumer finished a delivery with `outcome`. */
  processFinished(
    endpoint: string,
    attributes: Attributes,
    seconds: number,
    outcome: 'succeeded' | 'failed' | 'deadLettered',
    errorType: string | undefined,
  ): void {
    const entry = this.#inFlight.get(endpoint);
    if (entry) entry.count = Math.max(0, entry.count - 1);
    const i = this.#instruments;
    if (!i) return;
    const attrs = errorType === undefined ? attributes : { ...attributes, 'error.type': errorType };
    i.processDuration.record(seconds, attrs);
    if (outcome === 'succeeded') {
      i.succeeded.add(1, attributes);
      return;
    }
    i.failed.add(1, attrs);
    if (outcome === 'deadLettered') i.deadLettered.add(1, attrs);
  }

  /** A reply consumer dropped a reply (`foreign` or `unmatched`, see `ReplyOutcome`). */
  recordReplyDropped(attributes: Attributes, outcome: 'foreign' | 'unmatched'): void {
    this.#instruments?.repliesDropped.add(1, { ...attributes, [A.GOMES_REPLY_OUTCOME]: outcome });
  }

  /** An idempotent consumer skipped a duplicate. */
  recordDuplicate(attributes: Attributes): void {
    this.#instruments?.duplicates.add(1, attributes);
  }

  /** A failed attempt is retried. */
  recordRetry(attributes: Attributes, errorType: string): void {
    this.#instruments?.retried.add(1, { ...attributes, 'error.type': errorType });
  }

  #observeInFlight(result: ObservableResult): void {
    for (const { count, attributes } of this.#inFlight.values()) result.observe(count, attributes);
  }

  #observeLag(result: ObservableResult): void {
    for (const source of this.#lagSources()) {
      let lags: readonly PartitionLag[];
      try {
        lags = source.lag();
      } catch {
        continue;
      }
      for (const l of lags) {
        result.observe(l.lag, {
          'messaging.system': source.system,
          'messaging.destination.name': l.channel,
          'messaging.destination.partition.id': String(l.partition),
          'gomes.endpoint': source.consumer,
          ...(l.group === undefined ? {} : { 'messaging.consumer.group.name': l.group }),
        });
      }
    }
  }
}

function createInstruments(meter: Meter): Instruments {
  const seconds = { unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } };
  return {
    sent: meter.createCounter(MessagingMetricNames.SENT, { description: 'Messages sent', unit: '{message}' }),
    sendDuration: meter.createHistogram(MessagingMetricNames.SEND_DURATION, {
      description: 'Duration of a send',
      ...seconds,
    }),
    consumed: meter.createCounter(MessagingMetricNames.CONSUMED, {
      description: 'Messages received by consumers',
      unit: '{message}',
    }),
    processDuration: meter.createHistogram(MessagingMetricNames.PROCESS_DURATION, {
      description: 'Duration of processing one delivery (all attempts)',
      ...seconds,
    }),
    succeeded: meter.createCounter(MessagingMetricNames.SUCCEEDED, {
      description: 'Messages processed successfully',
      unit: '{message}',
    }),
    failed: meter.createCounter(MessagingMetricNames.FAILED, {
      description: 'Messages whose processing failed',
      unit: '{message}',
    }),
    retried: meter.createCounter(MessagingMetricNames.RETRIED, {
      description: 'Failed attempts retried',
      unit: '{message}',
    }),
    deadLettered: meter.createCounter(MessagingMetricNames.DEAD_LETTERED, {
      description: 'Messages dead-lettered',
      unit: '{message}',
    }),
    repliesDropped: meter.createCounter(MessagingMetricNames.REPLIES_DROPPED, {
      description: 'Replies dropped by a reply consumer (for another instance, or no waiting request)',
      unit: '{message}',
    }),
    duplicates: meter.createCounter(MessagingMetricNames.DUPLICATES, {
      description: 'Duplicate messages skipped by idempotent consumers',
      unit: '{message}',
    }),
  };
}
