import {
  context as otelContext,
  propagation,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { MessageBuilder } from '../message/message-builder.js';
import type { HeaderValues, Message } from '../message/message.js';

/** W3C trace-context header names (lowercase, as written on the wire). @public */
export const TraceHeaders = {
  TRACEPARENT: 'traceparent',
  TRACESTATE: 'tracestate',
} as const;

const getter: TextMapGetter<HeaderValues> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const exact = carrier[key];
    if (exact !== undefined) return exact;
    // Go gomes writes `Traceparent` / `Tracestate` (canonical MIME case).
    const lower = key.toLowerCase();
    for (const [name, value] of Object.entries(carrier)) if (name.toLowerCase() === lower) return value;
    return undefined;
  },
};

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * Returns `message` with the trace context of `ctx` in its headers (`traceparent`, `tracestate`),
 * written by the globally registered propagator (`@opentelemetry/sdk-node` registers the W3C one).
 * Returns the message unchanged when the propagator writes nothing (no SDK, no active span).
 *
 * @public
 */
export function injectTraceContext(message: Message, ctx: Context = otelContext.active()): Message {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier, setter);
  const names = Object.keys(carrier);
  if (names.length === 0) return message;
  const builder = MessageBuilder.from(message);
  for (const name of Object.keys(message.headers)) {
    const lower = name.toLowerCase();
    if (lower === TraceHeaders.TRACEPARENT || lower === TraceHeaders.TRACESTATE) builder.without(name);
  }
  for (const name of names) builder.header(name, carrier[name]!);
  return builder.build();
}

/**
 * The context carried by `message`'s trace headers (any case), on top of `base` (the active context
 * by default). Without trace headers the result has no remote span.
 *
 * @public
 */
export function extractTraceContext(message: Message, base: Context = otelContext.active()): Context {
  return propagation.extract(base, message.headers, getter);
}
