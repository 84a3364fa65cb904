/**
 * Runs once before all suites (`npm test` and `npm run test:reliability`), so that both
 * pass on a fresh clone without `npm start` having run first:
 * 1. finds the Temporal CLI the way `npm start` does (`$TEMPORAL_CLI_PATH`, PATH,
 *    `.tools/bin/temporal`), building it with Go into `.tools/bin` when none is found
 *    (progress on stderr), and hands its path to the suites as `TEMPORAL_CLI_PATH`; the
 *    suites themselves never build (see `testTemporalCli` in helpers/temporal.ts);
 * 2. creates and migrates the test database (`TEST_DATABASE_URL`, default `sagas_test`),
 *    so every suite starts on the current schema. Suites never depend on each other's
 *    rows: each creates its own products and users.
 *
 * Without a CLI and without Go to build one, it prints the same installation
 * instructions as `npm start` and the run fails.
 */
import { loadConfig } from '../config/index.ts';
import { prepareDatabase } from '../db/orm.ts';
import { findTemporalCli } from '../scripts/temporal-cli.ts';

export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  let cli: string;
  try {
    cli = await findTemporalCli({ cliPath: config.temporal.cliPath });
  } catch (err) {
    // The message is the instruction; jest prints a stack trace under it, which would bury it.
    const clean = new Error(err instanceof Error ? err.message : String(err));
    clean.stack = clean.message;
    throw clean;
  }
  // Global setup runs in jest's parent process before any test environment or worker
  // exists; both copy this process's environment, so every suite's loadConfig() sees it.
  process.env.TEMPORAL_CLI_PATH = cli;

  const { orm } = await prepareDatabase({ url: config.database.testUrl, poolMax: 2 });
  await orm.close();
}
