import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

describe('example 02-message-publisher', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded('02-message-publisher');
    run = await runExample('02-message-publisher');
  }, 180_000);

  it('exits by itself with code 0', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\ndone\n?$/);
  });

  it('sends a hand-built command with custom headers and keeps its messageId across a redelivery', () => {
    const sent = /sent relocateCustomers messageId=([0-9a-f-]{36}) correlationId=req-42/.exec(run.stdout);
    expect(sent).not.toBeNull();
    const id = sent![1]!;
    expect(run.stdout).toContain('"tenant":"acme","gomes.partitionKey":"batch-1"');
    expect(run.stdout).toContain(`customer.commands: ${id} attempt 1 -> nack (redeliver)`);
    expect(run.stdout).toContain(`customer.commands: ${id} attempt 2 -> ack (same messageId as sent)`);
    expect(run.stdout).toContain('command delivered 2 times, attempts 1,2, messageId stable: true');
    expect(run.stdout).toContain('committed offsets of group "audit": commands=1');
  });

  it('publishes events with headers, correlation and causation ids', () => {
    const events = run.stdout.split('\n').filter((l) => l.startsWith('customer.events '));
    expect(events).toHaveLength(6);
    for (const line of events) {
      expect(line).toContain('tenant=acme version=2.0 correlationId=req-42 causedByCommand=true');
    }
    expect(run.stdout).toContain('event messageIds unique: true');
  });

  it('keeps each partition key in one partition, in order', () => {
    const a = /customer-A: seq 1,2,3 \(in order: true\), partition (\d)/.exec(run.stdout);
    const b = /customer-B: seq 1,2,3 \(in order: true\), partition (\d)/.exec(run.stdout);
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(run.stdout).toContain(`published 3 addressChanged for customer-A -> partition ${a![1]!}`);
    expect(run.stdout).toContain(`published 3 addressChanged for customer-B -> partition ${b![1]!}`);
  });
});
