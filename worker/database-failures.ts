/**
 * Which database errors an activity should not retry. An activity that fails with a plain
 * error is retried by its retry policy; compensations and the pivot retry without end
 * (workflows/activity-options.ts). That is right for a database that is away or busy
 * (connection errors, timeouts, SQLSTATE 40001 serialization failure, 40P01 deadlock,
 * 57P01 admin shutdown, class 08 connection exceptions): the next attempt may succeed.
 * It is wrong for a statement PostgreSQL refuses for what it says (SQLSTATE class 22 data
 * exception, class 23 integrity constraint violation): every attempt is refused again, so
 * a compensation would loop forever and its saga would never reach COMPENSATION_FAILED.
 *
 * {@link databaseFailureInterceptor}, an activity inbound interceptor installed on every
 * saga worker (worker/worker.ts), turns such an error into a non-retryable
 * `ApplicationFailure` of type `DataException` or `IntegrityConstraintViolation`
 * (common/failures.ts) as it leaves the activity. The SDK runs normal and local activities
 * through the same interceptors (`@temporalio/worker` 1.24, lib/worker.js: every activity
 * task, `isLocal` or not, becomes an `Activity` with `interceptors.activity`), so order
 * steps run as local activities are covered too. Forward steps fail at once (the saga
 * compensates); a compensation fails for good at its first attempt (the saga parks).
 *
 * Source: PostgreSQL's error codes (Appendix A, "PostgreSQL Error Codes").
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { postgresErrorIn } from '../common/db-errors.ts';
import { FailureType } from '../common/failures.ts';

/** The failure types of a statement PostgreSQL refuses on every attempt. */
export type DeterministicFailureType = typeof FailureType.DataException | typeof FailureType.IntegrityConstraintViolation;

/**
 * How a failed activity attempt is treated: `deterministic` is not retried (`error` is the
 * PostgreSQL error found in the cause chain, `sqlState` its code); `retryable` is left to
 * the activity's retry policy.
 */
export type DatabaseErrorClass =
  | { kind: 'deterministic'; failureType: DeterministicFailureType; sqlState: string; error: Error }
  | { kind: 'retryable' };

/** SQLSTATE classes whose statements are refused again on every attempt, and the failure type of each. */
const DETERMINISTIC_CLASSES: Readonly<Record<string, DeterministicFailureType>> = {
  '22': FailureType.DataException,
  '23': FailureType.IntegrityConstraintViolation,
};

/** The fields of a PostgreSQL error (node-postgres `DatabaseError`, copied by MikroORM's `DriverException`). */
interface PgErrorFields {
  code?: unknown;
  table?: unknown;
  column?: unknown;
  constraint?: unknown;
}

/**
 * Classifies an error thrown by an activity. Deterministic: a PostgreSQL error (the
 * error or one in its `cause` chain, up to 5 deep) whose SQLSTATE is of class 22 or 23.
 * Everything else is retryable: connection and socket errors, timeouts, serialization
 * failures, deadlocks, shutdowns, and errors that are not the database's. An
 * `ApplicationFailure` or a cancellation is the activity's own decision and is left as it is.
 */
export function classifyDatabaseError(err: unknown): DatabaseErrorClass {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return { kind: 'retryable' };
  const found = postgresErrorIn(err);
  const failureType = found && DETERMINISTIC_CLASSES[found.sqlState.slice(0, 2)];
  return found && failureType ? { kind: 'deterministic', failureType, ...found } : { kind: 'retryable' };
}

/**
 * The non-retryable failure an activity of type `activityType` fails with instead of
 * `err`, or undefined when `err` is to be retried (see {@link classifyDatabaseError}).
 * Its type is `DataException` or `IntegrityConstraintViolation`, its message the
 * database's, `details[0]` is `{ sqlState, activityType }` with the `table`, `column` and
 * `constraint` PostgreSQL named (never the row's values), and `err` is its cause.
 */
export function nonRetryableDatabaseFailure(err: unknown, activityType: string): ApplicationFailure | undefined {
  const found = classifyDatabaseError(err);
  if (found.kind !== 'deterministic') return undefined;
  const fields = found.error as PgErrorFields;
  const named = Object.fromEntries(
    (['table', 'column', 'constraint'] as const).filter((k) => typeof fields[k] === 'string').map((k) => [k, fields[k]]),
  );
  return ApplicationFailure.create({
    message: `${activityType}: ${found.error.message}`,
    type: found.failureType,
    nonRetryable: true,
    details: [{ sqlState: found.sqlState, activityType, ...named }],
    cause: err instanceof Error ? err : undefined,
  });
}

/**
 * Activity interceptor factory: rethrows a deterministic database error of any activity,
 * normal or local, as {@link nonRetryableDatabaseFailure}, with a warning log line
 * (`activityType`, `failureType`, `sqlState`, `attempt`); every other outcome passes
 * through unchanged.
 */
export const databaseFailureInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        const failure = nonRetryableDatabaseFailure(err, ctx.info.activityType);
        if (!failure) throw err;
        ctx.log.warn('deterministic database error; the activity is not retried', {
          activityType: ctx.info.activityType,
          failureType: failure.type,
          sqlState: (failure.details?.[0] as { sqlState: string }).sqlState,
          attempt: ctx.info.attempt,
          isLocal: ctx.info.isLocal,
        });
        throw failure;
      }
    },
  },
});
