// The fault-tolerance suite (`pnpm test:faults` = scripts/run-fault-tests.mjs): packages/kafka/faults.
// Separate from jest.config.js so `pnpm test` does not run it; one scenario at a time (it kills and
// restarts the broker), each test with its own time budget.
const base = require('./jest.config.js').projects[1];

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  displayName: 'faults',
  testMatch: ['<rootDir>/packages/kafka/faults/test/**/*.fault.spec.ts'],
  testTimeout: 600000,
  maxWorkers: 1,
};
