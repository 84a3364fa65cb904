/**
 * Finding the PostgreSQL error behind a failure, and telling a database that is
 * unreachable or busy (worth retrying) from one that refused a statement (refused again
 * on every attempt). The API answers 503 while PostgreSQL is away; the worker
 * (worker/database-failures.ts) fails an activity for good on a refused statement.
 *
 * Source: PostgreSQL's error codes (Appendix A, "PostgreSQL Error Codes"): SQLSTATE class
 * 08 connection exception, 53 insufficient resources, 57P01..57P03 shutdown and start-up,
 * 40001 serialization failure, 40P01 deadlock, 57014 statement timeout or cancel.
 */

/** Node.js socket error codes of a connection that could not be made or was lost. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** SQLSTATEs (exact) of a server that is going away, starting, or gave up on a statement. */
const TRANSIENT_STATES = new Set(['40001', '40P01', '57014', '57P01', '57P02', '57P03', '55P03']);

/** Messages of node-postgres and its pool for a connection lost, refused or timed out. */
const TRANSIENT_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
];

/** Whether `value` is an object (errors of another realm, such as a test's VM context, fail `instanceof Error`). */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** The SQLSTATE of `err` itself (a PostgreSQL error's five-character `code`), or undefined. */
function ownSqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * The first PostgreSQL error in `err` and its `cause` chain (up to 5 deep) with its
 * SQLSTATE: node-postgres' `DatabaseError`, or MikroORM's `DriverException`, which copies
 * its fields. Undefined when there is none (a socket error, an error of ours).
 */
export function postgresErrorIn(err: unknown): { error: Error; sqlState: string } | undefined {
  let current: unknown = err;
  for (let depth = 0; isObject(current) && depth < 5; depth++) {
    const state = ownSqlState(current);
    if (state) return { error: current as Error, sqlState: state };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The SQLSTATE of the PostgreSQL error in `err` ({@link postgresErrorIn}), or undefined. */
export function sqlState(err: unknown): string | undefined {
  return postgresErrorIn(err)?.sqlState;
}

/**
 * Whether `err` (or an error in its `cause` chain, up to 5 deep) says the database was
 * unreachable, overloaded, restarting, or gave up on a statement that may succeed when
 * run again: a socket error, SQLSTATE class 08 or 53, 40001, 40P01, 55P03, 57014,
 * 57P01..57P03, or a connection or pool timeout of node-postgres.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  const state = sqlState(err);
  if (state) return TRANSIENT_STATES.has(state) || state.startsWith('08') || state.startsWith('53');
  let current: unknown = err;
  for (let depth = 0; isObject(current) && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SOCKET_ERRORS.has(code)) return true;
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && TRANSIENT_MESSAGES.some((m) => message.includes(m))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
