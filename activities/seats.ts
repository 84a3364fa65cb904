/**
 * Reservations bounded context: creating a reservation, holding and releasing its
 * seats, and closing it. One transaction each, idempotent by reservation id. Confirming
 * it is the pivot, in activities/pivots.ts, because it spans contexts.
 *
 * Tables: `reservations`, `seats`. One exception (test/unit/table-ownership.test.ts):
 * createReservation reads Points' `point_accounts` (the user exists).
 *
 * Concurrency: every step locks the reservation row first (serializing one saga's
 * steps), then the seat rows in ascending id order (`FOR UPDATE`), so two reservations
 * racing for one seat never deadlock and exactly one holds it.
 *
 * Expired holds: `holdSeats` may take a seat whose hold has expired (hold_expires_at in
 * the past) even before the old reservation's timer has released it, so a seat is never
 * blocked past its expiry because a worker was down. Every release and the confirmation
 * (confirmReservation, in pivots.ts) only touch seats still held by their own
 * reservation, so the late release of the old hold leaves the new holder alone, and its
 * late payment cannot confirm seats it lost.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { FailureType } from '../common/failures.ts';
import type { ReservationStatus } from '../common/reservations.ts';
import { businessFailure, inTransaction, insertOnce, sql } from './tx.ts';

/** Input of {@link createReservation}; `holdExpiresAt` is an ISO-8601 instant. */
export interface CreateReservationInput {
  reservationId: string;
  userId: number;
  performanceId: number;
  seatIds: number[];
  holdExpiresAt: string;
  workflowId: string;
  requestHash: string;
  /** The caller's queue token that admits the hold (absent in sagas started before the waiting queue). */
  queueTokenId?: string | undefined;
}

/** A reservation as created or found: total in won. */
export interface CreatedReservation {
  reservationId: string;
  status: ReservationStatus;
  totalWon: number;
  seatIds: number[];
}

/** Input of the seat steps: the reservation meant. */
export interface SeatsInput {
  reservationId: string;
}

/** Input of {@link closeReservation}. */
export interface CloseReservationInput {
  reservationId: string;
  status: 'CANCELLED' | 'EXPIRED' | 'COMPENSATION_FAILED';
  reason: string;
  message: string;
}

/** A seat as {@link lockSeats} returns it. */
export interface SeatRow {
  id: number;
  status: 'AVAILABLE' | 'HELD' | 'RESERVED';
  reservation_id: string | null;
  expired: boolean;
}

/** Per-user caps of {@link createReservation}: live holds (PENDING, not expired) and the seats they hold. */
export interface HoldLimits {
  maxLiveHolds: number;
  maxHeldSeats: number;
}

/** The caps when none are given (RESERVATION_MAX_LIVE_HOLDS, RESERVATION_MAX_HELD_SEATS defaults). */
export const DEFAULT_HOLD_LIMITS: HoldLimits = { maxLiveHolds: 4, maxHeldSeats: 8 };

/**
 * First key of the transaction-scoped advisory lock that serializes one user's new
 * reservations (`pg_advisory_xact_lock(HOLD_LIMIT_LOCK_SPACE, userId)`); the second is the
 * user id. A lock on the user, not on another context's row.
 */
export const HOLD_LIMIT_LOCK_SPACE = 0x5ea7;

/** Dependencies of the seat activities. */
export interface SeatDeps {
  orm: Orm;
  /** Per-user hold caps; default {@link DEFAULT_HOLD_LIMITS}. */
  holdLimits?: HoldLimits | undefined;
}

