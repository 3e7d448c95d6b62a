/**
 * The example's HTTP server: `GET /metrics` answers with the Prometheus exposition of the SDK's
 * metrics. Kept in its own file so more routes (health checks) can be added here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
