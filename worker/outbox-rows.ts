/**
 * The outbox relay's statements on `data_platform_deliveries` (common/outbox.ts): claim a
 * batch of due PENDING events under a lease, then record each one's outcome. Every
 * statement runs on its own (autocommit: one short transaction each), and every outcome
 * applies only to a row still held by the claim that sent it (same `claimed_until`) and
 * not yet DELIVERED, so a relay whose lease ran out, or an old-shape saga's
 * `notifyDataPlatform` activity delivering the same event, can never undo another's result.
 */
import type { DataPlatformEvent } from '../activities/data-platform.ts';
import type { Orm } from '../db/orm.ts';
import { confirmedSagasWithoutEvent } from '../db/orphans.ts';

/** One event claimed by a relay: what to POST, and the lease that proves the claim. */
export interface ClaimedEvent {
  sagaId: string;
  /** The body POSTed to the data platform, rebuilt from the row. */
  event: DataPlatformEvent;
  /** POSTs made before this claim. */
  attempts: number;
  /** The row's `claimed_until` as PostgreSQL wrote it (text, exact to the microsecond). */
  lease: string;
}

/** Backoff of a transient failure: `baseMs` after the first, doubling per attempt up to `maxMs`. */
export interface RetryBackoff {
  baseMs: number;
  maxMs: number;
}

interface ClaimedRow {
  event_id: string;
  saga_id: string;
  event_type: string;
  occurred_at: string;
  payload: Record<string, unknown> | string;
  attempts: number;
  lease: string;
}

function run<Row extends object>(orm: Orm, query: string, params: unknown[] = []): Promise<Row[]> {
  return orm.em.fork().execute<Row[]>(query, params as never[], 'all');
}

/**
 * Claims up to `batchSize` due PENDING events (oldest first) for `leaseMs` ms: rows whose
 * `next_attempt_at` has passed and that no live lease holds. Rows another relay is
 * claiming at this instant are skipped (FOR UPDATE SKIP LOCKED), so replicas never claim
 * the same row twice while a lease lasts.
 */
export async function claimBatch(orm: Orm, batchSize: number, leaseMs: number): Promise<ClaimedEvent[]> {
  const rows = await run<ClaimedRow>(
    orm,
    `update data_platform_deliveries
        set claimed_until = now() + ? * interval '1 millisecond'
      where event_id in (
        select event_id from data_platform_deliveries
         where status = 'PENDING' and next_attempt_at <= now() and (claimed_until is null or claimed_until < now())
         order by created_at
         limit ?
         for update skip locked)
      returning event_id, saga_id, event_type, attempts, payload, claimed_until::text as lease,
        to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at`,
    [leaseMs, batchSize],
  );
  return rows.map((row) => ({
    sagaId: row.saga_id,
    event: { eventId: row.event_id, type: row.event_type, occurredAt: row.occurred_at, payload: eventPayload(row) },
    attempts: row.attempts,
    lease: row.lease,
  }));
}

/**
 * The event's payload. A row written by the `notifyDataPlatform` activity of a saga from
 * before the outbox may hold the whole event `{ eventId, type, occurredAt, payload }`
 * (the outbox migration unwraps the rows that existed then): its inner payload is sent.
 */
function eventPayload(row: ClaimedRow): Record<string, unknown> {
  const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload;
  const inner = payload.payload;
  const wrapped = payload.eventId === row.event_id && inner !== null && typeof inner === 'object' && !Array.isArray(inner);
  return wrapped ? (inner as Record<string, unknown>) : payload;
}

const HELD = `event_id = ? and claimed_until = ?::timestamptz and status <> 'DELIVERED'`;

/**
 * Records that the platform accepted `claim`'s event: DELIVERED, with `delivered_at`.
 * @returns the delivery lag in ms (from the row's `created_at` to now), or null when the
 *   claim no longer held the row (nothing changed).
 */
export async function markDelivered(orm: Orm, claim: ClaimedEvent): Promise<number | null> {
  const rows = await run<{ lag_ms: number | string }>(
    orm,
    `update data_platform_deliveries
        set status = 'DELIVERED', delivered_at = now(), last_error = null, attempts = attempts + 1, claimed_until = null
      where ${HELD}
      returning (extract(epoch from (delivered_at - created_at)) * 1000)::float8 as lag_ms`,
    [claim.event.eventId, claim.lease],
  );
  return rows[0] ? Math.max(0, Number(rows[0].lag_ms)) : null;
}

