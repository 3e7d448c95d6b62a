// The fault-tolerance suite (`pnpm test:faults` = scripts/run-fault-tests.mjs): packages/kafka/faults.
// Separate from jest.config.js so the test matrix does not run it (`pnpm test` runs it after); one scenario at a time (it kills and
// restarts the broker), each test with its own time budget.
const base = require('./jest.config.js').projects[1];

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  displayName: 'faults',
  testMatch: ['<rootDir>/packages/kafka/faults/test/**/*.fault.spec.ts'],
  // A top-level config, so `testTimeout` applies here; the integration project's setup file
  // (jest.setTimeout(120 s)) would override it, so it is not inherited.
  setupFilesAfterEnv: [],
  testTimeout: 600000,
  maxWorkers: 1,
};
