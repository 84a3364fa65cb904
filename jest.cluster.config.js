/**
 * The cluster suite (`npm run test:cluster`): the integration tests whose behaviour
 * depends on the Temporal server, run against the real server on PostgreSQL (SQL
 * persistence and visibility) instead of a dev server per file. Its global set-up starts
 * that server (scripts/temporal-cluster.ts, building it with Go when needed) on fresh
 * databases and hands its address to the suites as TEST_TEMPORAL_ADDRESS; its global
 * teardown stops it. See docs/operations.md, "The real Temporal server on PostgreSQL".
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: [
    '<rootDir>/test/integration/orders.test.ts',
    '<rootDir>/test/integration/reservations.test.ts',
    '<rootDir>/test/integration/visibility.test.ts',
    '<rootDir>/test/integration/compensation-retry.test.ts',
    '<rootDir>/test/integration/replay.test.ts',
    // Suites written for the real server only (skipped by plain `npm test`): scale-out, kills.
    '<rootDir>/test/cluster/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/cluster-global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster-global-teardown.ts',
};
