import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

// Runs the real example and checks the story it prints: a regression in request-reply, event fan-out,
// retry, dead-lettering, validation, stats, the endpoint table or shutdown makes it fail.
describe('example 00-order-service', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded('00-order-service');
    run = await runExample('00-order-service');
  }, 180_000);

  it('exits by itself with code 0 and writes nothing to stderr', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/done in \d+ ms/);
  });

  it('returns the remote handler result over request-reply', () => {
    expect(run.stdout).toContain('reply received: placeOrder -> order-1001');
  });

  it('delivers the event to both handlers', () => {
    expect(run.stdout).toContain('[billing] invoice drafted for order-1001');
    expect(run.stdout).toContain('[shipping] shipment scheduled for order-1001: 2 x book-42');
    expect(run.stdout).toContain('orderPlaced handled by 2 handlers: billing=order-1001 shipping=order-1001');
  });

  it('retries the failing command with backoff, then dead-letters it and reports the remote error', () => {
    expect(run.stdout).toMatch(/order-service: attempt 1\/3 failed, retrying in \d+ ms/);
    expect(run.stdout).toMatch(/order-service: attempt 2\/3 failed, retrying in \d+ ms/);
    expect(run.stdout).not.toContain('attempt 3/3 failed, retrying');
    expect(run.stdout).toContain('chargePayment order-1001 attempt 3: payment gateway down');
    expect(run.stdout).not.toContain('chargePayment order-1001 attempt 4');
    expect(run.stdout).toContain(
      'requester got the remote error: GOMES_REMOTE_HANDLER_FAILED: Remote handler failed: payment gateway unavailable',
    );
    expect(run.stdout).toContain('order-service: dead-lettered to orders.commands.DLQ after 3 attempt(s)');
  });

  it('prints the dead-letter envelope read from the DLQ', () => {
    expect(run.stdout).toContain('error:          Error: payment gateway unavailable');
    expect(run.stdout).toContain('retriable:      true');
    expect(run.stdout).toContain('attempts:       3');
    expect(run.stdout).toMatch(/origin: +orders\.commands partition \d offset \d+/);
    expect(run.stdout).toContain('consumer:       order-service');
    expect(run.stdout).toMatch(/first failure: +\d{4}-\d\d-\d\dT[\d:.]+Z/);
    expect(run.stdout).toContain('original route: chargePayment, correlationId checkout-1');
    expect(run.stdout).toContain('payload:        {"orderId":"order-1001","amount":59.9}');
  });

  it('rejects invalid commands on send and on receive', () => {
    expect(run.stdout).toContain(
      'rejected on send: Invalid placeOrder: customerId: customerId must be longer than or equal to 3',
    );
    expect(run.stdout).toContain('quantity: quantity must not be less than 1');
    expect(run.stdout).toContain(
      'rejected on receive: GOMES_REMOTE_HANDLER_FAILED: Remote handler failed: Invalid placeOrder: quantity: quantity must not be less than 1',
    );
    expect(run.stdout).toContain('dead letter #2: GOMES_VALIDATION, attempts 1, retriable false');
  });

  it('prints consumer stats', () => {
    expect(run.stdout).toMatch(
      /order-service +received=3 succeeded=1 retried=2 deadLettered=2 failed=0 acked=3 nacked=0 inFlight=0/,
    );
    expect(run.stdout).toMatch(/order-projections +received=1 succeeded=1 .* acked=1 nacked=0 inFlight=0/);
    expect(run.stdout).toMatch(/dlq-inspector +received=2 succeeded=2 .* acked=2 nacked=0 inFlight=0/);
  });

  it('prints the active endpoints table', () => {
    expect(run.stdout).toMatch(/NAME +DIRECTION +TYPE +CHANNEL +CONNECTION +STATE/);
    expect(run.stdout).toMatch(/memory +connection +Connection +- +- +connected/);
    expect(run.stdout).toMatch(
      /orders\.commands +outbound +Publisher-Channel +orders\.commands +memory +ready/,
    );
    expect(run.stdout).toMatch(
      /orders\.commands\.DLQ +outbound +Publisher-Channel +orders\.commands\.DLQ +memory +ready/,
    );
    expect(run.stdout).toMatch(/order-service +inbound +Event-Driven +orders\.commands +memory +running/);
    expect(run.stdout).toMatch(
      /dlq-inspector +inbound +Event-Driven +orders\.commands\.DLQ +memory +running/,
    );
    expect(run.stdout).toMatch(/orders\.commands +outbound +Command-Bus +orders\.commands +- +ready/);
    expect(run.stdout).toMatch(/orders\.events +outbound +Event-Bus +orders\.events +- +ready/);
  });

  it('shuts down gracefully', () => {
    expect(run.stdout).toContain(
      'shutdown complete: state=stopped; consumers: order-service=stopped, order-projections=stopped, dlq-inspector=stopped',
    );
  });
});
