import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

describe('example 03-event-driven-consumer', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded('03-event-driven-consumer');
    run = await runExample('03-event-driven-consumer');
  }, 180_000);

  it('exits by itself with code 0', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('payment-processor stopped');
    expect(run.stdout).toContain('gomes stopped');
  });

  it('retries with exponential backoff and jitter, then dead-letters', () => {
    const delays = [...run.stdout.matchAll(/attempt (\d)\/4 failed, next in (\d+) ms/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(delays.map(([attempt]) => attempt)).toEqual([1, 2, 3]);
    // initialDelayMs 50, multiplier 2, jitter 0.2: 40..60, 80..120, 160..240 ms
    const bounds = [
      [40, 60],
      [80, 120],
      [160, 240],
    ];
    delays.forEach(([, delay], i) => {
      expect(delay).toBeGreaterThanOrEqual(bounds[i]![0]!);
      expect(delay).toBeLessThanOrEqual(bounds[i]![1]!);
    });
    expect(run.stdout).toContain('pay-1 attempt 4: fraud check timed out');
    expect(run.stdout).toContain('dead-lettered to payments.DLQ after 4 attempt(s)');
  });

  it('sends a non-retriable failure to the DLQ at once, and keeps other keys flowing', () => {
    expect(run.stdout).toContain('pay-3 attempt 1: unknown currency -> NonRetriableError');
    expect(run.stdout).toContain('dead-lettered to payments.DLQ after 1 attempt(s)');
    expect(run.stdout).toContain(
      'booked: pay-2, pay-4; handler attempts: pay-1=4, pay-2=1, pay-3=1, pay-4=1',
    );
  });

  it('reads the envelopes back from the DLQ', () => {
    expect(run.stdout).toContain('dead letter {"paymentId":"pay-1","amount":5000,"currency":"EUR"}');
    expect(run.stdout).toContain('errorName=Error errorCode=undefined retriable=true');
    expect(run.stdout).toContain('errorMessage=fraud check service timed out');
    expect(run.stdout).toContain('attempts=4 deliveryAttempt=1 consumer=payment-processor');
    expect(run.stdout).toContain('dead letter {"paymentId":"pay-3","amount":30,"currency":"XXX"}');
    expect(run.stdout).toContain(
      'errorName=NonRetriableError errorCode=GOMES_HANDLER_FAILED retriable=false',
    );
    expect(run.stdout).toContain('attempts=1 deliveryAttempt=1 consumer=payment-processor');
    expect(run.stdout).toMatch(
      /origin=payments\/\d@\d route=paymentReceived originalMessageId=[0-9a-f-]{36}/,
    );
  });

  it('redrives the retriable dead letter with its original messageId; the other stays in the DLQ', () => {
    expect(run.stdout).toContain('pending pay-1: retriable=true');
    expect(run.stdout).toContain('pending pay-3: retriable=false');
    expect(run.stdout).toContain('redriven pay-1 to payments: original messageId kept=true, redriveCount=1');
    expect(run.stdout).toContain('redrive completed: matched=1 redriven=1');
    expect(run.stdout).toMatch(/pay-1 attempt 5: booked 5000 EUR \(redrive 1, messageId [0-9a-f-]{36}\)/);
    expect(run.stdout).toContain('still pending in payments.DLQ: pay-3; booked: pay-2, pay-4, pay-1');
  });

  it('prints the consumer stats', () => {
    expect(run.stdout).toContain(
      'payment-processor {"received":4,"succeeded":2,"failed":0,"retried":3,"deadLettered":2,"filtered":0,"duplicates":0,"acked":4,"nacked":0,',
    );
    expect(run.stdout).toContain('dlq-reader        {"received":2,"succeeded":2,');
  });
});
