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

/** Builds the ORM options for `settings`. */
export function ormOptions(settings: DbSettings): Options {
  return defineConfig({
    clientUrl: settings.url,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    pool: { min: 0, max: settings.poolMax },
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
