/**
 * A user's own side of the waiting queue (common/queue.ts): joining, reading one's live
 * token and its position, cancelling. The admission side is db/queue.ts, whose
 * concurrency rules hold here too (docs/architecture.md, "The waiting queue").
 *
 * Joining is one autocommitted statement for a whole batch of joins of one performance
 * ({@link joinQueueBatch}): it takes the counter row's lock and as many tickets as there
 * are joins, and inserts the tokens in arrival order. The counter's lock is then held
 * for that statement and its commit only, never across a round trip to the API, and one
 * commit (one WAL flush) serves the batch: PostgreSQL serializes the joins of a performance
 * on that row whatever the API does, so this is what bounds how many it takes a second.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { postgresErrorIn } from '../common/db-errors.ts';
import type { QueueSettings } from '../common/queue.ts';
import { poolQuery, type Orm } from './orm.ts';
import { QUEUE_TOKEN_COLUMNS, admitPerformance, admitWaiting, lockQueueCounter, sql, waitingPosition, type QueueTokenRow } from './queue.ts';

/** What a join did: `created` false when the user's live token was returned instead. */
export interface JoinResult {
  token: QueueTokenRow;
  created: boolean;
  /** The position when WAITING (1 = next), 0 when ACTIVE. */
  position: number;
}

/** One join of a batch: the user and the id their new token gets. */
export interface JoinRequest {
  userId: number;
  newTokenId: string;
}

/** The partial unique index allowing one live (WAITING or ACTIVE) token per user and performance. */
export const LIVE_TOKEN_PER_USER_INDEX = 'queue_tokens_live_per_user';

/**
 * User `userId` joins the queue of `performanceId` ({@link joinQueueBatch} of one): a new
 * WAITING (or at once ACTIVE) token with id `newTokenId`, or the user's live token for the
 * performance with `created` false (idempotent per user and performance; nothing written).
 *
 * @throws the foreign-key violation (SQLSTATE 23503) for an unknown performance
 *   (constraint `queue_counters_performance_id_foreign`) or user
 *   (`queue_tokens_user_id_foreign`); nothing is written.
 */
export async function joinQueue(
  orm: Orm,
  request: { performanceId: number } & JoinRequest,
  settings: QueueSettings,
): Promise<JoinResult> {
  const [result] = await joinQueueBatch(orm, request.performanceId, [request], settings);
  if (result instanceof Error) throw result;
  return result!;
}

/**
 * The joins `requests` (in arrival order) of one performance's queue, in one statement:
 * tickets follow the array's order, each token's position is the WAITING tokens before it
 * plus one. When the first of them fits in the cap (`activeLimit`), a short transaction
 * under the counter's lock admits what the free slots allow and the answers are read after
 * it (ACTIVE, or WAITING with the position then), so a queue that was short does not wait
 * for the admission driver.
 *
 * When the statement fails on a user's live token (the partial unique index: a repeated
 * join, or one user twice in the batch) or on a foreign key (an unknown user or
 * performance), it wrote nothing, and each join is run again on its own, so each gets its
 * own answer.
 *
 * @returns per request, in order, what it did, or the foreign-key violation that refused it.
 * @throws database errors other than those, for the whole batch; nothing was written.
 */
