/**
 * Queue tokens for the suites that hold seats and pay through the API (issue 15): `POST
 * /reservations` and `POST /reservations/:id/payment` need the caller's ACTIVE queue token
 * in header `Queue-Token`. {@link callApi} (stack.ts) sends one on the suites' behalf
 * ({@link queueTokenHeader}) unless the request carries its own, so the suites that are not
 * about the queue read as before. Tokens are taken with db/queue.ts `joinQueue` on the
 * test database, as `POST /queue/tokens` does, and awaited until ACTIVE (the admission
 * driver admits them when slots free up).
 */
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../../config/index.ts';
import { QUEUE_TOKEN_HEADER, type QueueSettings } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { QUEUE_TOKEN_COLUMNS, type QueueTokenRow } from '../../db/queue.ts';
import { joinQueue, liveToken } from '../../db/queue-tokens.ts';
import { pollUntil } from './waiting.ts';

/** What a test's queue tokens are taken with: the stack's ORM and, for its admission rules, its config. */
export interface QueueTokenSource {
  orm?: Orm;
  config?: AppConfig;
}

/** The admission rules of a source without a config: the tests' default (testConfig: a cap no suite reaches). */
const TEST_QUEUE_SETTINGS: QueueSettings = { activeLimit: 100_000, activeMs: 600_000 };

/** Whether `err` is PostgreSQL's foreign-key violation (SQLSTATE 23503): an unknown performance or user. */
function isForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23503';
}

/**
 * `userId`'s live (WAITING or ACTIVE) queue token for `performanceId`, joining the queue
 * when they have none (as `POST /queue/tokens` does).
 *
 * @returns the token, or undefined when the performance or the user does not exist.
 */
export async function joinTestQueue(orm: Orm, settings: QueueSettings, userId: number, performanceId: number): Promise<QueueTokenRow | undefined> {
  const live = await liveToken(orm.em.fork(), performanceId, userId);
  if (live) return live;
  try {
    return (await joinQueue(orm, { performanceId, userId, newTokenId: randomUUID() }, settings)).token;
  } catch (err) {
    if (isForeignKeyViolation(err)) return undefined;
    throw err;
  }
}

/** A queue token row with its instants as `Date`s. */
export type QueueTokenState = Omit<QueueTokenRow, 'joined_at' | 'admitted_at' | 'active_until' | 'ended_at'> & {
  joined_at: Date;
  admitted_at: Date | null;
  active_until: Date | null;
  ended_at: Date | null;
};

/** The queue token `tokenId` as it is now (instants as `Date`), or undefined. */
export async function readQueueToken(orm: Orm, tokenId: string): Promise<QueueTokenState | undefined> {
  const [row] = await orm.em.fork().execute<QueueTokenRow[]>(`select ${QUEUE_TOKEN_COLUMNS} from queue_tokens where id = ?`, [tokenId]);
  if (!row) return undefined;
  const instant = (value: Date | string | null) => (value === null ? null : new Date(value));
  return {
    ...row,
    joined_at: new Date(row.joined_at),
    admitted_at: instant(row.admitted_at),
    active_until: instant(row.active_until),
    ended_at: instant(row.ended_at),
  };
}

/**
 * Waits until token `tokenId` is no longer WAITING (admitted, or ended meanwhile) and
 * returns it.
 * @throws Error after `timeoutMs` (default 60 s) while it still waits.
 */
export async function awaitAdmission(orm: Orm, tokenId: string, timeoutMs = 60_000): Promise<QueueTokenRow> {
  let token: QueueTokenRow | undefined;
  await pollUntil(`queue token ${tokenId} to be admitted`, async () => {
    token = await readQueueToken(orm, tokenId);
    return token?.status !== 'WAITING';
  }, { timeoutMs, intervalMs: 50 });
  return token!;
}

/**
 * The ACTIVE queue token of `userId` for `performanceId` (joined if needed, awaited until
 * admitted): its id, or undefined when the performance or user does not exist.
 */
export async function activeQueueToken(source: QueueTokenSource & { orm: Orm }, userId: number, performanceId: number): Promise<string | undefined> {
  const token = await joinTestQueue(source.orm, source.config?.queue ?? TEST_QUEUE_SETTINGS, userId, performanceId);
  if (!token) return undefined;
  if (token.status === 'WAITING') await awaitAdmission(source.orm, token.id);
  return token.id;
}

/** The id of the path's reservation when `POST path` is one the queue gates: `''` for a new hold. */
function gatedReservation(method: string, path: string): string | undefined {
  if (method.toUpperCase() !== 'POST') return undefined;
  const pathname = new URL(path, 'http://x').pathname;
  if (/^\/reservations\/?$/.test(pathname)) return '';
  return /^\/reservations\/([0-9a-fA-F-]{36})\/payment\/?$/.exec(pathname)?.[1];
}

/**
 * The `Queue-Token` header a suite's request needs, for {@link callApi}: for `POST
 * /reservations` the ACTIVE token of `userId` for the body's performance; for `POST
 * /reservations/:id/payment` the token the reservation was held with (whatever its state,
 * as a client would send it), else the user's ACTIVE token for its performance, else (no
 * row yet) the user's latest live token. Nothing for other requests, for requests that
 * carry a `Queue-Token` header of their own (any case), without `source.orm`, or when
 * there is no token to send (an unknown performance or user: the API's answer is the test's).
 */
export async function queueTokenHeader(
  source: QueueTokenSource,
  request: { method: string; path: string; body: unknown; headers: Record<string, string> },
  userId: number,
): Promise<Record<string, string>> {
  const reservationId = gatedReservation(request.method, request.path);
  const own = Object.keys(request.headers).some((name) => name.toLowerCase() === QUEUE_TOKEN_HEADER.toLowerCase());
  const { orm } = source;
  if (reservationId === undefined || own || !orm) return {};
  const tokenId = reservationId === '' ? await holdToken(source, orm, request.body, userId) : await paymentToken(source, orm, reservationId, userId);
  return tokenId ? { [QUEUE_TOKEN_HEADER]: tokenId } : {};
}

/** The token a new hold of `body` needs: the user's ACTIVE one for its performance. */
async function holdToken(source: QueueTokenSource, orm: Orm, body: unknown, userId: number): Promise<string | undefined> {
  const performanceId = body !== null && typeof body === 'object' ? (body as { performanceId?: unknown }).performanceId : undefined;
  if (!Number.isSafeInteger(performanceId) || (performanceId as number) < 1 || (performanceId as number) > 2_147_483_647) return undefined;
  return activeQueueToken({ ...source, orm }, userId, performanceId as number);
}

/** The token paying reservation `reservationId` needs (see {@link queueTokenHeader}). */
async function paymentToken(source: QueueTokenSource, orm: Orm, reservationId: string, userId: number): Promise<string | undefined> {
  const [row] = await orm.em.fork().execute<{ performance_id: number; queue_token_id: string | null }[]>(
    'select performance_id, queue_token_id from reservations where id = ?',
    [reservationId],
  );
  if (row?.queue_token_id) return row.queue_token_id;
  if (row) return activeQueueToken({ ...source, orm }, userId, row.performance_id);
  const [latest] = await orm.em.fork().execute<{ id: string }[]>(
    `select id from queue_tokens where user_id = ? and status in ('WAITING', 'ACTIVE') order by joined_at desc limit 1`,
    [userId],
  );
  return latest?.id;
}
