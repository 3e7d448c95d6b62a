import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

const DIR = '05-observability';

/** The value of the Prometheus sample `name` whose labels include every `labels` pair. */
function sample(scrape: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of scrape.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => match[2]!.includes(`${k}="${v}"`))) return Number(match[3]);
  }
  return undefined;
}

describe('example 05-observability', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded(DIR);
    run = await runExample(DIR, { env: { PORT: '0', KEEP_RUNNING: '' } });
  }, 180_000);

  it('exits by itself with code 0 after the request-reply', () => {
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('reserveStock -> reservation-book-42');
    expect(run.stdout).toMatch(/metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
  });

  it('serves metrics on /metrics that match what was sent, failed and dead-lettered', () => {
    const events = { messaging_destination_name: 'stock.events' };
    expect(sample(run.stdout, 'messaging_client_sent_messages_total', events)).toBe(3);
    expect(
      sample(run.stdout, 'messaging_client_sent_messages_total', {
        messaging_destination_name: 'stock.events.DLQ',
      }),
    ).toBe(1);
    expect(sample(run.stdout, 'messaging_client_consumed_messages_total', events)).toBe(3);
    expect(sample(run.stdout, 'gomes_consumer_succeeded_messages_total', events)).toBe(2);
    expect(sample(run.stdout, 'gomes_consumer_failed_messages_total', events)).toBe(1);
    expect(sample(run.stdout, 'gomes_consumer_retried_messages_total', events)).toBe(1);
    expect(sample(run.stdout, 'gomes_consumer_dead_lettered_messages_total', events)).toBe(1);
    expect(sample(run.stdout, 'gomes_consumer_lag', events)).toBe(0);
    expect(sample(run.stdout, 'gomes_consumer_in_flight_messages', events)).toBe(0);
  });

  it('serves /healthz and /readyz: 200 with the report while healthy, 503 with the reason once a consumer stopped', () => {
    const probes = [...run.stdout.matchAll(/^GET (\/healthz|\/readyz) -> (\d{3}) (\{.*\})$/gm)].map((m) => ({
      path: m[1],
      code: Number(m[2]),
      report: JSON.parse(m[3]!) as Record<string, unknown>,
    }));
    expect(probes.map((p) => `${p.path} ${p.code}`)).toEqual(['/healthz 200', '/readyz 200', '/readyz 503']);
    expect(probes[0]!.report).toMatchObject({
      live: true,
      ready: true,
      status: 'ok',
      lifecycle: 'started',
      reasons: [],
    });
    expect(probes[1]!.report).toMatchObject({
      connections: [{ name: 'memory', state: 'connected' }],
      consumers: [
        {
          name: 'stock-requests',
          channel: 'stock.requests',
          state: 'running',
          partitions: [{ partition: 0, lag: 0, stalled: false }],
        },
        {
          name: 'stock-events',
          channel: 'stock.events',
          state: 'running',
          partitions: [{ partition: 0, lag: 0, stalled: false }],
        },
      ],
    });
    expect(probes[2]!.report).toMatchObject({
      live: true,
      ready: false,
      status: 'degraded',
      reasons: ['consumer "stock-events" is stopped'],
    });
  });

  it('prints one trace from the bus call through the handler to the reply', () => {
    expect(run.stdout).toMatch(
      /trace [0-9a-f]{32}\n {2}request reserveStock \(CLIENT\) events=\[gomes\.reply_received\]\n {4}send stock\.requests \(PRODUCER\)\n {6}process stock\.requests \(CONSUMER\)\n {8}handle reserveStock \(INTERNAL\)\n {8}send stock\.replies \(PRODUCER\)\n {10}process stock\.replies \(CONSUMER\)/,
    );
    expect(run.stdout).toMatch(
      /process stock\.events \(CONSUMER\) ERROR events=\[gomes\.retry,gomes\.dead_lettered\]/,
    );
    expect(run.stdout).toContain('dead-letter stock.events.DLQ (PRODUCER)');
  });

  it('logs JSON lines with the trace id, span id, message id and correlation id', () => {
    const lines = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const reserving = lines.find((l) => l['msg'] === 'reserving stock');
    expect(reserving).toMatchObject({
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      messageId: expect.any(String),
      correlationId: expect.any(String),
    });
    const traceId = /trace ([0-9a-f]{32})\n {2}request reserveStock/.exec(run.stdout)?.[1];
    expect(reserving!['traceId']).toBe(traceId);
  });
});
