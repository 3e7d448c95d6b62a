/**
 * OpenTelemetry setup with @opentelemetry/sdk-node: it registers the global tracer and meter
 * providers, the AsyncLocalStorage context manager and the W3C trace-context propagator that gomes
 * uses through @opentelemetry/api. Spans go to an in-memory exporter (printed as a trace tree by
 * main.ts; use an OTLP exporter in production); metrics are pulled by the Prometheus exporter, whose
 * handler is served by http-server.ts. Start it BEFORE gomes.start(): gomes creates its instruments
 * from the global MeterProvider at start().
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export interface Telemetry {
  readonly prometheus: PrometheusExporter;
  readonly spans: InMemorySpanExporter;
  shutdown(): Promise<void>;
}

export function startTelemetry(serviceName: string): Telemetry {
  const spans = new InMemorySpanExporter();
  // preventServerStart: /metrics is served by our own HTTP server (http-server.ts), next to other routes.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const sdk = new NodeSDK({
    serviceName,
    spanProcessors: [new SimpleSpanProcessor(spans)],
    metricReaders: [prometheus],
  });
  sdk.start();
  return { prometheus, spans, shutdown: async () => sdk.shutdown() };
}

/** Renders finished spans as indented trees (one per trace), children under their parent. */
export function formatTraces(spans: readonly ReadableSpan[]): string {
  const byParent = new Map<string, ReadableSpan[]>();
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const roots: ReadableSpan[] = [];
  for (const span of [...spans].sort((a, b) => hr(a.startTime) - hr(b.startTime))) {
    const parent = span.parentSpanContext?.spanId;
    if (parent && ids.has(parent)) byParent.set(parent, [...(byParent.get(parent) ?? []), span]);
    else roots.push(span);
  }
  const kinds = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
  const lines: string[] = [];
  const walk = (span: ReadableSpan, depth: number): void => {
    const status = span.status.code === SpanStatusCode.ERROR ? ' ERROR' : '';
    const events = span.events.length > 0 ? ` events=[${span.events.map((e) => e.name).join(',')}]` : '';
    lines.push(`${'  '.repeat(depth)}${span.name} (${kinds[span.kind] ?? span.kind})${status}${events}`);
    for (const child of byParent.get(span.spanContext().spanId) ?? []) walk(child, depth + 1);
  };
  for (const root of roots) {
    lines.push(`trace ${root.spanContext().traceId}`);
    walk(root, 1);
  }
  return lines.join('\n');
}

function hr(time: [number, number]): number {
  return time[0] * 1e9 + time[1];
}
