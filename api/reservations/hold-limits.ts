/**
 * The per-user hold caps, checked by `POST /reservations` before the saga starts: a user
 * has at most `RESERVATION_MAX_LIVE_HOLDS` live holds (PENDING reservations whose hold has
 * not expired) and holds at most `RESERVATION_MAX_HELD_SEATS` seats over them. This check
 * takes no lock, so two concurrent requests can both pass it; the saga's first step
 * (activities/seats.ts `createReservation`) checks again under a per-user advisory lock
 * and decides.
 */
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { ApiError, ReservationErrorCode } from '../errors.ts';

/** What the check needs of a reservation request: its (derived) id, its user and seats. */
export interface HoldRequest {
  reservationId: string;
  userId: number;
  seatIds: readonly number[];
}

/**
 * Refuses `request` when its user already has `maxLiveHolds` live holds, or when its seats
 * would take the user's held seats past `maxHeldSeats`. A request whose reservation already
 * exists (a repeated Idempotency-Key) is not checked: its saga or row answers it.
 *
 * @throws ApiError 409 `HoldLimitExceeded` with members `userId, liveHolds, heldSeats,
 *   requestedSeats, maxLiveHolds, maxHeldSeats`; nothing is changed.
 */
export async function checkHoldLimits(orm: Orm, limits: AppConfig['holdLimits'], request: HoldRequest): Promise<void> {
  const { reservationId, userId } = request;
  const [row] = await orm.em.fork().execute<{ holds: number; seats: number; replay: boolean }[]>(
    `select count(*)::int as holds, coalesce(sum(jsonb_array_length(seat_ids)), 0)::int as seats,
            exists (select 1 from reservations where id = ?) as replay
     from reservations where user_id = ? and status = 'PENDING' and hold_expires_at > now() and id <> ?`,
    [reservationId, userId, reservationId],
  );
  if (!row || row.replay) return;
  const requestedSeats = request.seatIds.length;
  if (row.holds + 1 <= limits.maxLiveHolds && row.seats + requestedSeats <= limits.maxHeldSeats) return;
  throw new ApiError(
    409,
    ReservationErrorCode.HoldLimitExceeded,
    `User ${userId} has ${row.holds} live holds of ${row.seats} seats; at most ${limits.maxLiveHolds} holds and ${limits.maxHeldSeats} seats may be held at once`,
    {
      details: {
        userId,
        liveHolds: row.holds,
        heldSeats: row.seats,
        requestedSeats,
        maxLiveHolds: limits.maxLiveHolds,
        maxHeldSeats: limits.maxHeldSeats,
      },
    },
  );
}
