/**
 * Example 05 — observability: OpenTelemetry tracing and metrics, and pino logs with trace ids, on
 * the in-memory transport (no broker needed).
 *
 * - A requester sends `reserveStock` over the `stock.requests` channel and waits for the reply: one
 *   trace from the bus call (`request`) through the PRODUCER `send`, the CONSUMER `process`, the
 *   handler and the reply back.
 * - `stock.events` carries events; a failing one is retried, then dead-lettered (span events and a
 *   `dead-letter` span).
 * - Metrics are served on `GET /metrics` (Prometheus) by http-server.ts; the example scrapes itself
 *   and prints the gomes lines, then the trace trees, then exits.
 * - Health: `GET /healthz` (live) and `GET /readyz` (ready) serve the stock service's
 *   `gomes.health()` report, 200 or 503. The example probes both, then stops the `stock-events`
 *   consumer and shows `/readyz` turning 503 with the reason.
 *
 * Run: pnpm build && node examples/05-observability/dist/main.js
 * (set PORT to choose the metrics port, KEEP_RUNNING=1 to keep serving /metrics until Ctrl-C).
 */
import 'reflect-metadata';
import pino from 'pino';
import {
  Action,
  Command,
  Event,
  InMemoryBroker,
  createGomes,
  defineCommandHandler,
  defineEventHandler,
  inMemoryConnection,
  inMemoryConsumer,
  inMemoryPublisher,
  pinoLogger,
} from '@gomes/core';
import { healthRoutes, startHttpServer } from './http-server.js';
import { formatTraces, startTelemetry } from './telemetry.js';

@Command('reserveStock')
class ReserveStock extends Action<string> {
  constructor(readonly sku: string) {
    super();
  }
}

@Event('stockReserved')
class StockReserved {
  constructor(readonly sku: string) {}
}

async function main(): Promise<void> {
  const telemetry = startTelemetry('gomes-example-05');
  // pino writes JSON lines to stderr here, so stdout stays readable; every per-message line has
  // traceId, spanId, messageId and correlationId.
  const logger = pinoLogger(pino({ level: 'info', base: undefined }, pino.destination(2)));
  const broker = new InMemoryBroker();

  const service = createGomes({ name: 'stock-service', logger })
    .enableOtelTrace()
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'stock.replies'))
    .addPublisherChannel(inMemoryPublisher('memory', 'stock.events.DLQ'))
    .addConsumerChannel(inMemoryConsumer('memory', 'stock.requests', 'stock-requests'))
    .addConsumerChannel(
      inMemoryConsumer('memory', 'stock.events', 'stock-events')
        .withRetry({ maxAttempts: 2, initialDelayMs: 10 })
        .withDeadLetterChannelName('stock.events.DLQ'),
    )
    .addActionHandler(
      defineCommandHandler(ReserveStock, (command, ctx) => {
        ctx.logger.info('reserving stock', { sku: command.sku });
        return `reservation-${command.sku}`;
      }),
    )
    .addActionHandler(
      defineEventHandler(StockReserved, (event) => {
        if (event.sku === 'broken') throw new Error('stock ledger rejected the event');
      }),
    );
  const client = createGomes({ name: 'web', logger })
    .enableOtelTrace()
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'stock.requests').withReplyChannelName('stock.replies'))
    .addPublisherChannel(inMemoryPublisher('memory', 'stock.events'))
    .addConsumerChannel(inMemoryConsumer('memory', 'stock.replies', 'web-replies'));

  await Promise.all([service.start(), client.start()]);
  await service.eventDrivenConsumer('stock-requests').run();
  const events = service.eventDrivenConsumer('stock-events');
  await events.run();
  const server = await startHttpServer(
    telemetry.prometheus,
    Number(process.env['PORT'] ?? 0),
    healthRoutes(() => service.health()),
  );
  console.log(`metrics: ${server.url}/metrics`);
  console.log(`health: ${server.url}/healthz ${server.url}/readyz`);

  const reservation = await client.commandBusByChannel('stock.requests').send(new ReserveStock('book-42'));
  console.log(`reserveStock -> ${reservation}`);
  for (const sku of ['book-42', 'pen-7', 'broken'])
    await client.eventBusByChannel('stock.events').publish(new StockReserved(sku));
  while (events.stats.succeeded + events.stats.deadLettered < 3) await new Promise((r) => setTimeout(r, 10));

  const scrape = await (await fetch(`${server.url}/metrics`)).text();
  console.log('--- /metrics (gomes and messaging lines) ---');
  for (const line of scrape.split('\n')) {
    if (/^(gomes_|messaging_)/.test(line) && !/_bucket\{/.test(line)) console.log(line);
  }

  const probe = async (path: string): Promise<void> => {
    const response = await fetch(`${server.url}${path}`);
    console.log(`GET ${path} -> ${response.status} ${(await response.text()).trim()}`);
  };
  console.log('--- /healthz and /readyz ---');
  await probe('/healthz');
  await probe('/readyz');
  await events.stop(); // a consumer that no longer runs: not ready (still live)
  await probe('/readyz');

  if (process.env['KEEP_RUNNING'] === '1') {
    console.log('serving /metrics until Ctrl-C');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await Promise.all([client.shutdown(), service.shutdown()]);
  console.log('--- traces ---');
  console.log(formatTraces(telemetry.spans.getFinishedSpans()));
  await server.close();
  await telemetry.shutdown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
