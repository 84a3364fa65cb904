/**
 * MikroORM configuration of the application database (PostgreSQL). Entities are listed
 * explicitly (no folder discovery) and so are migrations, so the same config works under
 * Node's type stripping, jest and a bundler.
 */
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ALL_ENTITIES } from './entities/index.ts';
import { MIGRATIONS } from './migrations/index.ts';

/** Connection settings: a PostgreSQL URL and the pool size per process. */
export interface DbSettings {
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
    // Passed to every pg connection (a startup parameter of the session).
    driverOptions: { idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS },
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
