import type { ConsumerChannelBuilder, PublisherChannelBuilder } from '../channel/channel-builders.js';
import type { ChannelConnection } from '../channel/channel-connection.js';
import { replyChannelNames } from './configuration-check.js';

/**
 * One row of `showActiveEndpoints()`.
 *
 * @public
 */
export interface EndpointInfo {
  /** Endpoint name (connection, channel, consumer or bus). */
  readonly name: string;
  /** `inbound` (receives), `outbound` (sends) or `connection`. */
  readonly direction: 'inbound' | 'outbound' | 'connection';
  /** What it is, in Go gomes' words where they exist (`Event-Driven`, `Command-Bus`, …). */
  readonly type: string;
  /** The channel it sends to or consumes, if any. */
  readonly channel: string | undefined;
  /** Its connection, if any. */
  readonly connection: string | undefined;
  /** Current state (`running`, `ready`, `stopped`, …). */
  readonly state: string;
}

/**
 * Formats endpoints as a plain-text table (for a terminal or a log line).
 *
 * @public
 */
export function formatEndpointsTable(endpoints: readonly EndpointInfo[]): string {
  const headers = ['NAME', 'DIRECTION', 'TYPE', 'CHANNEL', 'CONNECTION', 'STATE'];
  const rows = endpoints.map((e) => [
    e.name,
    e.direction,
    e.type,
    e.channel ?? '-',
    e.connection ?? '-',
    e.state,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** What {@link listEndpoints} reads from an instance. @internal */
export interface EndpointSources {
  readonly state: string;
  readonly running: boolean;
  readonly connections: readonly ChannelConnection[];
  readonly publishers: readonly PublisherChannelBuilder[];
  readonly consumers: readonly ConsumerChannelBuilder[];
  readonly consumerState: (name: string) => string | undefined;
  readonly buses: ReadonlyArray<{ kind: string; channelName: string | undefined }>;
}

/** The rows of `showActiveEndpoints()`: connections, publishers, consumers, then buses. @internal */
export function listEndpoints(src: EndpointSources): EndpointInfo[] {
  const { running, state } = src;
  const replyChannels = replyChannelNames(src.publishers);
  return [
    ...src.connections.map((c) => ({
      name: c.name,
      direction: 'connection' as const,
      type: 'Connection',
      channel: undefined,
      connection: undefined,
      state: running ? 'connected' : state,
    })),
    ...src.publishers.map((p) => ({
      name: p.channelName,
      direction: 'outbound' as const,
      type: 'Publisher-Channel',
      channel: p.channelName,
      connection: p.connectionName,
      state: running ? 'ready' : state,
    })),
    ...src.consumers.map((c) => {
      const reply = replyChannels.has(c.channelName);
      return {
        name: c.consumerName,
        direction: 'inbound' as const,
        type: reply ? 'Reply-Consumer' : 'Event-Driven',
        channel: c.channelName,
        connection: c.connectionName,
        state: src.consumerState(c.consumerName) ?? (running ? (reply ? 'running' : 'ready') : state),
      };
    }),
    ...src.buses.map(({ kind, channelName }) => ({
      name: channelName ?? `default.${kind}`,
      direction: 'outbound' as const,
      type: kind,
      channel: channelName,
      connection: undefined,
      state: channelName === undefined ? 'in-process' : running ? 'ready' : state,
    })),
  ];
}
