/**
 * `npm run db:setup`: creates the application database if missing, applies the committed
 * migrations and seeds the demo catalog. Safe to run any number of times.
 */
import { loadConfig } from '../config/index.ts';
import { createLogger, type Logger } from '../config/logger.ts';
import { prepareDatabase } from '../db/orm.ts';
import { seedDemoData } from '../db/seed.ts';

/** Prepares the database of `config`; logs what it did to `log`. */
export async function setUpDatabase(config = loadConfig(), log: Logger = createLogger(config, 'db-setup')): Promise<void> {
  const { orm, applied } = await prepareDatabase(config.database);
  try {
    const seeded = await seedDemoData(orm);
    log.info({ database: new URL(config.database.url).pathname.slice(1), migrationsApplied: applied, seeded }, 'database ready');
  } finally {
    await orm.close();
  }
}

if (import.meta.main) {
  try {
    await setUpDatabase();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
