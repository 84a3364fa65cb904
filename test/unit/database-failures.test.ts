/**
 * The classifier of activity errors (worker/database-failures.ts) on real errors of
 * PostgreSQL and node-postgres, provoked against the test database: class 22 and 23 are
 * deterministic and become non-retryable failures with a stable type; connection errors,
 * timeouts and deadlocks stay retryable.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { inTransaction, statement } from '../../activities/tx.ts';
import type { Orm } from '../../db/orm.ts';
import { classifyDatabaseError, databaseFailureInterceptor, nonRetryableDatabaseFailure } from '../../worker/database-failures.ts';
import { isTransientDatabaseError } from '../../common/db-errors.ts';
import { openTestOrm, testConfig } from '../helpers/db.ts';

const url = testConfig().database.url;
const table = `classifier_probe_${randomUUID().replaceAll('-', '')}`;
let orm: Orm;

/** What `work` rejects with (fails the test when it resolves). */
async function rejection(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A connected node-postgres client on the test database; the caller ends it. */
async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

beforeAll(async () => {
  orm = await openTestOrm();
  await statement(orm, `create table ${table} (id int primary key, n int not null check (n >= 0))`);
  await statement(orm, `insert into ${table} (id, n) values (1, 0), (2, 0)`);
});

afterAll(async () => {
  await statement(orm, `drop table if exists ${table}`);
  await orm.close();
});

describe('classifyDatabaseError', () => {
  it('classifies a division by zero (22012) through MikroORM as a DataException, not retried', async () => {
    const err = await rejection(() => statement(orm, 'select 1/0'));
    expect(classifyDatabaseError(err)).toMatchObject({ kind: 'deterministic', failureType: 'DataException', sqlState: '22012' });
    const failure = nonRetryableDatabaseFailure(err, 'refundPoints')!;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'DataException', nonRetryable: true, details: [{ sqlState: '22012', activityType: 'refundPoints' }] });
    expect(failure.message).toContain('division by zero');
  });

  it('classifies an integer out of range (22003) from node-postgres as a DataException', async () => {
    const c = await client();
    try {
      const err = await rejection(() => c.query('select 2147483647::int + 1'));
      expect(classifyDatabaseError(err)).toMatchObject({ kind: 'deterministic', failureType: 'DataException', sqlState: '22003' });
    } finally {
      await c.end();
    }
  });

  it('classifies a unique violation (23505) as an IntegrityConstraintViolation naming its constraint and table', async () => {
    const err = await rejection(() => inTransaction(orm, (em) => em.execute(`insert into ${table} (id, n) values (1, 0)`)));
    expect(classifyDatabaseError(err)).toMatchObject({ kind: 'deterministic', failureType: 'IntegrityConstraintViolation', sqlState: '23505' });
    expect(nonRetryableDatabaseFailure(err, 'createOrder')).toMatchObject({
      type: 'IntegrityConstraintViolation',
      nonRetryable: true,
      details: [{ sqlState: '23505', activityType: 'createOrder', table, constraint: `${table}_pkey` }],
    });
  });

  it('classifies a check violation (23514) and a not-null violation (23502) as IntegrityConstraintViolation', async () => {
    const check = await rejection(() => statement(orm, `update ${table} set n = -1 where id = 1`));
    expect(nonRetryableDatabaseFailure(check, 'releaseStock')?.details).toEqual([
      { sqlState: '23514', activityType: 'releaseStock', table, constraint: `${table}_n_check` },
    ]);
    const notNull = await rejection(() => statement(orm, `update ${table} set n = null where id = 1`));
    expect(classifyDatabaseError(notNull)).toMatchObject({ kind: 'deterministic', sqlState: '23502' });
  });

  it('keeps a refused connection retryable', async () => {
    const err = await rejection(async () => {
      const c = new pg.Client({ host: '127.0.0.1', port: 1, user: 'postgres', connectionTimeoutMillis: 2000 });
      await c.connect();
    });
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
    expect(classifyDatabaseError(err)).toEqual({ kind: 'retryable' });
    expect(nonRetryableDatabaseFailure(err, 'refundPoints')).toBeUndefined();
  });

  it('keeps a statement timeout (57014) and a terminated backend (57P01) retryable', async () => {
    const timeout = await rejection(() =>
      inTransaction(orm, async (em) => {
        await em.execute(`set local statement_timeout = 20`);
        await em.execute('select pg_sleep(1)');
      }),
    );
    expect((timeout as { code?: string }).code).toBe('57014');
    expect(classifyDatabaseError(timeout)).toEqual({ kind: 'retryable' });

    const victim = await client();
    victim.on('error', () => {});
    const killer = await client();
    try {
      const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
      const query = rejection(() => victim.query('select pg_sleep(30)'));
      await killer.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      const terminated = await query;
      expect((terminated as { code?: string }).code).toBe('57P01');
      expect(classifyDatabaseError(terminated)).toEqual({ kind: 'retryable' });
    } finally {
      await killer.end();
      await victim.end().catch(() => {});
    }
  });

  it('keeps a deadlock (40P01) retryable', async () => {
    const [a, b] = [await client(), await client()];
    try {
      await a.query('begin');
      await b.query('begin');
      await a.query(`select 1 from ${table} where id = 1 for update`);
      await b.query(`select 1 from ${table} where id = 2 for update`);
      // Each waits for the other's row: PostgreSQL aborts one of them after deadlock_timeout.
      const outcomes = await Promise.allSettled([
        a.query(`select 1 from ${table} where id = 2 for update`),
        b.query(`select 1 from ${table} where id = 1 for update`),
      ]);
      const deadlock = outcomes.find((o) => o.status === 'rejected')?.reason;
      expect((deadlock as { code?: string }).code).toBe('40P01');
      expect(classifyDatabaseError(deadlock)).toEqual({ kind: 'retryable' });
    } finally {
      await a.query('rollback');
      await b.query('rollback');
      await a.end();
      await b.end();
    }
  });

  it('leaves the activities\' own failures and errors that are not the database\'s as they are', () => {
    expect(classifyDatabaseError(ApplicationFailure.nonRetryable('no', 'OutOfStock'))).toEqual({ kind: 'retryable' });
    expect(classifyDatabaseError(new Error('socket hang up'))).toEqual({ kind: 'retryable' });
    expect(classifyDatabaseError(Object.assign(new Error('node'), { code: 'ERR_INVALID_ARG_TYPE' }))).toEqual({ kind: 'retryable' });
  });
});

