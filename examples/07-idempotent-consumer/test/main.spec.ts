// Runs example 07 against the machine's real PostgreSQL (scripts/run-tests.mjs starts it when it is
// not running; DATABASE_URL overrides the server).
import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

describe('example 07-idempotent-consumer', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded('07-idempotent-consumer');
    run = await runExample('07-idempotent-consumer');
  }, 180_000);

  it('exits by itself with code 0 and drops its schema', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/schema example07_[0-9a-f]{8}\n/);
    expect(run.stdout).toMatch(/\ndone\n$/);
  });

  it('skips the producer retry of p-1 without running the handler', () => {
    expect(run.stdout.match(/\[ledger\] booked p-1/g)).toHaveLength(1);
    expect(run.stdout).toContain('[ledger] p-1 again: already processed -> skipped, acked');
  });

  it('rolls back the failed attempt of p-3 (row and marker) and books it once on the retry', () => {
    expect(run.stdout).toContain(
      '[ledger] p-3: ledger service timed out after the row was written -> rolled back',
    );
    expect(run.stdout).toContain('[ledger] booked p-3: 75 EUR (attempt 2)');
    expect(run.stdout).toContain('ledger_entries: p-1=100, p-2=250, p-3=75\n');
    expect(run.stdout).toContain('processed_messages: 3 done\n');
    expect(run.stdout).toContain('stats: received=4 succeeded=3 duplicates=1 retried=1 failed=0\n');
  });
});
