import type { ChannelConnectionState } from '../channel/channel-connection.js';
import type { GomesState } from './gomes.js';

/**
 * Overall verdict of a {@link HealthReport}: `ok` (live and ready), `degraded` (live, not ready)
 * or `failing` (not live).
 *
 * @public
 */
export type HealthStatus = 'ok' | 'degraded' | 'failing';

/**
 * State of a consumer in a {@link HealthReport}: the event-driven consumer's state combined with its
 * channel's transport state. `idle` = never run; `crashed` = stopped by an error (`stopOnError`,
 * failed subscribe) or the transport client crashed.
 *
 * @public
 */
export type ConsumerHealthState = 'idle' | 'running' | 'rebalancing' | 'stopping' | 'stopped' | 'crashed';

/** One partition of a consumer in a {@link HealthReport}. @public */
export interface PartitionHealth {
  /** Topic / channel. */
  readonly channel: string;
  /** Partition. */
  readonly partition: number;
  /** Unconsumed (not acked) messages. */
  readonly lag: number;
  /** Time since the partition last made progress (0 while it has no lag). */
  readonly msSinceProgress: number;
  /** Lag > 0 and no progress for longer than `health.stallTimeoutMs`. */
  readonly stalled: boolean;
}

/** One consumer in a {@link HealthReport}. @public */
export interface ConsumerHealth {
  /** Consumer (endpoint) name. */
  readonly name: string;
  /** Channel (topic) consumed. */
  readonly channel: string;
  /** Combined state. */
  readonly state: ConsumerHealthState;
  /** Time in the transport state, when the transport reports it. */
  readonly msInState?: number;
  /** Whether the transport is restarting a crashed client by itself. */
  readonly restarting?: boolean;
  /** Why it crashed. */
  readonly error?: string;
  /** Partitions with their lag and progress (empty when the transport does not report them). */
  readonly partitions: readonly PartitionHealth[];
}

/** One connection in a {@link HealthReport}. @public */
export interface ConnectionHealth {
  /** Connection name. */
  readonly name: string;
  /** Connection state. */
  readonly state: ChannelConnectionState;
}

/**
 * What `gomes.health()` returns: the verdicts, the reasons for them, and the state behind them.
 * Plain data, ready for `JSON.stringify`.
 *
 * @public
 */
export interface HealthReport {
  /** Whether the instance does its work: serve `/readyz` with it. */
  readonly ready: boolean;
  /** Whether the instance can recover without a restart: serve `/healthz` (liveness) with it. */
  readonly live: boolean;
  /** `ok`, `degraded` (not ready) or `failing` (not live). */
  readonly status: HealthStatus;
  /** Lifecycle state of the gomes instance. */
  readonly lifecycle: GomesState;
  /** When the report was made (ISO 8601). */
  readonly checkedAt: string;
  /** Every registered connection. */
  readonly connections: readonly ConnectionHealth[];
  /** Every consumer channel run by event-driven consumers (reply consumers are not listed). */
  readonly consumers: readonly ConsumerHealth[];
  /** Why the instance is not ready or not live, in words (empty when `ok`). */
  readonly reasons: readonly string[];
}
