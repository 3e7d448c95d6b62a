import type { ChannelConnectionState } from '../channel/channel-connection.js';
import type { ConsumerChannelStatus } from '../channel/consumer-channel-status.js';
import type { EventDrivenConsumerState } from '../endpoint/event-driven-consumer-options.js';
import type { GomesState } from './gomes.js';
import type { ResolvedHealthOptions } from './health-options.js';
import type {
  ConnectionHealth,
  ConsumerHealth,
  ConsumerHealthState,
  HealthReport,
  PartitionHealth,
} from './health-report.js';

/** One consumer as the instance sees it when `health()` is called. @internal */
export interface ConsumerSnapshot {
  readonly name: string;
  readonly channel: string;
  /** State of its event-driven consumer; `undefined` when none was created. */
  readonly consumerState: EventDrivenConsumerState | undefined;
  /** The error that stopped the event-driven consumer, if any. */
  readonly consumerError: Error | undefined;
  /** The channel's `status()`, when it has one and the instance is started. */
  readonly transport: ConsumerChannelStatus | undefined;
}

/** What {@link assessHealth} judges. @internal */
export interface HealthSnapshot {
  readonly lifecycle: GomesState;
  readonly connections: readonly { readonly name: string; readonly state: ChannelConnectionState }[];
  readonly consumers: readonly ConsumerSnapshot[];
}

/**
 * Judges a snapshot of the instance (pure; `now` in ms since the epoch). The rules, as in
 * docs/observability.md:
 *
 * **ready** when the instance is `started`, every connection is `connected`, every consumer that
 * was run is `running` (or `rebalancing` for at most `rebalanceGraceMs`), and no partition is
 * stalled (lag > 0 and no progress for more than `stallTimeoutMs`).
 *
 * **live** unless the instance `failed` to start, a connection `failed`, a consumer `crashed` and
 * nothing restarts it (an event-driven consumer stopped by an error; a transport that gave up), or a
 * partition is stalled for more than `livenessStallTimeoutMs`. Not live implies not ready.
 *
 * @internal
 */
export function assessHealth(
  snapshot: HealthSnapshot,
  options: ResolvedHealthOptions,
  now: number,
): HealthReport {
  const reasons: string[] = [];
  let ready = true;
  let live = true;
  const notReady = (reason: string): void => {
    ready = false;
    reasons.push(reason);
  };
  const notLive = (reason: string): void => {
    live = false;
    notReady(`${reason} (not live)`);
  };

  if (snapshot.lifecycle === 'failed') notLive('gomes failed to start');
  else if (snapshot.lifecycle !== 'started') notReady(`gomes is ${snapshot.lifecycle}`);

  const connections: ConnectionHealth[] = snapshot.connections.map(({ name, state }) => {
    if (state === 'failed') notLive(`connection "${name}" failed`);
    else if (state !== 'connected') notReady(`connection "${name}" is ${state}`);
    return { name, state };
  });

  const consumers = snapshot.consumers.map((c) => assessConsumer(c, options, now, { notReady, notLive }));
  return {
    ready,
    live,
    status: !live ? 'failing' : !ready ? 'degraded' : 'ok',
    lifecycle: snapshot.lifecycle,
    checkedAt: new Date(now).toISOString(),
    connections,
    consumers,
    reasons,
  };
}

interface Verdicts {
  notReady(reason: string): void;
  notLive(reason: string): void;
}

function assessConsumer(
  c: ConsumerSnapshot,
  options: ResolvedHealthOptions,
  now: number,
  v: Verdicts,
): ConsumerHealth {
  const t = c.transport;
  const state = combinedState(c);
  const who = `consumer "${c.name}"`;
  const restarting = state === 'crashed' && c.consumerState === 'running' && t?.restarting === true;
  const msInState = t ? Math.max(0, now - t.since) : undefined;
  const error = c.consumerError?.message ?? (state === 'crashed' ? t?.error : undefined);

  if (state === 'crashed') {
    const why = error === undefined ? '' : `: ${error}`;
    if (restarting) v.notReady(`${who} crashed and is being restarted${why}`);
    else v.notLive(`${who} crashed${why}`);
  } else if (state === 'rebalancing' && msInState !== undefined && msInState > options.rebalanceGraceMs) {
    v.notReady(
      `${who} has been rebalancing for ${msInState} ms (rebalanceGraceMs ${options.rebalanceGraceMs})`,
    );
  } else if (state === 'stopping' || state === 'stopped') {
    v.notReady(`${who} is ${state}`);
  }

  const partitions = (t?.partitions ?? []).map((p): PartitionHealth => {
    const msSinceProgress = p.lag > 0 ? Math.max(0, now - p.lastProgressAt) : 0;
    const stalled = p.lag > 0 && msSinceProgress > options.stallTimeoutMs;
    if (stalled) {
      const what = `${who}: partition ${p.channel}[${p.partition}] has lag ${p.lag} and made no progress for ${msSinceProgress} ms`;
      if (msSinceProgress > options.livenessStallTimeoutMs) {
        v.notLive(`${what} (livenessStallTimeoutMs ${options.livenessStallTimeoutMs})`);
      } else {
        v.notReady(`${what} (stallTimeoutMs ${options.stallTimeoutMs})`);
      }
    }
    return { channel: p.channel, partition: p.partition, lag: p.lag, msSinceProgress, stalled };
  });

  return {
    name: c.name,
    channel: c.channel,
    state,
    ...(msInState === undefined ? {} : { msInState }),
    ...(restarting ? { restarting } : {}),
    ...(error === undefined ? {} : { error }),
    partitions,
  };
}

/** The event-driven consumer's state, refined by the transport state while it runs. */
function combinedState(c: ConsumerSnapshot): ConsumerHealthState {
  switch (c.consumerState) {
    case undefined:
    case 'idle':
      return 'idle';
    case 'crashed':
      return 'crashed';
    case 'stopping':
      return c.consumerError ? 'crashed' : 'stopping';
    case 'stopped':
      return 'stopped';
    case 'running':
      return c.transport?.state ?? 'running';
  }
}
