/**
 * Clients of the waiting queue for the reliability suites that run the API as a real
 * process (queue-drain, queue-join-storm): users created in bulk, and a user's whole way
 * through the queue over HTTP as a client would walk it (join, wait until ACTIVE, hold a
 * seat, pay), each step retried with the same request while the API is unreachable or
 * answers 202 / 503, so an API or worker crash in between only delays it. The API's URL is
 * read from an {@link ApiTarget} at every attempt, since a restarted API listens elsewhere.
 */
import { randomUUID } from 'node:crypto';
import { QUEUE_TOKEN_HEADER } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { authHeader } from './auth.ts';
import { pollUntil } from './waiting.ts';

/**
 * Creates `count` users, each with a point account of `balancePoints` topped up by one
 * TOP_UP ledger row (so point conservation holds): one SQL statement per table.
 *
 * @returns the user ids, in creation order.
 */
export async function createQueueUsers(orm: Orm, count: number, balancePoints: number): Promise<number[]> {
  const batch = randomUUID();
  return orm.em.fork().transactional(async (em) => {
    const users = await em.execute<{ id: number }[]>(
      `insert into app_users (name, created_at) select 'queue-' || ? || '-' || n, now() from generate_series(1, ?) n returning id`,
      [batch, count],
    );
    const ids = users.map((u) => u.id).sort((a, b) => a - b);
    await em.execute(
      `insert into point_accounts (user_id, balance_points, updated_at) select id, ?, now() from (select jsonb_array_elements_text(?::jsonb)::int as id) u`,
      [balancePoints, JSON.stringify(ids)],
    );
    if (balancePoints > 0) {
      await em.execute(
        `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
         select id, 'TOP_UP', ?, 'fixture-' || ? || '-' || id, 'fixture-' || ? || '-' || id, now() from (select jsonb_array_elements_text(?::jsonb)::int as id) u`,
        [balancePoints, batch, batch, JSON.stringify(ids)],
      );
    }
    return ids;
  });
}

/**
 * Where the API listens now (a suite that restarts the API process updates `url`), and how
 * often clients sent a request again, by cause (`unreachable`, `202`, `503`), so a suite
 * can show that its crashes were felt.
 */
export interface ApiTarget {
  url: string;
  retries?: Record<string, number>;
}

/** An answer of the API: status and parsed JSON body (undefined when empty). */
export interface Answer {
  status: number;
  body: any;
}

/** A user walking through the queue: id, bearer token, and the seat they will hold. */
export interface QueueUser {
  userId: number;
  token: string;
  seatId: number;
}

/**
 * Sends one JSON request as `user` to the API `target` points at now.
 *
 * @returns the answer, or undefined when the API could not be reached or the connection
 *   broke before the answer (a crashed or restarting API).
 */
