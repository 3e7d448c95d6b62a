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
