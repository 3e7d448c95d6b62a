import { metrics, trace, type MeterProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { MessagingMetrics } from './messaging-metrics.js';

/** Instrumentation scope name of gomes' tracer and meter. @public */
export const GOMES_INSTRUMENTATION_SCOPE = '@gomes/core';
/** Instrumentation scope version. @public */
export const GOMES_INSTRUMENTATION_VERSION = '0.1.0';

/** What a {@link GomesTelemetry} is built from (the instance options). @internal */
export interface GomesTelemetryOptions {
  readonly tracing: boolean;
  readonly tracerProvider: TracerProvider | undefined;
  readonly meterProvider: MeterProvider | undefined;
}

/**
 * The OpenTelemetry state of one gomes instance: whether tracing is on (off by default, so nothing
 * is traced and no header is written until `gomes.enableOtelTrace()`), its tracer (the injected
 * provider's, else the global one of `@opentelemetry/api`) and its metric instruments. Nothing is
 * module-global: two instances can trace differently.
 *
 * @internal
 */
export class GomesTelemetry {
  readonly metrics: MessagingMetrics;
  readonly #tracerProvider: TracerProvider | undefined;
  #tracing: boolean;
  #tracer: Tracer | undefined;

  constructor(options: GomesTelemetryOptions) {
    this.#tracing = options.tracing;
    this.#tracerProvider = options.tracerProvider;
    this.metrics = new MessagingMetrics(options.meterProvider);
  }

  /** Whether spans are created and trace context is propagated. */
  get tracing(): boolean {
    return this.#tracing;
  }

  /** Turns tracing on or off (takes effect for operations that start afterwards). */
  setTracing(enabled: boolean): void {
    this.#tracing = enabled;
  }

  /** The tracer (created on first use; the global provider is a proxy, so late SDK registration works). */
  get tracer(): Tracer {
    this.#tracer ??= (this.#tracerProvider ?? trace.getTracerProvider()).getTracer(
      GOMES_INSTRUMENTATION_SCOPE,
      GOMES_INSTRUMENTATION_VERSION,
    );
    return this.#tracer;
  }

  /** Creates the metric instruments (called by `start()`: register the metrics SDK before it). */
  start(): void {
    this.metrics.bind(() => metrics.getMeterProvider(), GOMES_INSTRUMENTATION_VERSION);
  }
}
