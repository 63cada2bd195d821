// Two projects: `unit` (pure, no I/O, *.test.ts) and `integration` (real Redis, real SDKs against the
// sandbox, *.integration.test.ts). ESM TypeScript through ts-jest, transpile-only (tsc checks types).
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node',
  // `npm run bench` compiles the engine bench there, with a copy of package.json.
  modulePathIgnorePatterns: ['<rootDir>/dist-bench/'],
};

export default {
  // testTimeout is a global option (ignored inside projects): integration tests start servers.
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.integration\\.test\\.ts$', '\\.e2e\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/integration/**/*.integration.test.ts',
        '<rootDir>/src/**/*.integration.test.ts',
      ],
      testPathIgnorePatterns: ['/chaos-short\\.integration\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
    {
      // The short chaos run (issue 7, ~2 minutes): part of `npm test`; alone: `npm run test:chaos`.
      ...common,
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/integration/chaos-short.integration.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
  ],
};
