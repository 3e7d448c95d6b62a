// OpenTelemetry SDK test kit for the observability tests (core unit tests and Kafka integration
// tests): an in-memory span exporter behind a BasicTracerProvider, a pull MetricReader behind a
// MeterProvider, the AsyncLocalStorage context manager and the W3C propagator registered globally
// (what @opentelemetry/sdk-node does in an application), and a few lookups.
import { context, propagation, SpanKind, type AttributeValue } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** Registers the async context manager and the W3C propagator; returns the undo. */
export function registerOtelGlobals(): () => void {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return () => {
    context.disable();
    propagation.disable();
  };
}

/** A MetricReader the test pulls from. */
export class PullMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  /** Every metric collected now. */
  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics } = await this.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  }
}

/** Tracer and meter providers with in-memory exporters. */
export class OtelTestKit {
  readonly spans = new InMemorySpanExporter();
  readonly tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(this.spans)],
  });
  readonly reader = new PullMetricReader();
  readonly meterProvider = new MeterProvider({ readers: [this.reader] });

  finished(): ReadableSpan[] {
    return this.spans.getFinishedSpans();
  }

  /** The finished spans called `name` (optionally filtered). */
  named(name: string, where: (s: ReadableSpan) => boolean = () => true): ReadableSpan[] {
    return this.finished().filter((s) => s.name === name && where(s));
  }

  /** The only finished span called `name`; throws when there is not exactly one. */
  one(name: string, where: (s: ReadableSpan) => boolean = () => true): ReadableSpan {
    const found = this.named(name, where);
    if (found.length !== 1) {
      throw new Error(
        `expected 1 span "${name}", found ${found.length}: ${this.finished()
          .map((s) => s.name)
          .join(', ')}`,
      );
    }
    return found[0]!;
  }

  /** Sum of a counter's data points whose attributes include `attributes`. */
  async sum(name: string, attributes: Record<string, AttributeValue> = {}): Promise<number> {
    return (await this.points(name, attributes)).reduce((n, p) => n + (p.value as number), 0);
  }

  /** Data points of metric `name` matching `attributes`. */
  async points(name: string, attributes: Record<string, AttributeValue> = {}): Promise<DataPoint<unknown>[]> {
    const metric = (await this.reader.metrics()).find((m) => m.descriptor.name === name);
    if (!metric) return [];
    return (metric.dataPoints as DataPoint<unknown>[]).filter((p) =>
      Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
    );
  }

  /** Total count of a histogram's data points matching `attributes`. */
  async histogramCount(name: string, attributes: Record<string, AttributeValue> = {}): Promise<number> {
    return (await this.points(name, attributes)).reduce((n, p) => n + (p.value as Histogram).count, 0);
  }

  async shutdown(): Promise<void> {
    await this.tracerProvider.shutdown();
    await this.meterProvider.shutdown();
  }
}

/** Parent span id of a span (sdk-trace-base 2.x keeps it in parentSpanContext). */
export function parentSpanId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** Asserts `child`'s parent is `parent` (same trace, parent span id). */
export function isChildOf(child: ReadableSpan, parent: ReadableSpan): boolean {
  return (
    child.spanContext().traceId === parent.spanContext().traceId &&
    parentSpanId(child) === parent.spanContext().spanId
  );
}

export { SpanKind };
