// Runs example 08 against the machine's real PostgreSQL (scripts/run-tests.mjs starts it when it is
// not running; DATABASE_URL overrides the server).
import { buildIfNeeded, runExample, type ExampleRun } from '../../test-support/run-example.js';

describe('example 08-replay', () => {
  let run: ExampleRun;

  beforeAll(async () => {
    await buildIfNeeded('08-replay');
    run = await runExample('08-replay');
  }, 180_000);

  it('exits by itself with code 0 and drops its schema', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/schema example08_[0-9a-f]{8}\n/);
    expect(run.stdout).toMatch(/\ndone\n$/);
  });

  it('stops the first run after 7 records with its checkpoint saved in PostgreSQL', () => {
    expect(run.stdout).toContain('[operator] Ctrl-C after 7 records\n');
    expect(run.stdout).toMatch(/\[replay 1\] status=aborted handled=7 failed=0 skippedCheckpointed=0 /);
    expect(run.stdout).toMatch(/\[checkpoint\] next offsets \{"0":"\d+","1":"\d+"\}\n/);
  });

  it('resumes from the checkpoint: the rest of the window once, nothing outside it', () => {
    expect(run.stdout).toMatch(/\[replay 2\] status=completed handled=11 failed=0 skippedCheckpointed=7 /);
    // 18 readings of 1 kWh in the window, 6 per meter; the 100 kWh ones before and after are not counted.
    expect(run.stdout).toMatch(/kWh in the window: (m-\d=6, ){2}m-\d=6 \(18 readings\)\n/);
  });
});
