/**
 * The waiting queue's gate on holding seats and paying (issue 15): `POST /reservations`
 * and `POST /reservations/:id/payment` need the caller's ACTIVE queue token for the
 * performance in header `Queue-Token` (common/queue.ts). The check runs before anything
 * starts and takes no lock, so it changes nothing when it refuses; the saga's first step
 * (activities/seats.ts `createReservation`) checks the hold's token again under the
 * token's row lock and decides a race (a token that ended, or that another hold took,
 * after this check).
 *
 * Refusals (problem details, api/errors.ts `ReservationErrorCode`):
 * - 403 `QueueTokenRequired`: no header, or a token that is unknown, not the caller's, for
 *   another performance, or (paying) not the token the reservation was held with;
 * - 403 `QueueTokenNotActive` (members `tokenId, position`): the token is still WAITING;
 * - 403 `QueueTokenExpired` (member `tokenId`): it ended (paid, timed out, cancelled), or
 *   it is ACTIVE past its `activeUntil` and the admission driver has not ended it yet;
 * - 409 `QueueTokenInUse` (members `tokenId, reservationId`), holds only: the token
 *   already admits another PENDING reservation (one at a time);
 * - 400 `ValidationFailed` (path `Queue-Token`): the header is not one UUID.
 */
import { z } from 'zod';
import { QUEUE_TOKEN_HEADER } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { waitingPosition } from '../../db/queue.ts';
import { ApiError, ReservationErrorCode, validationError } from '../errors.ts';

const TokenId = z.uuid();

/**
 * Reads the optional `Queue-Token` header: the token id, lower-cased, or undefined when
 * the header is absent (whether that is allowed is the check's to say).
 *
 * @throws ApiError 400 `ValidationFailed` (path `Queue-Token`) unless it is one UUID.
 */
export function readQueueTokenHeader(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers[QUEUE_TOKEN_HEADER.toLowerCase()];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !TokenId.safeParse(raw).success) {
    throw validationError([{ path: QUEUE_TOKEN_HEADER, message: 'must be a UUID (the tokenId of POST /queue/tokens)' }]);
  }
  return raw.toLowerCase();
}

/** A queue token as the check reads it; `lapsed`: its `activeUntil` has passed. */
interface TokenState {
  userId: number;
  performanceId: number;
  ticket: number;
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED' | 'CANCELLED';
  lapsed: boolean;
}

/** The columns of {@link TokenState} from `queue_tokens t` (all null when there is no token). */
const TOKEN_SELECT = `t.user_id as "userId", t.performance_id as "performanceId", t.ticket, t.status,
  coalesce(t.active_until <= clock_timestamp(), false) as lapsed`;

/** The 403 `QueueTokenRequired` error: `reason` says what is missing, for the `detail`. */
function tokenRequired(reason: string): ApiError {
  return new ApiError(403, ReservationErrorCode.QueueTokenRequired, `${reason}: join the queue (POST /queue/tokens) and send its tokenId in the ${QUEUE_TOKEN_HEADER} header`);
}

/**
 * Refuses `token` (id `tokenId`) unless it is `userId`'s ACTIVE token for `performanceId`
 * within its `activeUntil`.
 *
 * @throws ApiError 403 `QueueTokenRequired` / `QueueTokenNotActive` (with the live
 *   position) / `QueueTokenExpired`.
 */
async function assertActiveToken(
  orm: Orm,
  tokenId: string,
  token: TokenState | undefined,
  owner: { userId: number; performanceId: number },
): Promise<void> {
  if (!token || token.userId !== owner.userId || token.performanceId !== owner.performanceId) {
    throw tokenRequired(`Queue token ${tokenId} does not admit user ${owner.userId} to performance ${owner.performanceId}`);
  }
  if (token.status === 'WAITING') {
    const position = await waitingPosition(orm.em.fork(), token.performanceId, token.ticket);
    throw new ApiError(403, ReservationErrorCode.QueueTokenNotActive, `Queue token ${tokenId} is still waiting, at position ${position}`, {
      details: { tokenId, position },
    });
  }
  if (token.status !== 'ACTIVE' || token.lapsed) {
    throw new ApiError(403, ReservationErrorCode.QueueTokenExpired, `Queue token ${tokenId} has ended: join the queue again`, { details: { tokenId } });
  }
}

