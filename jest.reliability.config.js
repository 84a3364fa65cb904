/**
 * The reliability suite (`npm run test:reliability`): crashes, faults, load and hostile
 * input against the real stack. Slower than `npm test`; CI runs both.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 300_000,
};