/**
 * Parks `claim`'s event as FAILED with `error` (the platform refused it for good: a 4xx);
 * the relay never tries it again. @returns whether the claim still held the row.
 */
export async function markFailed(orm: Orm, claim: ClaimedEvent, error: string): Promise<boolean> {
  const rows = await run(
    orm,
    `update data_platform_deliveries
        set status = 'FAILED', last_error = ?, attempts = attempts + 1, claimed_until = null
      where ${HELD} returning event_id`,
    [error.slice(0, 1000), claim.event.eventId, claim.lease],
  );
  return rows.length > 0;
}

/**
 * Releases `claim`'s event after a transient failure (network, timeout, 5xx, 408, 429):
 * one more attempt counted, `last_error` kept, and the next try after `backoff.baseMs`
 * doubled per attempt made before this one, at most `backoff.maxMs`.
 * @returns whether the claim still held the row.
 */
export async function scheduleRetry(orm: Orm, claim: ClaimedEvent, error: string, backoff: RetryBackoff): Promise<boolean> {
  const rows = await run(
    orm,
    `update data_platform_deliveries
        set attempts = attempts + 1, last_error = ?, claimed_until = null,
            next_attempt_at = now() + least(?::float8, ?::float8 * power(2, least(attempts, 30))) * interval '1 millisecond'
      where ${HELD} returning event_id`,
    [error.slice(0, 1000), backoff.maxMs, backoff.baseMs, claim.event.eventId, claim.lease],
  );
  return rows.length > 0;
}

/** Gives back claims that were never sent (the relay is stopping, or its lease is running out), so any relay may take them at once. */
export async function releaseClaims(orm: Orm, claims: readonly ClaimedEvent[]): Promise<void> {
  if (claims.length === 0) return;
  const pairs = claims.map(() => '(?, ?::timestamptz)').join(', ');
  await run(
    orm,
    `update data_platform_deliveries set claimed_until = null
      where status = 'PENDING' and (event_id, claimed_until) in (${pairs})`,
    claims.flatMap((c) => [c.event.eventId, c.lease]),
  );
}

/**
 * The next moment a PENDING event falls due: its `next_attempt_at`, or the end of the
 * lease that holds it when that is later; null when nothing is PENDING.
 */
export async function nextDueAt(orm: Orm): Promise<Date | null> {
  const [row] = await run<{ due_ms: number | string | null }>(
    orm,
    `select (extract(epoch from min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at)))) * 1000)::float8 as due_ms
       from data_platform_deliveries where status = 'PENDING'`,
  );
  return row?.due_ms === null || row?.due_ms === undefined ? null : new Date(Number(row.due_ms));
}

/** How many events are PENDING (the outbox's backlog, claimed or not). */
export async function pendingCount(orm: Orm): Promise<number> {
  const [row] = await run<{ n: number }>(orm, `select count(*)::int as n from data_platform_deliveries where status = 'PENDING'`);
  return row?.n ?? 0;
}

/** Settings of {@link writeMissingEvents}, in ms, and the most rows one call writes. */
export interface RepairWindow {
  /** Sagas confirmed less than this long ago are left alone (an old-shape saga writes its own row after its pivot). */
  graceMs: number;
  /** Sagas confirmed longer ago than this are not looked at (null: the whole history, for an operator's one-off run). */
  lookbackMs: number | null;
  limit: number;
}

/**
 * Writes the missing outbox events of CONFIRMED orders and reservations
 * (db/orphans.ts {@link confirmedSagasWithoutEvent}): PENDING, due at once, with the event
 * id, type, payload and `occurred_at` the pivot would have written, so the relay delivers
 * them like any other. Idempotent: `on conflict (event_id) do nothing`, so replicas
 * running it at once, or a pivot or `notifyDataPlatform` writing the same event
 * meanwhile, leave one row.
 *
 * @returns the event ids written.
 */
export async function writeMissingEvents(orm: Orm, window: RepairWindow): Promise<string[]> {
  const missing = confirmedSagasWithoutEvent(window.graceMs, window.lookbackMs, window.limit);
  const rows = await run<{ event_id: string }>(
    orm,
    `insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, occurred_at, next_attempt_at, created_at)
     select m.event_id, m.saga_id, m.event_type, 'PENDING', 0, m.payload, m.occurred_at, now(), now()
     from (${missing.text}) m
     on conflict (event_id) do nothing
     returning event_id`,
    missing.params,
  );
  return rows.map((r) => r.event_id);
}
