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
 *   committed admits fewer, never more; the freed slot is announced on
 *   {@link QUEUE_SLOT_FREED_CHANNEL} in the ending transaction, and the driver admits then.
 * - Timestamps are `clock_timestamp()` taken after the count, so an admission's
 *   `admitted_at` is later than the `ended_at` of every token whose slot it took: the
 *   intervals `[admitted_at, ended_at)` of one performance never overlap more than
 *   `activeLimit` deep, which is what the invariant checker verifies.
 * - Lock order everywhere: reservation row, seat rows, counter row, token rows.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { QUEUE_SLOT_FREED_CHANNEL, type QueueSettings } from '../common/queue.ts';

/** Runs a SQL statement with `?` placeholders in `em`'s transaction and returns its rows. */
function sql<Row extends object>(em: EntityManager, query: string, params: unknown[] = []): Promise<Row[]> {
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
    await sql(em, 'update queue_counters set waiting = waiting - ? where performance_id = ?', [admitted.length, performanceId]);
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

/** Announces a freed slot of `performanceId` on {@link QUEUE_SLOT_FREED_CHANNEL}; delivered when the transaction commits. */
export async function notifySlotFreed(em: EntityManager, performanceId: number): Promise<void> {
  await sql(em, 'select pg_notify(?, ?)', [QUEUE_SLOT_FREED_CHANNEL, String(performanceId)]);
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

/** What {@link joinQueue} did: `created` false when the user's live token was returned instead. */
export interface JoinResult {
  token: QueueTokenRow;
  created: boolean;
  /** The live position when WAITING (1 = next), 0 when ACTIVE. */
  position: number;
}

/**
 * A new token with id `newTokenId` for the user, in the caller's transaction: the
 * counter's lock, the next ticket and the row in one statement; when no other token waits
 * it is admitted at once if a slot is free. When the user already has a live (WAITING or
 * ACTIVE) token for the performance (also one a concurrent join committed first), that
 * one is returned with `created` false, and the caller must roll back (the ticket taken
 * for nothing is given back with it).
 *
 * @throws the foreign-key violation (SQLSTATE 23503) for an unknown performance
 *   (constraint `queue_counters_performance_id_foreign`) or user
 *   (`queue_tokens_user_id_foreign`); nothing is written.
 */
export async function joinQueue(
  em: EntityManager,
  request: { performanceId: number; userId: number; newTokenId: string },
  settings: QueueSettings,
): Promise<JoinResult> {
  const { performanceId, userId, newTokenId } = request;
  let inserted = await insertToken(em, request);
  if (inserted === 'no-counter') {
    // The performance's first join creates its counter (or the foreign key refuses an unknown performance).
    await sql(em, 'insert into queue_counters (performance_id) values (?) on conflict do nothing', [performanceId]);
    inserted = await insertToken(em, request);
  }
  if (inserted === 'no-counter' || inserted === 'live') {
    // The user has a live token (maybe from a concurrent join that committed first): give
    // the ticket back (this transaction still holds the counter's lock) and return theirs.
    await sql(em, 'update queue_counters set last_ticket = last_ticket - 1, waiting = waiting - 1 where performance_id = ?', [performanceId]);
    const live = await liveToken(em, performanceId, userId);
    if (!live) throw new Error(`No live queue token of user ${userId} for performance ${performanceId} after a conflicting join`);
    return { token: live, created: false, position: await positionOf(em, live) };
  }
  const { waiting, ...token } = inserted;
  // Alone in the queue: take a free slot now rather than wait for the driver.
  if (waiting === 1 && (await admitWaiting(em, performanceId, settings)).includes(newTokenId)) {
    const [admitted] = await sql<QueueTokenRow>(em, `select ${QUEUE_TOKEN_COLUMNS} from queue_tokens where id = ?`, [newTokenId]);
    return { token: admitted!, created: true, position: 0 };
  }
  // Every other WAITING token has an earlier ticket: the count is this one's position.
  return { token, created: true, position: waiting };
}

/**
 * One statement: takes the counter's lock and the next ticket, and inserts the token.
 * `no-counter` when the performance has no counter row yet, `live` when the user's live
 * token made the insert do nothing (the ticket was taken: the caller gives it back).
 */
async function insertToken(
  em: EntityManager,
  { performanceId, userId, newTokenId }: { performanceId: number; userId: number; newTokenId: string },
): Promise<(QueueTokenRow & { waiting: number }) | 'no-counter' | 'live'> {
  const [row] = await sql<QueueTokenRow & { waiting: number | null; counted: boolean }>(
    em,
    `with counter as (
       update queue_counters set last_ticket = last_ticket + 1, waiting = waiting + 1 where performance_id = ? returning last_ticket, waiting
     ), inserted as (
       insert into queue_tokens (id, performance_id, user_id, ticket, status, joined_at)
       select ?, ?, ?, last_ticket, 'WAITING', clock_timestamp() from counter
       on conflict (performance_id, user_id) where status in ('WAITING', 'ACTIVE') do nothing
       returning ${QUEUE_TOKEN_COLUMNS}
     )
     select i.*, c.waiting, c.last_ticket is not null as counted
     from (select 1) one left join counter c on true left join inserted i on true`,
    [performanceId, newTokenId, performanceId, userId],
  );
  if (!row?.counted) return 'no-counter';
  if (!row.id) return 'live';
  const { counted: _counted, ...token } = row;
  return token as QueueTokenRow & { waiting: number };
}

/** The user's live (WAITING or ACTIVE) token for the performance, if any. */
export async function liveToken(em: EntityManager, performanceId: number, userId: number): Promise<QueueTokenRow | undefined> {
  const [row] = await sql<QueueTokenRow>(
    em,
    `select ${QUEUE_TOKEN_COLUMNS} from queue_tokens where performance_id = ? and user_id = ? and status in ('WAITING', 'ACTIVE')`,
    [performanceId, userId],
  );
  return row;
}

/** A token's live position: {@link waitingPosition} when WAITING, 0 when ACTIVE, null once it ended. */
export async function positionOf(em: EntityManager, token: QueueTokenRow): Promise<number> {
  if (token.status === 'WAITING') return waitingPosition(em, token.performance_id, token.ticket);
  return 0;
}

/** What {@link cancelQueueToken} did. */
export type CancelResult =
  | { kind: 'cancelled'; token: QueueTokenRow; admitted: string[] }
  | { kind: 'ended'; token: QueueTokenRow }
  | { kind: 'in-use'; token: QueueTokenRow; reservationId: string }
  | { kind: 'not-found' };

/**
 * The owner cancels token `tokenId`: CANCELLED, `ended_at` now (or its `active_until`
 * when that has passed). A WAITING token leaves the queue; an ACTIVE one frees its slot,
 * which the next WAITING token takes in the same transaction. Refused (`in-use`, nothing
 * changes) while the token admits a PENDING reservation: cancel that first. Idempotent:
 * an ended token is returned as it is (`ended`).
 */
export async function cancelQueueToken(em: EntityManager, tokenId: string, settings: QueueSettings): Promise<CancelResult> {
  const [found] = await sql<{ performance_id: number }>(em, 'select performance_id from queue_tokens where id = ?', [tokenId]);
  if (!found) return { kind: 'not-found' };
  await lockQueueCounter(em, found.performance_id);
  const [token] = await sql<QueueTokenRow>(em, `select ${QUEUE_TOKEN_COLUMNS} from queue_tokens where id = ? for update`, [tokenId]);
  if (token!.status === 'EXPIRED' || token!.status === 'CANCELLED') return { kind: 'ended', token: token! };
  const [pending] = await sql<{ id: string }>(em, `select id from reservations where queue_token_id = ? and status = 'PENDING'`, [tokenId]);
  if (pending) return { kind: 'in-use', token: token!, reservationId: pending.id };
  const [cancelled] = await sql<QueueTokenRow>(
    em,
    `update queue_tokens set status = 'CANCELLED', end_reason = 'CANCELLED',
            ended_at = case when active_until is null then clock_timestamp() else least(clock_timestamp(), active_until) end
     where id = ? returning ${QUEUE_TOKEN_COLUMNS}`,
    [tokenId],
  );
  if (token!.status === 'WAITING') {
    await sql(em, 'update queue_counters set waiting = waiting - 1 where performance_id = ?', [found.performance_id]);
    return { kind: 'cancelled', token: cancelled!, admitted: [] };
  }
  const { admitted } = await admitPerformance(em, found.performance_id, settings);
  return { kind: 'cancelled', token: cancelled!, admitted };
}
