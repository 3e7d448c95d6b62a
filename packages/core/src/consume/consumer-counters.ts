import type { EventDrivenConsumerStats } from '../endpoint/event-driven-consumer-options.js';

/** Mutable consumer counters (the engine's and its source's; read as `EventDrivenConsumer.stats`). @internal */
export type ConsumerCounters = { -readonly [K in keyof EventDrivenConsumerStats]: number };

/** Consumer counters, all zero. @internal */
export function zeroCounters(): ConsumerCounters {
  return {
    received: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    filtered: 0,
    duplicates: 0,
    acked: 0,
    nacked: 0,
    repliesDropped: 0,
    subscriptionErrors: 0,
    ackFailures: 0,
    nackFailures: 0,
    staleAttempts: 0,
    undecodableDropped: 0,
    inFlight: 0,
  };
}
