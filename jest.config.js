/**
 * Jest 30 in native ESM mode (`node --experimental-vm-modules`), TypeScript through
 * @swc/jest. Integration suites talk to a real Temporal dev server and PostgreSQL, so
 * they run in band (`npm test`) and get generous timeouts.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
        module: { type: 'es6' },
      },
    ],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The reliability suite (crashes, faults, load) runs separately: npm run test:reliability.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/'],
  modulePathIgnorePatterns: ['<rootDir>/.tools/', '<rootDir>/.data/'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 120_000,
};
