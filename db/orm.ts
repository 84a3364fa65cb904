/**
 * Opening the ORM, creating the database when it is missing, and running the committed
 * migrations. Every process opens one ORM and forks an EntityManager per unit of work.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ormOptions, type DbSettings } from './mikro-orm.config.ts';

export type { DbSettings };
export type Orm = MikroORM;

/** Opens a connected ORM for `settings`. The caller closes it with `orm.close()`. */
export async function openOrm(settings: DbSettings): Promise<Orm> {
  return MikroORM.init(ormOptions(settings));
}

/**
 * Creates the database named in `url` when it does not exist.
 *
 * @returns true when it created the database.
 * @throws Error with how to start PostgreSQL when no server answers at `url`.
 */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(dbName)) throw new Error(`Unsupported database name in DATABASE_URL: ${dbName}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `No PostgreSQL server answers at ${target.host} (${(err as Error).message}). ` +
        'Start one (for example `sudo pg_ctlcluster 15 main start`, `brew services start postgresql`, ' +
        'or `docker compose up -d postgres`) or set DATABASE_URL.',
    );
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${dbName}"`);
    } catch (err) {
      // Another process created it between our check and our CREATE.
      if ((err as { code?: string }).code !== '42P04') throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

/**
 * Creates the database if needed, opens the ORM and applies pending migrations.
 *
 * @returns the open ORM and the names of the migrations it applied.
 */
export async function prepareDatabase(settings: DbSettings): Promise<{ orm: Orm; applied: string[] }> {
  await ensureDatabaseExists(settings.url);
  const orm = await openOrm(settings);
  const applied = await orm.migrator.up();
  return { orm, applied: applied.map((m) => m.name) };
}