export async function send(target: ApiTarget, user: QueueUser, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer | undefined> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(new URL(path, target.url), {
      method,
      headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...authHeader(user.token), ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    text = await res.text();
  } catch {
    return undefined;
  }
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** How long a client keeps retrying one step before the suite fails, in ms (crash recovery included). */
const STEP_TIMEOUT_MS = 180_000;

/**
 * Repeats `attempt` (at most every `intervalMs`) until it returns a value: `undefined` means
 * "try again" (unreachable API, 202, 503, not there yet).
 *
 * @throws what `attempt` throws (an answer the client cannot take), or after {@link STEP_TIMEOUT_MS}.
 */
async function retrying<T>(what: string, attempt: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  let value: T | undefined;
  await pollUntil(what, async () => {
    value = await attempt();
    return value !== undefined;
  }, { timeoutMs: STEP_TIMEOUT_MS, intervalMs });
  return value!;
}

/**
 * The answer the client takes, or undefined when it sends the same request again: no
 * answer, 202 (not known yet) or 503 (retry later), each counted in `target.retries`.
 */
function settled(target: ApiTarget, answer: Answer | undefined): Answer | undefined {
  const cause = answer === undefined ? 'unreachable' : answer.status === 202 || answer.status === 503 ? String(answer.status) : undefined;
  if (cause === undefined) return answer;
  if (target.retries) target.retries[cause] = (target.retries[cause] ?? 0) + 1;
  return undefined;
}

function unexpected(step: string, user: QueueUser, answer: Answer): Error {
  return new Error(`${step} of user ${user.userId}: unexpected ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** `POST /queue/tokens`: the user's token (201 new, 200 their live one, e.g. on a retry after a crash). */
export function joinOverHttp(target: ApiTarget, user: QueueUser, performanceId: number): Promise<{ tokenId: string; ticket: number; status: string }> {
  return retrying(`user ${user.userId} to join`, async () => {
    const answer = settled(target, await send(target, user, 'POST', '/queue/tokens', { body: { performanceId } }));
    if (!answer) return undefined;
    if (answer.status !== 201 && answer.status !== 200) throw unexpected('join', user, answer);
    return answer.body;
  });
}

/** Polls `GET /queue/tokens/:id` until the token is ACTIVE. @throws when it ended instead. */
export async function awaitActiveOverHttp(target: ApiTarget, user: QueueUser, tokenId: string, intervalMs = 300): Promise<void> {
  await retrying(`queue token ${tokenId} to be ACTIVE`, async () => {
    const answer = settled(target, await send(target, user, 'GET', `/queue/tokens/${tokenId}`));
    if (!answer) return undefined;
    if (answer.status !== 200 || (answer.body.status !== 'WAITING' && answer.body.status !== 'ACTIVE')) throw unexpected('wait', user, answer);
    return answer.body.status === 'ACTIVE' ? true : undefined;
  }, intervalMs);
}

/**
 * `POST /reservations` of the user's seat with the token, under one Idempotency-Key for
 * every attempt (a retry rejoins the saga a crashed attempt started); resolves with the
 * reservation id once the seat is held (201).
 */
export function holdOverHttp(target: ApiTarget, user: QueueUser, performanceId: number, tokenId: string): Promise<string> {
  const headers = { [QUEUE_TOKEN_HEADER]: tokenId, 'Idempotency-Key': `queue-hold-${tokenId}` };
  const body = { userId: user.userId, performanceId, seatIds: [user.seatId] };
  return retrying(`user ${user.userId} to hold seat ${user.seatId}`, async () => {
    const answer = settled(target, await send(target, user, 'POST', '/reservations', { body, headers }));
    if (!answer) return undefined;
    if (answer.status !== 201) throw unexpected('hold', user, answer);
    return answer.body.reservationId as string;
  });
}

/**
 * `POST /reservations/:id/payment` with the token until it is paid: 200 CONFIRMED, or 409
 * `AlreadyConfirmed` (an earlier attempt paid, its answer lost with a crash).
 */
export async function payOverHttp(target: ApiTarget, user: QueueUser, reservationId: string, tokenId: string): Promise<void> {
  await retrying(`user ${user.userId} to pay reservation ${reservationId}`, async () => {
    const answer = settled(target, await send(target, user, 'POST', `/reservations/${reservationId}/payment`, { headers: { [QUEUE_TOKEN_HEADER]: tokenId } }));
    if (!answer) return undefined;
    if (answer.status === 200 && answer.body.status === 'CONFIRMED') return true;
    if (answer.status === 409 && answer.body.code === 'AlreadyConfirmed') return true;
    throw unexpected('payment', user, answer);
  });
}

/** What a user's way through the queue left: their token and reservation. */
export interface Booked {
  userId: number;
  tokenId: string;
  reservationId: string;
}

/** The user's whole way: join, wait until ACTIVE, hold their seat, pay. */
export async function bookThroughQueue(target: ApiTarget, user: QueueUser, performanceId: number): Promise<Booked> {
  const { tokenId } = await joinOverHttp(target, user, performanceId);
  await awaitActiveOverHttp(target, user, tokenId);
  const reservationId = await holdOverHttp(target, user, performanceId, tokenId);
  await payOverHttp(target, user, reservationId, tokenId);
  return { userId: user.userId, tokenId, reservationId };
}

/** The `p`-th percentile (0..100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
