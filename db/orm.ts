/**
 * Opening the ORM, creating the database when it is missing, and running the committed
 * migrations. Every process opens one ORM and forks an EntityManager per unit of work.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
// Registers the int8 parser: every bigint of the process reads as an exact number.
import './int8.ts';
import { ormOptions, type DbSettings } from './mikro-orm.config.ts';

export type { DbSettings };
export { DEFAULT_DB_TIMEOUTS, type DbTimeouts } from './mikro-orm.config.ts';
export type Orm = MikroORM;

/** Opens a connected ORM for `settings`. The caller closes it with `orm.close()`. */
export async function openOrm(settings: DbSettings): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(settings));
  returnDeadClientsToPool(await orm.driver.getConnection().getNativeClient());
  return orm;
}

/** The ORM's connection pool, by ORM, once looked up. */
const pools = new WeakMap<Orm, pg.Pool>();

/**
 * Runs one SQL statement (`$1`-style placeholders) straight on the ORM's connection pool,
 * autocommitted, and returns its rows (bigints as numbers, timestamps as `Date`s). For the
 * hottest paths only (a queue join, the bearer token's user check), where the ORM's own
 * per-call cost shows in the API's CPU profile (docs/benchmark.md, "Waiting queue"); the
 * pool's connections carry the same timeouts and the same dead-connection guard.
 *
 * @throws pg's DatabaseError (with `code`, the SQLSTATE, and `constraint`) as it is.
 */
export async function poolQuery<Row extends object>(orm: Orm, text: string, params: unknown[]): Promise<Row[]> {
  let pool = pools.get(orm);
  if (!pool) {
    pool = (await orm.driver.getConnection().getNativeClient()) as pg.Pool;
    pools.set(orm, pool);
  }
  return (await pool.query<Row>(text, params)).rows;
}

/**
 * Gives a pooled client back to `pool` when its connection ends while it is checked out,
 * so the pool discards it and opens a new one.
 *
 * Without this, every connection lost in the middle of a transaction (a dropped socket, a
 * database restart) leaks its pool slot for good: Kysely releases a transaction's client
 * only after a successful COMMIT or ROLLBACK (kysely-org/kysely#1990), and on a dead
 * connection both fail. Once `poolMax` slots leaked, every query of the process waits for a
 * free client forever. Release is made idempotent, so whichever of this guard and the
 * normal release comes second does nothing.
 */
function returnDeadClientsToPool(pool: pg.Pool): void {
  const guarded = new WeakSet<pg.PoolClient>();
  // 'acquire' fires just before pg-pool assigns the checkout's `release` to the client.
  pool.on('acquire', (client) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    closeOnQueryTimeout(client);
    let release: pg.PoolClient['release'] | undefined;
    Object.defineProperty(client, 'release', {
      configurable: true,
      get: () => release,
      set(poolRelease: pg.PoolClient['release']) {
        let released = false;
        release = (err?: Error | boolean) => {
          if (released) return;
          released = true;
          poolRelease(err);
        };
      },
    });
    client.once('end', () => release?.(new Error('PostgreSQL connection ended while checked out')));
  });
}

/** The message of the error pg rejects a query with when its `query_timeout` expired. */
const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * Closes `client`'s connection when one of its queries hits the client-side query timeout.
 *
 * pg rejects the query but keeps the connection, with the unanswered query still active:
 * everything sent on it later (the transaction's ROLLBACK first) would queue behind that
 * query for good, and the client would never return to the pool. On a silently dead
 * connection nothing else ever ends it. `client.end()` destroys the socket when a query is
 * active; the 'end' event then gives the client back to the pool as broken
 * ({@link returnDeadClientsToPool}), and the pool opens a new connection for the retry.
 */
function closeOnQueryTimeout(client: pg.PoolClient): void {
  const query = client.query as (...args: unknown[]) => unknown;
  client.query = function (this: pg.PoolClient, ...args: unknown[]) {
    const result = query.apply(this, args);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if ((err as Error | undefined)?.message === QUERY_READ_TIMEOUT) void client.end().catch(() => undefined);
      });
    }
    return result;
  } as typeof client.query;
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
 * Creates the database if needed, applies pending migrations and opens the ORM.
 *
 * Migrations run on an ORM of their own without statement and query timeouts: one may
 * rewrite a whole table (a column type change), which takes longer than any step may.
 *
 * @returns the open ORM (with `settings`' timeouts) and the names of the migrations it applied.
 */
export async function prepareDatabase(settings: DbSettings): Promise<{ orm: Orm; applied: string[] }> {
  await ensureDatabaseExists(settings.url);
  const migrating = await openOrm({ ...settings, statementTimeoutMs: 0, queryTimeoutMs: 0 });
  let applied: string[];
  try {
    applied = (await migrating.migrator.up()).map((m) => m.name);
  } finally {
    await migrating.close();
  }
  return { orm: await openOrm(settings), applied };
}
