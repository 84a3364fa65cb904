/**
 * Runs once before all suites: creates and migrates the test database
 * (`TEST_DATABASE_URL`, default `sagas_test`), so every suite starts on the current schema.
 * Suites never depend on each other's rows: each creates its own products and users.
 */
import { loadConfig } from '../config/index.ts';
import { prepareDatabase } from '../db/orm.ts';

export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  const { orm } = await prepareDatabase({ url: config.database.testUrl, poolMax: 2 });
  await orm.close();
}
