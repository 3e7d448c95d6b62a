// Jest runs TypeScript through @swc/jest (no type-checking here: `pnpm typecheck` does that).
// Sources are ESM with `.js` import suffixes; tests compile to CommonJS, so the suffix is stripped.
/** @type {import('@swc/core').Options} */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

// @platformatic/kafka (the optional platformatic driver) and its @platformatic/* dependencies are
// ES modules only: jest (CommonJS here) compiles them too; swc turns their `import.meta.url` into the
// CommonJS equivalent. Every other package in node_modules is loaded as is.
/** @type {import('@swc/core').Options} */
const swcEsm = {
  jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
  module: { type: 'commonjs' },
};

const common = {
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    '/node_modules/.+@platformatic/.+\\.js$': ['@swc/jest', swcEsm],
  },
  transformIgnorePatterns: ['/node_modules/(?!\\.pnpm/@platformatic\\+|@platformatic/)'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@gomes/core$': '<rootDir>/packages/core/src/index.ts',
    '^@gomes/core/testing$': '<rootDir>/packages/core/src/testing/index.ts',
    '^@gomes/core/transport$': '<rootDir>/packages/core/src/transport/spi/index.ts',
    '^@gomes/kafka$': '<rootDir>/packages/kafka/src/index.ts',
    '^@gomes/schema-registry$': '<rootDir>/packages/schema-registry/src/index.ts',
    '^@gomes/idempotency-redis$': '<rootDir>/packages/idempotency-redis/src/index.ts',
    '^@gomes/idempotency-postgres$': '<rootDir>/packages/idempotency-postgres/src/index.ts',
  },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/packages/*/src/**/*.spec.ts',
        '<rootDir>/packages/*/test/unit/**/*.spec.ts',
        '<rootDir>/examples/*/test/**/*.spec.ts',
        '<rootDir>/packages/*/faults/test/unit/**/*.spec.ts',
      ],
      // Examples whose tests need a real broker name them *.int.spec.ts: the integration project's.
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.spec\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/packages/*/test/integration/**/*.int.spec.ts',
        '<rootDir>/examples/*/test/**/*.int.spec.ts',
      ],
      // Per-test timeout of this project (jest ignores `testTimeout` in a project's config).
      setupFilesAfterEnv: ['<rootDir>/jest.integration.setup.js'],
    },
  ],
};
