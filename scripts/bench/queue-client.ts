/**
 * What a client of the waiting queue sends, over keep-alive HTTP/1.1 (undici), as the
 * user whose bearer token it carries: join (`POST /queue/tokens`), read its token
 * (`GET /queue/tokens/:id`), cancel it (`DELETE /queue/tokens/:id`), hold one seat
 * (`POST /reservations` with the `Queue-Token` header) and pay (`POST
 * /reservations/:id/payment`, the header too), following a 202 by reading the
 * reservation until the hold or the payment is known. Never throws: a transport error or
 * an unexpected answer comes back as an {@link HttpFailure}.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { QUEUE_TOKEN_HEADER } from '../../common/queue.ts';

/** The members of a queue token view (`POST /queue/tokens`, `GET /queue/tokens/:id`) the bench reads. */
export interface QueueTokenAnswer {
  tokenId: string;
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED' | 'CANCELLED';
  /** Arrival number within the performance. */
  ticket: number;
  /** WAITING: 1 = next; 0 when ACTIVE; null once ended. */
  position: number | null;
  /** The API's estimate of the wait, in s (null or absent when it has none). */
  estimatedWaitSeconds?: number | null;
}

/** An answer that is not the one wanted: `code` is `<HTTP status> <problem code>`, or the transport error's code. */
export interface HttpFailure {
  failed: true;
  code: string;
}

/** A request's outcome: the answer's HTTP status and its parsed JSON body, or a failure. */
type Answer = { failed: false; status: number; body: Record<string, unknown> } | HttpFailure;

/** Longest wait for any one answer, in ms. */
const ANSWER_TIMEOUT_MS = 60_000;
/** How often a 202's reservation is read until the hold or payment is known, in ms. */
const PENDING_POLL_MS = 100;
/** Longest wait for a 202's hold or payment, in ms. */
const PENDING_TIMEOUT_MS = 60_000;

async function send(pool: Pool, bearer: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, queueToken?: string): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (queueToken) headers[QUEUE_TOKEN_HEADER.toLowerCase()] = queueToken;
  try {
    const res = await pool.request({
      path,
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: ANSWER_TIMEOUT_MS,
      bodyTimeout: ANSWER_TIMEOUT_MS,
    });
    const text = await res.body.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // a non-JSON answer keeps an empty body; its status says enough
    }
    return { failed: false, status: res.statusCode, body: parsed };
  } catch (err) {
    return { failed: true, code: (err as { code?: string }).code ?? (err as Error).message };
  }
}

function failure(answer: Answer): HttpFailure {
  if (answer.failed) return answer;
  return { failed: true, code: `${answer.status} ${typeof answer.body.code === 'string' ? answer.body.code : '?'}` };
}

/** Whether `x` is a failure rather than an answer. */
export function isFailure<T>(x: T | HttpFailure): x is HttpFailure {
  return typeof x === 'object' && x !== null && (x as HttpFailure).failed === true;
}

/** A queue token view of a 200/201 answer, or a failure. */
function tokenOf(answer: Answer, okStatuses: number[]): (QueueTokenAnswer & { httpStatus: number }) | HttpFailure {
  if (answer.failed || !okStatuses.includes(answer.status)) return failure(answer);
  return { ...(answer.body as unknown as QueueTokenAnswer), httpStatus: answer.status };
}

/** `POST /queue/tokens {performanceId}`: the caller's token (201 new, 200 their live one), or a failure. */
export async function joinQueue(pool: Pool, bearer: string, performanceId: number): Promise<(QueueTokenAnswer & { httpStatus: number }) | HttpFailure> {
  return tokenOf(await send(pool, bearer, 'POST', '/queue/tokens', { performanceId }), [200, 201]);
}

/** `GET /queue/tokens/:id`: the token with its live position, or a failure. */
export async function readQueueToken(pool: Pool, bearer: string, tokenId: string): Promise<QueueTokenAnswer | HttpFailure> {
  return tokenOf(await send(pool, bearer, 'GET', `/queue/tokens/${tokenId}`), [200]);
}

/** `DELETE /queue/tokens/:id` (frees the slot of a client that gave up); the outcome is not checked. */
export async function cancelQueueToken(pool: Pool, bearer: string, tokenId: string): Promise<void> {
  await send(pool, bearer, 'DELETE', `/queue/tokens/${tokenId}`);
}

/** `DELETE /reservations/:id` (releases the hold of a client that gave up); the outcome is not checked. */
export async function cancelReservation(pool: Pool, bearer: string, reservationId: string): Promise<void> {
  await send(pool, bearer, 'DELETE', `/reservations/${reservationId}`);
}

/**
 * Holds `seatId` of `performanceId` admitted by queue token `queueToken`: resolves with the
 * reservation id once the seats are held (201, or a 202 followed until the saga's
 * `holdSeats` step completed: the reservation's row and its hold expiry exist before
 * that, and a payment then is refused `SeatUnavailable`), else a failure.
 */
export async function holdSeat(pool: Pool, bearer: string, queueToken: string, performanceId: number, seatId: number): Promise<{ reservationId: string } | HttpFailure> {
  const answer = await send(pool, bearer, 'POST', '/reservations', { performanceId, seatIds: [seatId] }, queueToken);
  if (answer.failed || (answer.status !== 201 && answer.status !== 202)) return failure(answer);
  const reservationId = String(answer.body.reservationId);
  if (answer.status === 201) return { reservationId };
  const held = await followReservation(pool, bearer, reservationId, (v) => v.status === 'PENDING' && seatsHeld(v.saga));
  return isFailure(held) ? held : { reservationId };
}

/** Pays reservation `reservationId` with `queueToken`: resolves once it is CONFIRMED (200, or a 202 followed), else a failure. */
export async function payReservation(pool: Pool, bearer: string, queueToken: string, reservationId: string): Promise<{ confirmed: true } | HttpFailure> {
  const answer = await send(pool, bearer, 'POST', `/reservations/${reservationId}/payment`, {}, queueToken);
  if (answer.failed || (answer.status !== 200 && answer.status !== 202)) return failure(answer);
  if (answer.status === 200) return answer.body.status === 'CONFIRMED' ? { confirmed: true } : { failed: true, code: `200 ${String(answer.body.status)}` };
  const done = await followReservation(pool, bearer, reservationId, (v) => v.status === 'CONFIRMED');
  return isFailure(done) ? done : { confirmed: true };
}

/** Whether a reservation's saga progress shows its `holdSeats` step completed. */
function seatsHeld(saga: unknown): boolean {
  const steps = (saga as { steps?: { name?: string; state?: string }[] } | null | undefined)?.steps ?? [];
  return steps.some((step) => step.name === 'holdSeats' && step.state === 'completed');
}

/** Reads `GET /reservations/:id` until `reached` holds; a status that ended otherwise, or the timeout, is a failure. */
async function followReservation(pool: Pool, bearer: string, reservationId: string, reached: (view: { status?: unknown; saga?: unknown }) => boolean): Promise<true | HttpFailure> {
  const deadline = performance.now() + PENDING_TIMEOUT_MS;
  while (performance.now() < deadline) {
    await sleep(PENDING_POLL_MS);
    const answer = await send(pool, bearer, 'GET', `/reservations/${reservationId}`);
    if (answer.failed || answer.status !== 200) continue;
    if (reached(answer.body)) return true;
    if (answer.body.status !== 'PENDING') return { failed: true, code: `reservation ${String(answer.body.status)} ${String(answer.body.reason ?? '')}`.trim() };
  }
  return { failed: true, code: 'reservation outcome unknown after 60 s' };
}