/** Builds the seat reservation activities. */
export function createSeatActivities({ orm, holdLimits = DEFAULT_HOLD_LIMITS }: SeatDeps) {
  return {
    /**
     * Step 0 of the reservation saga: inserts the reservation as PENDING, priced from
     * its seats. Idempotent. Changes no seat, so it needs no compensation. One user's
     * new reservations are serialized by an advisory lock on the user, so the hold caps
     * hold under any concurrency (the API checks them first, without the lock).
     *
     * @throws UnknownUser / UnknownSeat (non-retryable); nothing is written.
     * @throws HoldLimitExceeded (non-retryable, details `{ userId, liveHolds, heldSeats,
     *   requestedSeats, maxLiveHolds, maxHeldSeats }`) when the user's live holds are at
     *   `maxLiveHolds` or their seats would exceed `maxHeldSeats`; nothing is written.
     * @throws QueueTokenRequired / QueueTokenNotActive / QueueTokenExpired /
     *   QueueTokenInUse (non-retryable) from {@link checkQueueToken}; nothing is written.
     */
    async createReservation(input: CreateReservationInput): Promise<CreatedReservation> {
      return insertOnce(() => inTransaction(orm, async (em) => {
        const [existing] = await sql<{ status: ReservationStatus; total_won: number }>(
          em,
          'select status, total_won from reservations where id = ?',
          [input.reservationId],
        );
        if (existing) return { reservationId: input.reservationId, status: existing.status, totalWon: existing.total_won, seatIds: input.seatIds };
        const users = await sql(em, 'select user_id from point_accounts where user_id = ?', [input.userId]);
        if (users.length === 0) throw businessFailure(FailureType.UnknownUser, `User ${input.userId} does not exist`, { userId: input.userId });
        const seats = await sql<{ id: number; price_won: number }>(
          em,
          'select id, price_won from seats where performance_id = ? and id in (?)',
          [input.performanceId, input.seatIds],
        );
        const unknown = input.seatIds.filter((id) => !seats.some((s) => s.id === id));
        if (unknown.length > 0) {
          throw businessFailure(FailureType.UnknownSeat, `Seats ${unknown.join(', ')} are not seats of performance ${input.performanceId}`, {
            seatIds: unknown,
          });
        }
        await checkHoldLimits(em, holdLimits, input);
        await checkQueueToken(em, input);
        const totalWon = seats.reduce((sum, s) => sum + s.price_won, 0);
        await sql(
          em,
          `insert into reservations (id, user_id, performance_id, seat_ids, status, total_won, hold_expires_at,
             workflow_id, request_hash, queue_token_id, created_at, updated_at)
           values (?, ?, ?, ?::jsonb, 'PENDING', ?, ?, ?, ?, ?, now(), now())`,
          [
            input.reservationId, input.userId, input.performanceId, JSON.stringify(input.seatIds), totalWon, input.holdExpiresAt, input.workflowId,
            input.requestHash, input.queueTokenId ?? null,
          ],
        );
        return { reservationId: input.reservationId, status: 'PENDING', totalWon, seatIds: input.seatIds };
      }));
    },

    /**
     * Step 1: holds every requested seat (AVAILABLE, or HELD by an expired hold) for the
     * reservation until its `hold_expires_at`, all or none. Idempotent. Compensation:
     * {@link releaseSeats}.
     *
     * @throws SeatUnavailable (non-retryable, details.seatIds) when any seat is taken; nothing changes.
     * @throws SagaAlreadyCompensated (non-retryable) when the reservation's seats were already released.
     */
    async holdSeats({ reservationId }: SeatsInput): Promise<{ reservationId: string; seatIds: number[]; holdExpiresAt: string }> {
      return inTransaction(orm, async (em) => {
        const reservation = await lockReservation(em, reservationId);
        if (reservation.seats_released_at) {
          throw businessFailure(FailureType.SagaAlreadyCompensated, `Seats of reservation ${reservationId} were already released`, { reservationId });
        }
        const seats = await lockSeats(em, reservation.seat_ids);
        const taken = seats.filter((s) => s.reservation_id !== reservationId && !(s.status === 'AVAILABLE' || (s.status === 'HELD' && s.expired)));
        if (taken.length > 0) {
          throw businessFailure(FailureType.SeatUnavailable, `Seats ${taken.map((s) => s.id).join(', ')} are not available`, {
            seatIds: taken.map((s) => s.id),
          });
        }
        await sql(
          em,
          `update seats set status = 'HELD', reservation_id = ?, hold_expires_at = ?
           where id in (?)`,
          [reservationId, reservation.hold_expires_at, reservation.seat_ids],
        );
        return { reservationId, seatIds: reservation.seat_ids, holdExpiresAt: new Date(reservation.hold_expires_at).toISOString() };
      });
    },

    /**
     * Compensation of {@link holdSeats}, and the expiry/cancellation path: makes every
     * seat still HELD by this reservation AVAILABLE again and records the release, so a
     * late hold attempt is refused. Idempotent; never touches RESERVED seats or seats
     * another reservation holds now.
     */
    async releaseSeats({ reservationId }: SeatsInput): Promise<{ reservationId: string; releasedSeatIds: number[] }> {
      return inTransaction(orm, async (em) => {
        const reservation = await lockReservation(em, reservationId);
        await lockSeats(em, reservation.seat_ids);
        const released = await sql<{ id: number }>(
          em,
          `update seats set status = 'AVAILABLE', reservation_id = null, hold_expires_at = null
           where id in (?) and reservation_id = ? and status = 'HELD' returning id`,
          [reservation.seat_ids, reservationId],
        );
        await sql(em, 'update reservations set seats_released_at = coalesce(seats_released_at, now()), updated_at = now() where id = ?', [reservationId]);
        return { reservationId, releasedSeatIds: released.map((r) => r.id).sort((a, b) => a - b) };
      });
    },

    /**
     * Ends a PENDING reservation as CANCELLED, EXPIRED or COMPENSATION_FAILED with a
     * reason. Idempotent; never changes a CONFIRMED reservation (returns its status). A
     * no-op without a reservation row (status null): the saga closes whenever
     * createReservation was attempted, also when the step failed or its result never arrived.
     */
    async closeReservation(input: CloseReservationInput): Promise<{ reservationId: string; status: ReservationStatus | null }> {
      return inTransaction(orm, async (em) => {
        const [reservation] = await sql<{ status: ReservationStatus }>(em, 'select status from reservations where id = ? for update', [
          input.reservationId,
        ]);
        if (!reservation) return { reservationId: input.reservationId, status: null };
        if (reservation.status !== 'PENDING' && reservation.status !== 'COMPENSATION_FAILED') {
          return { reservationId: input.reservationId, status: reservation.status };
        }
        await sql(em, 'update reservations set status = ?, reason = ?, message = ?, updated_at = now() where id = ?', [
          input.status,
          input.reason.slice(0, 64),
          input.message,
          input.reservationId,
        ]);
        return { reservationId: input.reservationId, status: input.status };
      });
    },
  };
}