/** What the hold check needs: the (derived) reservation id, the caller and the performance, the header's token. */
export interface HoldTokenRequest {
  reservationId: string;
  userId: number;
  performanceId: number;
  tokenId: string | undefined;
}

/**
 * The queue's admission of a new hold (`POST /reservations`): `tokenId` must be the
 * caller's ACTIVE token for the performance and admit no other PENDING reservation. A
 * request whose reservation row already exists (a repeated Idempotency-Key) is not
 * checked: its saga or row answers it.
 *
 * @throws ApiError 403 `QueueTokenRequired` / `QueueTokenNotActive` / `QueueTokenExpired`,
 *   409 `QueueTokenInUse` (members `tokenId, reservationId`); nothing is changed.
 */
export async function checkHoldQueueToken(orm: Orm, request: HoldTokenRequest): Promise<void> {
  const { reservationId, tokenId } = request;
  const [row] = await orm.em.fork().execute<(TokenState & { replay: boolean; pendingId: string | null })[]>(
    `select exists (select 1 from reservations where id = ?) as replay, ${TOKEN_SELECT},
            (select r.id from reservations r where r.queue_token_id = t.id and r.status = 'PENDING' and r.id <> ? limit 1) as "pendingId"
     from (select 1) one left join queue_tokens t on t.id = ?`,
    [reservationId, reservationId, tokenId ?? null],
  );
  if (row?.replay) return;
  if (tokenId === undefined) throw tokenRequired('Holding seats needs an ACTIVE queue token');
  await assertActiveToken(orm, tokenId, row?.userId == null ? undefined : row, request);
  if (row?.pendingId) {
    throw new ApiError(409, ReservationErrorCode.QueueTokenInUse, `Queue token ${tokenId} already admits reservation ${row.pendingId}: pay or cancel it first`, {
      details: { tokenId, reservationId: row.pendingId },
    });
  }
}

/** What the payment check needs: the reservation, the caller, the header's token. */
export interface PaymentTokenRequest {
  reservationId: string;
  userId: number;
  tokenId: string | undefined;
}

/**
 * The queue's admission of a payment (`POST /reservations/:id/payment`): `tokenId` must be
 * the caller's ACTIVE token for the reservation's performance, and the token the
 * reservation was held with when its row records one. A reservation that has ended
 * (CONFIRMED, CANCELLED, EXPIRED, COMPENSATION_FAILED) is not checked: paying it changes
 * nothing, and its row gives the answer (410 `HoldExpired`, 409). A reservation whose row is not
 * written yet (its hold is not known) is checked against the caller and the token's state
 * only: its performance is not known here, and its saga refuses a payment before the hold.
 *
 * @throws ApiError 403 `QueueTokenRequired` / `QueueTokenNotActive` / `QueueTokenExpired`;
 *   nothing is changed.
 */
export async function checkPaymentQueueToken(orm: Orm, request: PaymentTokenRequest): Promise<void> {
  const { reservationId, userId, tokenId } = request;
  const [row] = await orm.em.fork().execute<(TokenState & { reservationStatus: string | null; reservationPerformanceId: number | null; heldWith: string | null })[]>(
    `select r.status as "reservationStatus", r.performance_id as "reservationPerformanceId", r.queue_token_id as "heldWith", ${TOKEN_SELECT}
     from (select 1) one left join reservations r on r.id = ? left join queue_tokens t on t.id = ?`,
    [reservationId, tokenId ?? null],
  );
  if (row?.reservationStatus && row.reservationStatus !== 'PENDING') return;
  if (tokenId === undefined) throw tokenRequired('Paying needs the ACTIVE queue token the seats were held with');
  if (row?.heldWith && row.heldWith !== tokenId) {
    throw tokenRequired(`Reservation ${reservationId} was held with another queue token than ${tokenId}`);
  }
  const token = row?.userId == null ? undefined : row;
  const performanceId = row?.reservationPerformanceId ?? token?.performanceId ?? 0;
  await assertActiveToken(orm, tokenId, token, { userId, performanceId });
}
