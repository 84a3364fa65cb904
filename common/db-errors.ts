/**
 * Telling a database that is unreachable or busy (worth retrying) from a database that
 * refused a statement (the same statement will be refused again). Used by the API to
 * answer 503 instead of 500 while PostgreSQL is away.
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

/** The SQLSTATE of a PostgreSQL error (`code`, five characters), or undefined for any other error. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Whether `err` (or an error in its `cause` chain, up to 5 deep) says the database was
 * unreachable, overloaded, restarting, or gave up on a statement that may succeed when
 * run again: a socket error, SQLSTATE class 08 or 53, 40001, 40P01, 55P03, 57014,
 * 57P01..57P03, or a connection or pool timeout of node-postgres.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const state = sqlState(current);
    if (state && (TRANSIENT_STATES.has(state) || state.startsWith('08') || state.startsWith('53'))) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SOCKET_ERRORS.has(code)) return true;
    if (TRANSIENT_MESSAGES.some((m) => current instanceof Error && current.message.includes(m))) return true;
    current = current.cause;
  }
  return false;
}
