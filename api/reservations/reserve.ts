/**
 * `POST /reservations` behind the route: the saga input built from the request, the
 * references checked before anything starts, and the answer decided from what starting
 * the saga gave (its hold outcome, its row, or nothing yet).
 */
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import {
  FailureType,
  reservationWorkflowId,
  type HoldOutcome,
  type ReservationStatus,
  type SeatReservationInput,
} from '../../common/index.ts';
import { Performance, PointAccount, Seat } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../config/logger.ts';
import type { AppDeps } from '../context.ts';
import { ApiError, ErrorCode } from '../errors.ts';
import { idempotencyKeyReused } from '../idempotency.ts';
import { checkPendingStart } from '../saga-start.ts';
import { pendingReservationBody } from './answers.ts';
import { ReservationErrorCode, reservationFailure } from './errors.ts';
import { startHold } from './hold.ts';
import { reservationIdFor, reservationPath, reservationRequestHash } from './request.ts';
import { loadReservationRecord, type ReservationRecord } from './reservation-view.ts';
import type { CreateReservationBody, HoldView, PendingReservationBody } from './schemas.ts';

/** A validated reservation request: seats of one performance, the hold in seconds if given. */
export type ReservationRequestBody = z.output<typeof CreateReservationBody>;

/** The answer of `POST /reservations`: 201 with the hold, or 202 while it is not known. */
export type HoldAnswerBody = { status: 201; body: HoldView } | { status: 202; body: PendingReservationBody };

/**
 * The saga input of a request: seats sorted ascending, the hold in ms (`defaultHoldSeconds`
 * when not given), the id from the Idempotency-Key and the request's fingerprint.
 */
export function reservationInput(
  body: ReservationRequestBody,
  idempotencyKey: string | undefined,
  defaultHoldSeconds: number,
): SeatReservationInput {
  const { userId, performanceId } = body;
  const seatIds = [...body.seatIds].sort((a, b) => a - b);
  const holdMs = (body.holdSeconds ?? defaultHoldSeconds) * 1000;
  return {
    reservationId: reservationIdFor(userId, idempotencyKey),
    userId,
    performanceId,
    seatIds,
    holdMs,
    requestHash: reservationRequestHash({ userId, performanceId, seatIds, holdMs }),
  };
}

/**
 * Refuses a request whose user, performance or seats do not exist (422), before anything
 * starts. Seats of another performance count as unknown.
 */
export async function checkReferences(orm: Orm, userId: number, performanceId: number, seatIds: number[]): Promise<void> {
  const em = orm.em.fork();
  if ((await em.count(PointAccount, { user: userId })) === 0) {
    throw new ApiError(422, ErrorCode.UnknownUser, `User ${userId} has no point account`, { details: { userId } });
  }
  if ((await em.count(Performance, { id: performanceId })) === 0) {
    throw new ApiError(422, ReservationErrorCode.UnknownPerformance, `No performance ${performanceId}`, {
      details: { performanceId },
    });
  }
  const found = await em.find(Seat, { id: { $in: seatIds }, performance: performanceId }, { fields: ['id'] });
  const known = new Set(found.map((s) => s.id));
  const missing = seatIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new ApiError(422, ReservationErrorCode.UnknownSeat, `Not seats of performance ${performanceId}: ${missing.join(', ')}`, {
      details: { seatIds: missing },
    });
  }
}

/** Decides the answer of `POST /reservations` from what starting the saga gave. */
export async function reserveAnswer(deps: AppDeps, log: Logger, input: SeatReservationInput): Promise<HoldAnswerBody> {
  const { orm, client, config } = deps;
  const keyReused = () => idempotencyKeyReused({ reservationId: input.reservationId });
  const answer = await startHold(client, config.temporal.taskQueue, config.api.orderOutcomeWaitMs, input);
  log.info({ answer: answer.kind }, 'reservation started');
  if (answer.kind === 'outcome') {
    if (answer.outcome.requestHash !== input.requestHash) throw keyReused();
    if (answer.outcome.status !== 'PENDING') return holdAnswer(stateOfOutcome(answer.outcome));
    // The hold outcome stays PENDING for the saga's life; a replayed request after the
    // reservation was paid, cancelled or expired gets the row's later word.
    const record = await loadReservationRecord(orm, input.reservationId);
    return holdAnswer(record && record.status !== 'PENDING' ? stateOfRecord(record) : stateOfOutcome(answer.outcome));
  }
  if (answer.kind === 'closed') {
    const record = await loadReservationRecord(orm, input.reservationId);
    if (!record) throw new ApiError(409, ErrorCode.AlreadyStarted, 'This reservation was already processed and has no record');
    if (record.requestHash !== input.requestHash) throw keyReused();
    return holdAnswer(stateOfRecord(record));
  }
  return pendingHoldAnswer(client, input, keyReused);
}

async function pendingHoldAnswer(client: Client, input: SeatReservationInput, keyReused: () => ApiError): Promise<HoldAnswerBody> {
  await checkPendingStart(client, reservationWorkflowId(input.reservationId), input.requestHash, 'reservation', keyReused);
  return { status: 202, body: pendingReservationBody(input.reservationId) };
}

/** What a hold answer is built from: the saga's outcome or the reservation row. */
interface HoldState {
  reservationId: string;
  status: ReservationStatus;
  seatIds: number[];
  totalWon: number;
  holdExpiresAt: string;
  reason?: string | null;
  message?: string | null;
  unavailableSeatIds?: number[];
}

function stateOfOutcome(outcome: HoldOutcome): HoldState {
  return { ...outcome };
}

function stateOfRecord(record: ReservationRecord): HoldState {
  return {
    reservationId: record.reservationId,
    status: record.status,
    seatIds: record.seatIds,
    totalWon: record.totalWon,
    holdExpiresAt: record.holdExpiresAt,
    reason: record.reason,
    message: record.message,
  };
}

/** Maps a hold state to the answer: 201 while held (or already paid), else the reason as an error. */
function holdAnswer(state: HoldState): HoldAnswerBody {
  const { reservationId } = state;
  switch (state.status) {
    case 'PENDING':
    case 'CONFIRMED':
      return {
        status: 201,
        body: {
          reservationId,
          status: state.status,
          seatIds: state.seatIds,
          totalWon: state.totalWon,
          holdExpiresAt: state.holdExpiresAt,
          links: { self: reservationPath(reservationId), payment: `${reservationPath(reservationId)}/payment` },
        },
      };
    case 'EXPIRED':
      throw reservationFailure(FailureType.HoldExpired, reservationId, { message: state.message });
    case 'COMPENSATION_FAILED':
      throw reservationFailure(FailureType.CompensationFailed, reservationId, { message: state.message });
    case 'CANCELLED': {
      const reason = state.reason ?? FailureType.ReservationCancelled;
      const seatReason = reason === FailureType.SeatUnavailable || reason === FailureType.UnknownSeat;
      const details = seatReason && state.unavailableSeatIds ? { seatIds: state.unavailableSeatIds } : undefined;
      throw reservationFailure(reason, reservationId, { message: state.message, details });
    }
  }
}
