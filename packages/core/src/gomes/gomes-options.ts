import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import {
  DEFAULT_ACTION_VALIDATION_OPTIONS,
  resolveActionValidationOptions,
  type ActionValidationOptions,
} from '../actions/action-validation-options.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { noopLogger, type Logger } from '../logging/logger.js';
import { DEFAULT_ORIGIN } from '../message/message-headers.js';
import { MAX_PROCESSING_TIMEOUT_MS } from '../pipeline/middleware/processing-timeout.js';
import { DEFAULT_HEALTH_OPTIONS, resolveHealthOptions, type HealthOptions } from './health-options.js';

/**
 * Options of a gomes instance (`createGomes(options)`).
 *
 * @public
 */
export interface GomesOptions {
  /** Where gomes logs (see `pinoLogger`). @default a logger that drops everything */
  logger: Logger;
  /** Name for logs and the endpoints table. @default 'gomes' */
  name: string;
  /**
   * Id of this instance among the replicas of a service, for request-reply: stamped on requests
   * (header `gomes.reply.instance`) so each reply reaches the replica that asked, and part of its
   * reply consumer's private group. 1–128 characters out of `A-Z a-z 0-9 . _ : -`; give a stable one
   * (e.g. the pod name) to recognise a replica in logs and groups. See docs/buses.md.
   * @default a random UUID, new for every instance
   */
  instanceId: string | undefined;
  /** How long `shutdown()` lets in-flight messages finish before aborting them, in ms (0..2147483647). @default 30000 */
  shutdownTimeoutMs: number;
  /** How long request-reply `send()` over a channel waits for the reply, in ms (0..2147483647). @default 30000 */
  requestTimeoutMs: number;
  /** Validate actions with class-validator on send and on receive. @default true */
  validate: boolean;
  /** How actions are validated: class-validator's `whitelist` / `forbidNonWhitelisted`. @default DEFAULT_ACTION_VALIDATION_OPTIONS */
  validation: ActionValidationOptions;
  /** Create OpenTelemetry spans and propagate trace context (same as `enableOtelTrace()`). @default false */
  tracing: boolean;
  /** Tracer provider for the spans. @default the global one of `@opentelemetry/api` */
  tracerProvider: TracerProvider | undefined;
  /** Meter provider for the metrics, read at `start()`. @default the global one of `@opentelemetry/api` */
  meterProvider: MeterProvider | undefined;
  /** Thresholds of `gomes.health()` (each optional). @default DEFAULT_HEALTH_OPTIONS */
  health: HealthOptions;
  /**
   * `origin` header of what this instance's buses send (CloudEvents `source`): who produced it, a
   * URI-reference such as `/orders-service`. A send's `origin` option overrides it. @default 'gomes'
   */
  origin: string;
  /**
   * Bus calls made inside a handler inherit the handled message's `correlationId` and get its
   * `messageId` as `causationId`, unless the call gives them. Each handler call then runs in an
   * `AsyncLocalStorage` scope: on Node 20 and 22 that turns on V8 promise hooks for the whole
   * process, which makes an in-process send whose handler does nothing about twice as slow (see
   * docs/buses.md, "Causation"). `false` keeps handler calls out of any scope (ids are then passed
   * explicitly). @default true
   */
  inheritCausation: boolean;
}

/** What an `instanceId` may look like (it becomes part of a header and of consumer group ids). */
const INSTANCE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Defaults of {@link GomesOptions}. @public */
export const DEFAULT_GOMES_OPTIONS: Readonly<GomesOptions> = Object.freeze({
  logger: noopLogger,
  name: 'gomes',
  instanceId: undefined,
  shutdownTimeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  validate: true,
  validation: DEFAULT_ACTION_VALIDATION_OPTIONS,
  tracing: false,
  tracerProvider: undefined,
  meterProvider: undefined,
  health: DEFAULT_HEALTH_OPTIONS,
  origin: DEFAULT_ORIGIN,
  inheritCausation: true,
});

/**
 * Merges defaults, rejects unknown keys and bad values.
 *
 * @throws ConfigurationError listing every problem.
 * @public
 */
export function resolveGomesOptions(input: Partial<GomesOptions> = {}): GomesOptions {
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_GOMES_OPTIONS)) problems.push(`unknown option "${key}"`);
  }
  const options: GomesOptions = { ...DEFAULT_GOMES_OPTIONS, ...input };
  for (const key of ['shutdownTimeoutMs', 'requestTimeoutMs'] as const) {
    const v = options[key];
    // Timers cannot wait longer: setTimeout fires a larger delay (or Infinity) after 1 ms.
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_PROCESSING_TIMEOUT_MS)
      problems.push(
        `${key} must be an integer between 0 and ${MAX_PROCESSING_TIMEOUT_MS} (got ${String(v)})`,
      );
  }
  if (typeof options.name !== 'string' || options.name === '')
    problems.push('name must be a non-empty string');
  if (
    options.instanceId !== undefined &&
    (typeof options.instanceId !== 'string' || !INSTANCE_ID_PATTERN.test(options.instanceId))
  )
    problems.push(
      `instanceId must be 1-128 characters out of A-Z a-z 0-9 . _ : - (got ${JSON.stringify(options.instanceId)})`,
    );
  if (typeof options.validate !== 'boolean') problems.push('validate must be a boolean');
  if (typeof options.tracing !== 'boolean') problems.push('tracing must be a boolean');
  if (typeof options.inheritCausation !== 'boolean') problems.push('inheritCausation must be a boolean');
  if (typeof options.origin !== 'string' || options.origin === '')
    problems.push(`origin must be a non-empty string (got ${JSON.stringify(options.origin)})`);
  if (options.tracerProvider !== undefined && typeof options.tracerProvider.getTracer !== 'function') {
    problems.push('tracerProvider must implement getTracer()');
  }
  if (options.meterProvider !== undefined && typeof options.meterProvider.getMeter !== 'function') {
    problems.push('meterProvider must implement getMeter()');
  }
  const validation = resolveActionValidationOptions(options.validation);
  problems.push(...validation.problems);
  options.validation = validation.options;
  const health = resolveHealthOptions(options.health);
  problems.push(...health.problems);
  options.health = health.options;
  const logger = options.logger as Partial<Logger> | undefined;
  if (!logger || typeof logger.info !== 'function' || typeof logger.child !== 'function') {
    problems.push('logger must implement debug/info/warn/error/child');
  }
  ConfigurationError.throwIfAny(problems, 'gomes options');
  return options;
}
