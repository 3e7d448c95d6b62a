// The integration project's per-test timeout (jest.config.js, setupFilesAfterEnv): they talk to a
// real broker, registry or database. Set here because jest ignores `testTimeout` inside a project's
// config (it is a global option); packages/kafka/test/integration/jest-timeout.int.spec.ts checks it.
jest.setTimeout(120_000);
