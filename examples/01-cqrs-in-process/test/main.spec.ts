import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

describe('example 01-cqrs-in-process', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded('01-cqrs-in-process');
    run = await runExample('01-cqrs-in-process');
  }, 180_000);

  it('exits by itself with code 0', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('creates an order and reads it back through the query bus', () => {
    const created = /createOrder -> (order-[0-9a-f]{6})/.exec(run.stdout);
    expect(created).not.toBeNull();
    const id = created![1]!;
    expect(run.stdout).toContain(`getOrder(${id}) -> {"id":"${id}","sku":"book-42","quantity":2}`);
  });

  it('rejects an invalid command before sending it', () => {
    expect(run.stdout).toContain('invalid command rejected before sending: Invalid createOrder:');
    expect(run.stdout).toContain('sku: sku must be longer than or equal to 3 characters');
    expect(run.stdout).toContain('quantity: quantity must not be less than 1');
  });

  it('prints the in-process buses as active endpoints', () => {
    expect(run.stdout).toMatch(/NAME +DIRECTION +TYPE +CHANNEL +CONNECTION +STATE/);
    expect(run.stdout).toMatch(/default\.Command-Bus +outbound +Command-Bus +- +- +in-process/);
    expect(run.stdout).toMatch(/default\.Query-Bus +outbound +Query-Bus +- +- +in-process/);
  });
});
