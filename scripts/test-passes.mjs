#!/usr/bin/env node
// The test matrix of `pnpm test` (scripts/run-tests.mjs runs this with the broker environment):
// jest once per pass, in sequence, on one broker. A pass is a Node.js binary, a Kafka driver
// (GOMES_KAFKA_DRIVER) and the jest projects it runs: the unit tests run once per Node.js, the
// integration tests once per driver and Node.js.
//   node scripts/test-passes.mjs '<passes json>' [jest args...]
// Every pass runs even when one fails; the exit code is the first failing pass's. The closing line
// sums the passes: "N passed, N failed, N skipped".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

/** @typedef {{ node: string, nodeLabel: string, driver: string, projects: string[] }} Pass */

/** @param {Pass} pass @param {string[]} jestArgs */
async function runPass(pass, index, jestArgs) {
  const resultsFile = path.join(ROOT, `.jest-results-${index}.json`);
  fs.rmSync(resultsFile, { force: true });
  const args = [
    JEST,
    ...jestArgs,
    '--selectProjects',
    ...pass.projects,
    '--json',
    `--outputFile=${resultsFile}`,
  ];
  const env = {
    ...process.env,
    GOMES_KAFKA_DRIVER: pass.driver,
    // Tests that start `node` by name (examples, fixtures) use the pass's Node.js too.
    PATH: `${path.dirname(pass.node)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  const label = `Node ${pass.nodeLabel}, driver ${pass.driver}, ${pass.projects.join(' + ')}`;
  process.stdout.write(`\n== test pass ${index + 1}: ${label}\n`);
  const started = Date.now();
  const code = await new Promise((resolve) => {
    const child = spawn(pass.node, args, { stdio: 'inherit', env, cwd: ROOT });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  let results;
  try {
    results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    results = undefined; // jest did not get far enough to write results; its own output says why
  }
  fs.rmSync(resultsFile, { force: true });
  return { label, code, results, seconds: Math.round((Date.now() - started) / 1000) };
}

const [passesJson, ...jestArgs] = process.argv.slice(2);
/** @type {Pass[]} */
const passes = JSON.parse(passesJson ?? '[]');
const outcomes = [];
for (let i = 0; i < passes.length; i++) outcomes.push(await runPass(passes[i], i, jestArgs));

const total = { passed: 0, failed: 0, skipped: 0 };
process.stdout.write('\n== test passes\n');
for (const o of outcomes) {
  const r = o.results;
  if (r) {
    total.passed += r.numPassedTests;
    total.failed += r.numFailedTests;
    total.skipped += r.numPendingTests;
  } else if (o.code !== 0) {
    total.failed += 1; // a pass that ended before reporting counts as a failure
  }
  const counts = r ? `${r.numPassedTests} passed, ${r.numFailedTests} failed` : `no results (exit ${o.code})`;
  process.stdout.write(`${o.code === 0 ? 'ok  ' : 'FAIL'} ${o.label}: ${counts} in ${o.seconds} s\n`);
}
process.stdout.write(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(outcomes.find((o) => o.code !== 0)?.code ?? 0);
