/**
 * MikroORM configuration of the application database (PostgreSQL). Entities are listed
 * explicitly (no folder discovery) and so are migrations, so the same config works under
 * Node's type stripping, jest and a bundler.
 */
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ALL_ENTITIES } from './entities/index.ts';
import { MIGRATIONS } from './migrations/index.ts';

/**
 * Bounded waits of every database connection, in ms (0 turns one off). Defaults:
 * {@link DEFAULT_DB_TIMEOUTS}; config: the DATABASE_*_TIMEOUT_MS / _DELAY_MS variables.
 */
export interface DbTimeouts {
  /** Server side (`statement_timeout`): a statement running longer fails; the connection stays usable. */
  statementTimeoutMs: number;
  /**
   * Client side (pg `query_timeout`): a query without an answer this long fails, and
   * db/orm.ts closes its connection, so the pool discards it. The only bound that fires on
   * a silently dead connection (no FIN, no RST), where the server's timeouts cannot help.
   */
  queryTimeoutMs: number;
  /** Opening a connection, and waiting for a free one of the pool (pg `connectionTimeoutMillis`). */
  connectTimeoutMs: number;
  /** Idle time before the first TCP keep-alive probe; Node then probes every 1 s, 10 times. */
  keepAliveDelayMs: number;
}

/**
 * The default bounds: a step on a dead connection fails after 12 s, under the 15 s
 * start-to-close of the steps (workflows/activity-options.ts), so the attempt frees its
 * worker slot and pooled connection before Temporal starts the next one, and the saga goes
 * on within about 15 s (the retry's backoff and a new connection, at most 5 s, included).
 * The statement timeout is shorter than the query timeout so that a slow statement gets
 * the server's clean error first and keeps its connection; it equals
 * {@link IDLE_IN_TRANSACTION_TIMEOUT_MS}, the longest a lost session holds row locks, so a
 * step waiting behind such a session is retried no later than the session is ended.
 */
export const DEFAULT_DB_TIMEOUTS: Readonly<DbTimeouts> = Object.freeze({
  statementTimeoutMs: 10_000,
  queryTimeoutMs: 12_000,
  connectTimeoutMs: 5_000,
  keepAliveDelayMs: 10_000,
});

/** Connection settings: a PostgreSQL URL, the pool size per process and the bounded waits. */
export interface DbSettings extends Partial<DbTimeouts> {
  url: string;
  poolMax: number;
  /** Log every SQL statement (debug). */
  debug?: boolean;
}

/**
 * How long PostgreSQL lets a session of ours sit idle inside a transaction before it ends
 * the session, in ms. Every transaction of the service is one short local step that waits
 * on nothing but the database, so a session idle this long inside one has lost its client
 * (a host or network path gone without closing the connection). Ending it releases the
 * row locks it holds; otherwise every saga that needs those rows (the user's payments, the
 * order's own retry) waits until TCP gives up on the connection, hours later. Shorter than
 * the 15 s start-to-close timeout of the steps, so a retried step finds the rows free.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

/** Builds the ORM options for `settings`. */
export function ormOptions(settings: DbSettings): Options {
  return defineConfig({
    clientUrl: settings.url,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    pool: { min: 0, max: settings.poolMax },
    driverOptions: poolOptions({ ...DEFAULT_DB_TIMEOUTS, ...definedTimeouts(settings) }),
    // The database is created by db/orm.ts#prepareDatabase, schema only by migrations.
    ensureDatabase: false,
    debug: settings.debug ?? false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      silent: true,
      path: 'db/migrations',
      pathTs: 'db/migrations',
      emit: 'ts',
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      migrationsList: MIGRATIONS,
    },
  });
}

/**
 * pg pool and connection options of the bounded waits (merged by MikroORM into the options
 * of its `pg.Pool`). `statement_timeout` and `idle_in_transaction_session_timeout` are
 * startup parameters of every session; the others are the client's own timers.
 */
function poolOptions(t: DbTimeouts): Record<string, number | boolean> {
  return {
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    statement_timeout: t.statementTimeoutMs,
    ...(t.queryTimeoutMs > 0 ? { query_timeout: t.queryTimeoutMs } : {}),
    connectionTimeoutMillis: t.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: t.keepAliveDelayMs,
  };
}

/** The timeouts `settings` sets (an `undefined` one keeps its default). */
function definedTimeouts(settings: DbSettings): Partial<DbTimeouts> {
  const keys = ['statementTimeoutMs', 'queryTimeoutMs', 'connectTimeoutMs', 'keepAliveDelayMs'] as const;
  return Object.fromEntries(keys.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]]));
}