describe('databaseFailureInterceptor', () => {
  const env = new MockActivityEnvironment(
    { activityType: 'refundPoints' },
    { interceptors: [databaseFailureInterceptor], logger: new DefaultLogger('ERROR') },
  );

  it('fails the activity for good on a deterministic database error', async () => {
    const failure = await rejection(() => env.run(() => statement(orm, 'select 1/0')));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'DataException', nonRetryable: true });
  });

  it('passes results, business failures and transient errors through unchanged', async () => {
    expect(await env.run(async () => 42)).toBe(42);
    const business = ApplicationFailure.nonRetryable('ledger closed', 'LedgerClosed');
    expect(await rejection(() => env.run(async () => Promise.reject(business)))).toBe(business);
    const transient = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    expect(await rejection(() => env.run(async () => Promise.reject(transient)))).toBe(transient);
  });
});

describe('isTransientDatabaseError (the API answers 503 DatabaseUnavailable for these)', () => {
  it('is true for a refused connection and a statement timeout, false for a refused statement or an error of ours', async () => {
    const refused = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    expect(isTransientDatabaseError(await rejection(() => refused.connect()))).toBe(true);

    const c = await client();
    try {
      await c.query('set statement_timeout = 50');
      expect(isTransientDatabaseError(await rejection(() => c.query('select pg_sleep(1)')))).toBe(true);
    } finally {
      await c.end();
    }
    expect(isTransientDatabaseError(await rejection(() => statement(orm, 'select 1/0')))).toBe(false);
    expect(isTransientDatabaseError(new Error('a bug of ours'))).toBe(false);
  });
});
