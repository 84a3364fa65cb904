/**
 * The waiting queue's state changes (common/queue.ts), in SQL, shared by the API (join,
 * cancel), the worker's admission driver (worker/queue-admission.ts) and the invariant
 * checker. docs/architecture.md ("The waiting queue") explains the design.
 *
 * Concurrency:
 * - Everything that makes a token ACTIVE (and every join) first locks the performance's
 *   `queue_counters` row (`FOR UPDATE`), so admissions of one performance are serial: the
 *   count of ACTIVE tokens they read cannot be raced upwards, and the cap holds.
 * - What only ends a token (paid in the reservation pivot, activities/pivots.ts) needs no counter
 *   lock: it can only lower the count. An admission that counted before such an end
 *   committed admits fewer, never more; the freed slot is announced on the
 *   `queue_slot_freed` channel in the ending transaction, and the driver admits then.
 * - Timestamps are `clock_timestamp()` taken after the count, so an admission's
 *   `admitted_at` is later than the `ended_at` of every token whose slot it took: the
 *   intervals `[admitted_at, ended_at)` of one performance never overlap more than
 *   `activeLimit` deep, which is what the invariant checker verifies.
 * - Lock order everywhere: reservation row, seat rows, counter row, token rows.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { QueueSettings } from '../common/queue.ts';

/** Runs a SQL statement with `?` placeholders in `em`'s transaction and returns its rows. */
export function sql<Row extends object>(em: EntityManager, query: string, params: unknown[] = []): Promise<Row[]> {
  return em.execute<Row[]>(query, params as never[], 'all');
}

/**
 * A queue token row as raw SQL returns it. Instants are `timestamptz` values as the
 * connection gives them: strings through MikroORM's `execute`, `Date`s through pg itself;
 * read them with `new Date(value)`.
 */
export interface QueueTokenRow {
  id: string;
  performance_id: number;
  user_id: number;
  ticket: number;
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED' | 'CANCELLED';
  joined_at: Date | string;
  admitted_at: Date | string | null;
  active_until: Date | string | null;
  ended_at: Date | string | null;
  end_reason: 'PAID' | 'TIMED_OUT' | 'CANCELLED' | null;
}

/** The columns of {@link QueueTokenRow}, for `select` and `returning`. */
export const QUEUE_TOKEN_COLUMNS = 'id, performance_id, user_id, ticket, status, joined_at, admitted_at, active_until, ended_at, end_reason';

/**
 * Locks the counter row of `performanceId` (`FOR UPDATE`), creating it first when the
 * performance has none.
 *
 * @throws the foreign-key violation (SQLSTATE 23503) when the performance does not exist.
 */
export async function lockQueueCounter(em: EntityManager, performanceId: number): Promise<{ last_ticket: number; waiting: number }> {
  const [row] = await sql<{ last_ticket: number; waiting: number }>(
    em,
    'select last_ticket, waiting from queue_counters where performance_id = ? for update',
    [performanceId],
  );
  if (row) return row;
  await sql(em, 'insert into queue_counters (performance_id) values (?) on conflict do nothing', [performanceId]);
  const [created] = await sql<{ last_ticket: number; waiting: number }>(
    em,
    'select last_ticket, waiting from queue_counters where performance_id = ? for update',
    [performanceId],
  );
  return created!;
}

/**
 * Admits the oldest WAITING tokens of `performanceId` (ticket order) into the free slots
 * (`activeLimit` minus the ACTIVE count), each ACTIVE for `activeMs` from now. The caller's
 * transaction must hold the counter lock ({@link lockQueueCounter}).
 *
 * @returns the ids of the tokens admitted, in ticket order.
 */
