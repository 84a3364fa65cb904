/**
 * One local database transaction per activity. Each activity forks its own
 * EntityManager (never the global one) and runs in `em.transactional`, so a retry after
 * a crash sees either everything the attempt wrote or nothing.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import type { FailureType } from '../common/failures.ts';
import { sqlState } from '../common/db-errors.ts';

/** Runs `work` in a new transaction on a fresh EntityManager fork and commits it. */
export function inTransaction<T>(orm: Orm, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return orm.em.fork().transactional(work);
}

/**
 * Runs `create`, a step that reads its rows by key and inserts them when absent, and runs
 * it once more when it lost the race to insert them (SQLSTATE 23505 unique violation):
 * an overlapping attempt of the same step (one that outlived its start-to-close timeout,
 * say) committed the same rows first. The second run finds them and returns them, as any
 * retry would; a duplicate of anything else fails the second run too and is thrown.
 * Without this the duplicate key would be a deterministic database error
 * (worker/database-failures.ts) and fail the step for good.
 *
 * @throws what `create` throws (a unique violation only when the second run hits one too).
 */
export async function insertOnce<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (sqlState(err) !== '23505') throw err;
    return create();
  }
}

/**
 * Runs one SQL statement with `?` placeholders on its own, outside any explicit
 * transaction, and returns its rows. A single statement is atomic by itself in
 * PostgreSQL (autocommit), so this saves the BEGIN and COMMIT round trips of
 * {@link inTransaction} where a step writes with exactly one statement.
 */
export function statement<Row extends object>(orm: Orm, query: string, params: unknown[] = []): Promise<Row[]> {
  return orm.em.fork().execute<Row[]>(query, params as never[], 'all');
}

/** Runs a SQL statement with `?` placeholders in `em`'s transaction and returns its rows. */
export function sql<Row extends object>(em: EntityManager, query: string, params: unknown[] = []): Promise<Row[]> {
  return em.execute<Row[]>(query, params as never[], 'all');
}

/**
 * A business rejection: a non-retryable ApplicationFailure whose `type` is one of
 * common/failures.ts, with `details` as its first detail for the caller.
 */
export function businessFailure(type: FailureType, message: string, details: Record<string, unknown> = {}): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type, details);
}