export async function joinQueueBatch(
  orm: Orm,
  performanceId: number,
  requests: readonly JoinRequest[],
  settings: QueueSettings,
): Promise<(JoinResult | Error)[]> {
  let inserted: InsertedTokens;
  try {
    inserted = await insertTokens(orm, performanceId, requests);
    if (inserted === 'no-counter') {
      // The performance's first join creates its counter (or the foreign key refuses an unknown performance).
      await poolQuery(orm, 'insert into queue_counters (performance_id) values ($1) on conflict do nothing', [performanceId]);
      inserted = await insertTokens(orm, performanceId, requests);
      if (inserted === 'no-counter') throw new Error(`The queue counter of performance ${performanceId} vanished`);
    }
  } catch (err) {
    const found = postgresErrorIn(err);
    const liveToken = found?.sqlState === '23505' && (found.error as { constraint?: unknown }).constraint === LIVE_TOKEN_PER_USER_INDEX;
    if (requests.length === 1) {
      if (!liveToken) throw err;
      return [await liveTokenResult(orm, performanceId, requests[0]!.userId)];
    }
    if (!liveToken && found?.sqlState !== '23503') throw err;
    const one = (request: JoinRequest) => joinQueue(orm, { performanceId, ...request }, settings).catch((e: unknown) => asError(e));
    const results: (JoinResult | Error)[] = [];
    for (const request of requests) results.push(await one(request));
    return results;
  }
  const { tokens, waitingBefore } = inserted;
  if (waitingBefore + 1 > settings.activeLimit) {
    return tokens.map((token, i) => ({ token, created: true, position: waitingBefore + i + 1 }));
  }
  return orm.em.fork().transactional(async (em) => {
    await lockQueueCounter(em, performanceId);
    await admitWaiting(em, performanceId, settings);
    const now = await sql<QueueTokenRow>(em, `select ${QUEUE_TOKEN_COLUMNS} from queue_tokens where id in (?) order by ticket`, [tokens.map((t) => t.id)]);
    const results: JoinResult[] = [];
    for (const token of now) results.push({ token, created: true, position: await positionOf(em, token) });
    return results;
  });
}

/** The tokens one batch statement inserted (in ticket order) and the WAITING count before them; `no-counter` when the performance has none. */
type InsertedTokens = { tokens: QueueTokenRow[]; waitingBefore: number } | 'no-counter';

/**
 * The batch statement: takes the counter's lock and `requests.length` tickets, and inserts
 * the tokens, ticket `base + i` for the i-th request (1-based).
 *
 * @throws the unique violation of {@link LIVE_TOKEN_PER_USER_INDEX}, foreign-key violations;
 *   the statement, tickets included, is then rolled back as a whole.
 */
async function insertTokens(orm: Orm, performanceId: number, requests: readonly JoinRequest[]): Promise<InsertedTokens> {
  const rows = await poolQuery<QueueTokenRow & { waiting_before: number }>(
    orm,
    `with counter as (
       update queue_counters set last_ticket = last_ticket + $4, waiting = waiting + $4 where performance_id = $1
       returning last_ticket - $4 as base, waiting - $4 as waiting_before
     ), inserted as (
       insert into queue_tokens (id, performance_id, user_id, ticket, status, joined_at)
       select r.id, $1, r.user_id, c.base + r.ord, 'WAITING', clock_timestamp()
       from unnest($2::uuid[], $3::int[]) with ordinality as r(id, user_id, ord), counter c
       returning ${QUEUE_TOKEN_COLUMNS}
     )
     select i.*, (select waiting_before from counter) as waiting_before from inserted i order by i.ticket`,
    [performanceId, requests.map((r) => r.newTokenId), requests.map((r) => r.userId), requests.length],
  );
  if (rows.length === 0) return 'no-counter';
  const waitingBefore = rows[0]!.waiting_before;
  return { tokens: rows.map(({ waiting_before: _w, ...token }) => token), waitingBefore };
}

/** The answer of a join that met the user's live token: that token, `created` false. */
async function liveTokenResult(orm: Orm, performanceId: number, userId: number): Promise<JoinResult> {
  const em = orm.em.fork();
  const live = await liveToken(em, performanceId, userId);
  // The token that refused the insert ended meanwhile: a rare race; joining again is safe.
  if (!live) throw new Error(`The live queue token of user ${userId} for performance ${performanceId} ended during the join; join again`);
  return { token: live, created: false, position: await positionOf(em, live) };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
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

/** A token's live position: {@link waitingPosition} when WAITING, else 0. */
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