export async function admitWaiting(em: EntityManager, performanceId: number, settings: QueueSettings): Promise<string[]> {
  const admitted = await sql<{ id: string; ticket: number }>(
    em,
    `with free as (
       select greatest(0, ? - count(*))::int as slots from queue_tokens where performance_id = ? and status = 'ACTIVE'
     ), next as (
       select id from queue_tokens where performance_id = ? and status = 'WAITING'
       order by ticket limit (select slots from free)
     ), at as (select clock_timestamp() as now)
     update queue_tokens t
     set status = 'ACTIVE', admitted_at = at.now, active_until = at.now + make_interval(secs => ?::double precision / 1000)
     from next, at where t.id = next.id
     returning t.id, t.ticket`,
    [settings.activeLimit, performanceId, performanceId, settings.activeMs],
  );
  if (admitted.length > 0) {
    // Recounted rather than decremented (the counter's lock is held, so the count is exact): a
    // counter that rows written behind the code's back had put out of step heals here instead
    // of failing every pass on its check constraint.
    await sql(
      em,
      `update queue_counters set waiting = (select count(*) from queue_tokens where performance_id = ? and status = 'WAITING') where performance_id = ?`,
      [performanceId, performanceId],
    );
  }
  return admitted.sort((a, b) => a.ticket - b.ticket).map((r) => r.id);
}

/**
 * Ends every ACTIVE token of `performanceId` whose `activeUntil` has passed: EXPIRED,
 * TIMED_OUT, `ended_at` = its `active_until` (the instant it stopped admitting). The
 * caller's transaction must hold the counter lock.
 *
 * @returns how many tokens it ended.
 */
export async function expireTimedOut(em: EntityManager, performanceId: number): Promise<number> {
  const rows = await sql<{ id: string }>(
    em,
    `update queue_tokens set status = 'EXPIRED', end_reason = 'TIMED_OUT', ended_at = active_until
     where performance_id = ? and status = 'ACTIVE' and active_until <= clock_timestamp() returning id`,
    [performanceId],
  );
  return rows.length;
}

/** What one admission pass over a performance did. */
export interface AdmissionPass {
  performanceId: number;
  expired: number;
  admitted: string[];
}

/**
 * One admission pass over `performanceId`, in the caller's transaction: takes the counter
 * lock, ends the timed-out tokens, admits into the free slots.
 */
export async function admitPerformance(em: EntityManager, performanceId: number, settings: QueueSettings): Promise<AdmissionPass> {
  await lockQueueCounter(em, performanceId);
  const expired = await expireTimedOut(em, performanceId);
  const admitted = await admitWaiting(em, performanceId, settings);
  return { performanceId, expired, admitted };
}

/**
 * The performances an admission pass has work for: a token ACTIVE past its `activeUntil`,
 * or WAITING tokens while fewer than `activeLimit` are ACTIVE.
 */
export async function performancesNeedingAdmission(em: EntityManager, settings: QueueSettings): Promise<number[]> {
  const rows = await sql<{ performance_id: number }>(
    em,
    `select distinct performance_id from queue_tokens where status = 'ACTIVE' and active_until <= clock_timestamp()
     union
     select c.performance_id from queue_counters c
     where c.waiting > 0
       and (select count(*) from queue_tokens t where t.performance_id = c.performance_id and t.status = 'ACTIVE') < ?`,
    [settings.activeLimit],
  );
  return rows.map((r) => r.performance_id).sort((a, b) => a - b);
}

/** The earliest `activeUntil` of any ACTIVE token (when the next one times out), or null. */
export async function nextActiveDeadline(em: EntityManager): Promise<Date | null> {
  const [row] = await sql<{ at: Date | string | null }>(em, `select min(active_until) as at from queue_tokens where status = 'ACTIVE'`);
  return row?.at ? new Date(row.at) : null;
}

/**
 * The live position of a WAITING token: 1 + the WAITING tokens of its performance with a
 * smaller ticket. Read without locks (a consistent snapshot).
 */
export async function waitingPosition(em: EntityManager, performanceId: number, ticket: number): Promise<number> {
  const [row] = await sql<{ ahead: number }>(
    em,
    `select count(*)::int as ahead from queue_tokens where performance_id = ? and status = 'WAITING' and ticket < ?`,
    [performanceId, ticket],
  );
  return (row?.ahead ?? 0) + 1;
}

/** How many tokens of `performanceId` were admitted in the last `windowMs` ms (the queue's recent speed). */
export async function recentAdmissions(em: EntityManager, performanceId: number, windowMs: number): Promise<number> {
  const [row] = await sql<{ n: number }>(
    em,
    `select count(*)::int as n from queue_tokens
     where performance_id = ? and admitted_at > clock_timestamp() - make_interval(secs => ?::double precision / 1000)`,
    [performanceId, windowMs],
  );
  return row?.n ?? 0;
}
