/**
 * What test/global-setup.ts hands to the suites: the Temporal CLI it found or built, as
 * `TEMPORAL_CLI_PATH`, visible to every suite's config (the suites run in band, in jest's
 * own process, after global setup).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { testConfig } from '../helpers/db.ts';
import { testTemporalCli } from '../helpers/temporal.ts';

describe('global setup', () => {
  test('hands the Temporal CLI it found or built to the suites', async () => {
    const cliPath = testConfig().temporal.cliPath;
    expect(cliPath).toBeDefined();
    expect(path.isAbsolute(cliPath!)).toBe(true);
    await expect(access(cliPath!, constants.X_OK)).resolves.toBeUndefined();
    await expect(testTemporalCli()).resolves.toBe(cliPath);
  });
});