/** The reservation row as the seat steps and the pivot read it. */
export interface ReservationRow {
  status: ReservationStatus;
  seat_ids: number[];
  hold_expires_at: string;
  seats_released_at: string | null;
  workflow_id: string;
}

/** Locks the reservation row (`FOR UPDATE`), the first lock of every seat step; a missing one is a bug. */
export async function lockReservation(em: EntityManager, reservationId: string): Promise<ReservationRow> {
  const [row] = await sql<ReservationRow>(
    em,
    'select status, seat_ids, hold_expires_at, seats_released_at, workflow_id from reservations where id = ? for update',
    [reservationId],
  );
  // The saga creates the reservation before any seat step; its absence is a bug.
  if (!row) throw new Error(`Reservation ${reservationId} does not exist`);
  return row;
}

/** Locks the seats in ascending id order (`FOR UPDATE`), each with whether its hold has expired. */
export function lockSeats(em: EntityManager, seatIds: number[]): Promise<SeatRow[]> {
  return sql<SeatRow>(
    em,
    `select id, status, reservation_id, (hold_expires_at is not null and hold_expires_at <= now()) as expired
     from seats where id in (?) order by id for update`,
    [seatIds],
  );
}

/**
 * Refuses the new reservation `input` past the caps: takes its user's advisory lock (held
 * until the transaction ends, so a concurrent createReservation of the same user waits
 * here and then counts this one), then counts the user's live holds (PENDING reservations
 * whose hold has not expired) and their seats. The reservation itself is left out of the
 * count: an overlapping attempt of the same step that committed first is then found by
 * the insert's duplicate key (insertOnce), not refused.
 *
 * @throws HoldLimitExceeded (non-retryable) with the counts and the caps.
 */
