/**
 * The waiting queue's read model: a queue token row (db/queue.ts `QueueTokenRow`) as
 * {@link QueueTokenView}, with its live position and an estimate of the wait. A token is
 * read in one statement (row, WAITING tokens ahead, admissions of the last minute), so a
 * client polling its token costs one round trip; a join reads the admission rate through
 * {@link AdmissionRates}, which counts it at most once a second per performance.
 */
import type { QueueSettings } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { QUEUE_TOKEN_COLUMNS, recentAdmissions, type QueueTokenRow } from '../../db/queue.ts';
import type { QueueTokenView } from './schemas.ts';

/** The window over which the admission rate of a performance is measured, in ms. */
export const ADMISSION_RATE_WINDOW_MS = 60_000;

/** How long a performance's counted admissions are reused for the estimates of joins, in ms. */
export const ADMISSION_RATE_TTL_MS = 1_000;

/** Stale entries are dropped once {@link AdmissionRates} holds more performances than this. */
const MAX_RATE_ENTRIES = 1_000;

/**
 * The admissions of each performance over {@link ADMISSION_RATE_WINDOW_MS}, counted at most
 * once per `ttlMs` (default {@link ADMISSION_RATE_TTL_MS}) per performance, concurrent
 * callers sharing one count: a storm of joins adds one count a second, not one per join.
 * One per app (api/queue/routes.ts).
 */
export class AdmissionRates {
  readonly #orm: Orm;
  readonly #ttlMs: number;
  readonly #counts = new Map<number, { at: number; count: Promise<number> }>();

  constructor(orm: Orm, ttlMs = ADMISSION_RATE_TTL_MS) {
    this.#orm = orm;
    this.#ttlMs = ttlMs;
  }

  /** Admissions of `performanceId` over the rate window, as counted within the last `ttlMs`. @throws database errors of the count. */
  admittedInWindow(performanceId: number): Promise<number> {
    const now = Date.now();
    const cached = this.#counts.get(performanceId);
    if (cached && now - cached.at < this.#ttlMs) return cached.count;
    if (this.#counts.size >= MAX_RATE_ENTRIES) {
      for (const [id, entry] of this.#counts) if (now - entry.at >= this.#ttlMs) this.#counts.delete(id);
    }
    const entry = { at: now, count: recentAdmissions(this.#orm.em.fork(), performanceId, ADMISSION_RATE_WINDOW_MS) };
    this.#counts.set(performanceId, entry);
    // A failed count is not reused.
    entry.count.catch(() => {
      if (this.#counts.get(performanceId) === entry) this.#counts.delete(performanceId);
    });
    return entry.count;
  }
}

/** Path of a queue token: `/queue/tokens/<tokenId>`. */
export function queueTokenPath(tokenId: string): string {
  return `/queue/tokens/${tokenId}`;
}

/**
 * Seconds a token at `position` (1 = next) is likely to wait: `position` over the recent
 * admission rate (`admittedInWindow` admissions over {@link ADMISSION_RATE_WINDOW_MS}),
 * rounded up; without recent admissions the bound `ceil(position / activeLimit)` active
 * periods. Always an integer >= 0.
 */
export function estimatedWaitSeconds(position: number, admittedInWindow: number, settings: QueueSettings): number {
  if (position <= 0) return 0;
  if (admittedInWindow > 0) return Math.ceil(position / (admittedInWindow / (ADMISSION_RATE_WINDOW_MS / 1000)));
  return Math.ceil(position / settings.activeLimit) * Math.ceil(settings.activeMs / 1000);
}

/** An instant of a row as ISO 8601 UTC, or null. */
function iso(instant: Date | string | null): string | null {
  return instant === null ? null : new Date(instant).toISOString();
}

/**
 * The view of token `row`. `position` is its live position when WAITING (ignored
 * otherwise); `admittedInWindow` the admissions of its performance over the rate window
 * (read only for a WAITING token: see {@link estimatedWaitSeconds}).
 */
export function toQueueTokenView(row: QueueTokenRow, position: number, admittedInWindow: number, settings: QueueSettings): QueueTokenView {
  const live = row.status === 'WAITING' || row.status === 'ACTIVE';
  const waiting = row.status === 'WAITING';
  return {
    tokenId: row.id,
    performanceId: row.performance_id,
    userId: row.user_id,
    status: row.status,
    ticket: Number(row.ticket),
    position: live ? (waiting ? position : 0) : null,
    estimatedWaitSeconds: live ? (waiting ? estimatedWaitSeconds(position, admittedInWindow, settings) : 0) : null,
    activeUntil: iso(row.active_until),
    joinedAt: iso(row.joined_at)!,
    admittedAt: iso(row.admitted_at),
    endedAt: iso(row.ended_at),
    endReason: row.end_reason,
    links: { self: queueTokenPath(row.id) },
  };
}

/**
 * The view of a token just joined (or found live) at `position`: a WAITING one reads the
 * performance's recent admissions from `rates` (after the join's transaction), an ACTIVE
 * one needs nothing more.
 */
export async function joinedTokenView(rates: AdmissionRates, row: QueueTokenRow, position: number, settings: QueueSettings): Promise<QueueTokenView> {
  const admitted = row.status === 'WAITING' ? await rates.admittedInWindow(row.performance_id) : 0;
  return toQueueTokenView(row, position, admitted, settings);
}

/** One row of {@link findQueueTokenView}'s statement. */
interface TokenReadRow extends QueueTokenRow {
  ahead: number | null;
  admitted_in_window: number | null;
}

/**
 * Token `tokenId` as {@link QueueTokenView}, with its live position, in one statement
 * (the position and the admission rate are counted only for a WAITING token).
 *
 * @returns null when there is no such token.
 */
export async function findQueueTokenView(orm: Orm, tokenId: string, settings: QueueSettings): Promise<QueueTokenView | null> {
  const columns = QUEUE_TOKEN_COLUMNS.split(', ').map((c) => `t.${c}`).join(', ');
  const [row] = await orm.em.fork().execute<TokenReadRow[]>(
    `select ${columns},
       case when t.status = 'WAITING' then (select count(*)::int from queue_tokens w
         where w.performance_id = t.performance_id and w.status = 'WAITING' and w.ticket < t.ticket) end as ahead,
       case when t.status = 'WAITING' then (select count(*)::int from queue_tokens a
         where a.performance_id = t.performance_id
           and a.admitted_at > clock_timestamp() - make_interval(secs => ?::double precision / 1000)) end as admitted_in_window
     from queue_tokens t where t.id = ?`,
    [ADMISSION_RATE_WINDOW_MS, tokenId] as never[],
    'all',
  );
  if (!row) return null;
  return toQueueTokenView(row, (row.ahead ?? 0) + 1, row.admitted_in_window ?? 0, settings);
}

/** The user who owns token `tokenId`, or undefined when there is no such token. */
export async function queueTokenOwner(orm: Orm, tokenId: string): Promise<number | undefined> {
  const [row] = await orm.em.fork().execute<{ user_id: number }[]>('select user_id from queue_tokens where id = ?', [tokenId] as never[], 'all');
  return row?.user_id;
}
