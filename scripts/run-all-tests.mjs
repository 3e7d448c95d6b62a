#!/usr/bin/env node
// `pnpm test`: the whole suite, exactly what CI (.ci/run) runs, in two steps:
//   1. scripts/run-tests.mjs --nodes current,24 (= `pnpm test:quick --nodes current,24`): the unit
//      tests once per Node.js (the running one and Node 24), the integration tests (examples,
//      transport contract, Kafka, schema registry, idempotency stores) once per Node.js and Kafka
//      driver (kafkajs, platformatic), on one broker started for the run unless KAFKA_BROKERS is set;
//   2. scripts/run-fault-tests.mjs (= `pnpm test:faults`, ~8-10 min): the fault-tolerance suite on a
//      broker of its own (it kills and restarts it, so KAFKA_BROKERS is not passed to it); after a
//      full run it rewrites docs/reliability.md (FAULTS_WRITE_DOCS=0: print only).
//   node scripts/run-all-tests.mjs [--nodes current,24]
// Both steps run even when the first fails; the exit code is the first failing step's.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPTS = path.dirname(fileURLToPath(import.meta.url));

const argv = process.argv.slice(2);
let nodes = 'current,24';
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--nodes' && argv[i + 1] !== undefined) nodes = argv[++i];
  else if (argv[i].startsWith('--nodes=')) nodes = argv[i].slice('--nodes='.length);
  else {
    process.stderr.write(
      `run-all-tests: unknown argument "${argv[i]}" (only --nodes); for narrower runs use pnpm test:quick\n`,
    );
    process.exit(2);
  }
}

/** Runs `node <script> ...args` with `env`, forwarding termination signals; resolves its exit code. */
function run(script, args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(SCRIPTS, script), ...args], { stdio: 'inherit', env });
    const forward = (sig) => child.kill(sig);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, forward);
    child.on('exit', (code, sig) => {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, forward);
      resolve(code ?? (sig ? 1 : 0));
    });
  });
}

const steps = [];
process.stdout.write(`== test matrix (Node ${nodes}, kafkajs and platformatic)\n`);
steps.push({
  name: `test matrix (Node ${nodes})`,
  code: await run('run-tests.mjs', ['--nodes', nodes], process.env),
});

process.stdout.write('\n== fault-tolerance suite\n');
const faultsEnv = { ...process.env };
delete faultsEnv.KAFKA_BROKERS;
steps.push({ name: 'fault-tolerance suite', code: await run('run-fault-tests.mjs', [], faultsEnv) });

process.stdout.write('\n== pnpm test\n');
for (const s of steps) process.stdout.write(`${s.code === 0 ? 'ok  ' : 'FAIL'} ${s.name} (exit ${s.code})\n`);
process.exit(steps.find((s) => s.code !== 0)?.code ?? 0);
