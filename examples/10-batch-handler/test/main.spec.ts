import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

describe('example 10-batch-handler', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded('10-batch-handler');
    run = await runExample('10-batch-handler');
  }, 180_000);

  it('exits by itself with code 0', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('gomes stopped');
  });

  it('batches hold distinct keys, more events than processors; outcomes are per event', () => {
    const sizes = [...run.stdout.matchAll(/batch of (\d+): [\d,]+ \(distinct skus: (true|false)\)/g)];
    expect(sizes.length).toBeGreaterThan(0);
    expect(sizes.every((m) => m[2] === 'true')).toBe(true);
    expect(Math.max(...sizes.map((m) => Number(m[1])))).toBeGreaterThan(2);
    expect(run.stdout).toContain('projector: succeeded=29 deadLettered=1 retried=1');
  });

  it('the polling consumer pulls the dead letter', () => {
    expect(run.stdout).toMatch(
      /pulled dead letter \{"id":7,"sku":"sku-7","quantity":-1\}: Batch handler ".*" dead-lettered the event/,
    );
  });
});
