/**
 * The example's HTTP server: `GET /metrics` answers with the Prometheus exposition of the SDK's
 * metrics; `GET /healthz` (liveness) and `GET /readyz` (readiness) with gomes' health report.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport } from '@gomes/core';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `routes` (path → handler) plus `/metrics` on 127.0.0.1:`port` (0 = any free port). */
export async function startHttpServer(
  prometheus: PrometheusExporter,
  port: number,
  routes: Readonly<Record<string, Route>> = {},
): Promise<HttpServer> {
  const all: Record<string, Route> = {
    ...routes,
    '/metrics': (request, response) => prometheus.getMetricsRequestHandler(request, response),
  };
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const route = all[path];
    if (route) return route(request, response);
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: async () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * `/healthz` and `/readyz` for Kubernetes probes: the report of `health()` (e.g. `() =>
 * gomes.health()`) as JSON, with 200 when it is live (`/healthz`) or ready (`/readyz`), else 503.
 */
export function healthRoutes(health: () => HealthReport): Record<string, Route> {
  const probe =
    (verdict: 'live' | 'ready'): Route =>
    (_request, response) => {
      const report = health();
      response
        .writeHead(report[verdict] ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        })
        .end(`${JSON.stringify(report)}\n`);
    };
  return { '/healthz': probe('live'), '/readyz': probe('ready') };
}