async function checkHoldLimits(em: EntityManager, limits: HoldLimits, input: CreateReservationInput): Promise<void> {
  const { userId, reservationId } = input;
  const requestedSeats = input.seatIds.length;
  await sql(em, 'select pg_advisory_xact_lock(?, ?)', [HOLD_LIMIT_LOCK_SPACE, userId]);
  const [live] = await sql<{ holds: number; seats: number }>(
    em,
    `select count(*)::int as holds, coalesce(sum(jsonb_array_length(seat_ids)), 0)::int as seats
     from reservations where user_id = ? and status = 'PENDING' and hold_expires_at > now() and id <> ?`,
    [userId, reservationId],
  );
  const liveHolds = live?.holds ?? 0;
  const heldSeats = live?.seats ?? 0;
  if (liveHolds + 1 <= limits.maxLiveHolds && heldSeats + requestedSeats <= limits.maxHeldSeats) return;
  throw businessFailure(
    FailureType.HoldLimitExceeded,
    `User ${userId} has ${liveHolds} live holds of ${heldSeats} seats; at most ${limits.maxLiveHolds} holds and ${limits.maxHeldSeats} seats (asked for ${requestedSeats} more)`,
    { userId, liveHolds, heldSeats, requestedSeats, maxLiveHolds: limits.maxLiveHolds, maxHeldSeats: limits.maxHeldSeats },
  );
}

/**
 * With `input.queueTokenId`, the waiting queue's admission of the hold, decided under the
 * token's row lock (the API checked first, without it): the token must be the user's for
 * this performance, ACTIVE and within its `activeUntil`, and admit no other PENDING
 * reservation (a token admits one at a time; a partial unique index backs this). The
 * reservation row then records the token, and the pivot ends it (activities/pivots.ts).
 *
 * @throws QueueTokenRequired, QueueTokenNotActive (details `{ tokenId }`),
 *   QueueTokenExpired, QueueTokenInUse (details `{ tokenId, reservationId }`), all non-retryable.
 */
async function checkQueueToken(em: EntityManager, input: CreateReservationInput): Promise<void> {
  const tokenId = input.queueTokenId;
  if (tokenId === undefined) return;
  const [token] = await sql<{ user_id: number; performance_id: number; status: string; lapsed: boolean }>(
    em,
    'select user_id, performance_id, status, active_until <= clock_timestamp() as lapsed from queue_tokens where id = ? for update',
    [tokenId],
  );
  if (!token || token.user_id !== input.userId || token.performance_id !== input.performanceId) {
    throw businessFailure(FailureType.QueueTokenRequired, `Queue token ${tokenId} does not admit user ${input.userId} to performance ${input.performanceId}`, { tokenId });
  }
  if (token.status === 'WAITING') throw businessFailure(FailureType.QueueTokenNotActive, `Queue token ${tokenId} is still waiting`, { tokenId });
  if (token.status !== 'ACTIVE' || token.lapsed) throw businessFailure(FailureType.QueueTokenExpired, `Queue token ${tokenId} has ended`, { tokenId });
  const [pending] = await sql<{ id: string }>(
    em,
    `select id from reservations where queue_token_id = ? and status = 'PENDING' and id <> ?`,
    [tokenId, input.reservationId],
  );
  if (pending) {
    throw businessFailure(FailureType.QueueTokenInUse, `Queue token ${tokenId} already admits reservation ${pending.id}`, { tokenId, reservationId: pending.id });
  }
}
