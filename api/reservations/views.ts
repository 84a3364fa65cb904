/**
 * The reservation read model: what `GET /reservations/:id` and the answers of the
 * reservation routes show. Business data comes from the `reservations` table; live saga
 * progress from the workflow's `reservationProgress` Query; a failure type or an ended
 * row is shown as a problem answer (status, code, default message). Also the reference
 * check of a reservation request (its user, performance and seats), made before its saga
 * starts.
 */
import type { Client } from '@temporalio/client';
import {
  FailureType,
  reservationProgressQuery,
  reservationWorkflowId,
  type ReservationProgress,
  type ReservationStatus,
} from '../../common/index.ts';
import { Performance, PointAccount, Reservation, Seat } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../config/logger.ts';
import { ApiError, ErrorCode, ReservationErrorCode, type ProblemExtensions } from '../errors.ts';
import { sagaUserId } from '../auth/owner.ts';
import { findEventView } from '../event-view.ts';
import { findPaymentView } from '../payment-view.ts';
import { describeWorkflow, queryOrNull } from '../temporal.ts';
import type { HoldView, PendingReservationBody, ReservationView } from './schemas.ts';

/** The reservation row without saga progress (its fields never null); `requestHash` for the key-reuse check. */
export type ReservationRecord = Omit<ReservationView, 'saga'> & {
  userId: number;
  performanceId: number;
  totalWon: number;
  holdExpiresAt: string;
  createdAt: string;
  requestHash: string;
};

/** Path of a reservation resource: `/reservations/<reservationId>`. */
export function reservationPath(reservationId: string): string {
  return `/reservations/${reservationId}`;
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

/**
 * Loads a reservation row with its payment and its data-platform event (each null when
 * there is none), or null when there is no row.
 */
export async function loadReservationRecord(orm: Orm, reservationId: string): Promise<ReservationRecord | null> {
  const reservation = await orm.em.fork().findOne(Reservation, { id: reservationId });
  if (!reservation) return null;
  const [payment, event] = await Promise.all([findPaymentView(orm, reservation.workflowId), findEventView(orm, reservation.workflowId)]);
  return {
    reservationId: reservation.id,
    userId: reservation.user.id,
    performanceId: reservation.performance.id,
    status: reservation.status,
    seatIds: [...reservation.seatIds],
    totalWon: reservation.totalWon,
    holdExpiresAt: reservation.holdExpiresAt.toISOString(),
    reason: reservation.reason ?? null,
    message: reservation.message ?? null,
    createdAt: reservation.createdAt.toISOString(),
    confirmedAt: reservation.confirmedAt ? reservation.confirmedAt.toISOString() : null,
    payment,
    event,
    requestHash: reservation.requestHash,
  };
}

/**
 * The saga progress of reservation `reservationId` through its Query, within a short deadline.
 * @returns null when the workflow does not exist, is unreachable or does not answer.
 */
export function queryReservationProgress(
  client: Client,
  log: Logger,
  reservationId: string,
): Promise<ReservationProgress | null> {
  return queryOrNull(client, reservationWorkflowId(reservationId), reservationProgressQuery, (err) =>
    log.debug({ err, reservationId }, 'reservation progress query failed'),
  );
}

/** Turns a record into the public view, attaching `saga`. */
export function toReservationView(record: ReservationRecord, saga: ReservationProgress | null): ReservationView {
  const { requestHash: _hash, ...view } = record;
  return { ...view, saga };
}

/** The view of a reservation whose saga exists but has not written its row yet. */
export function pendingReservationView(reservationId: string, saga: ReservationProgress | null): ReservationView {
  return {
    reservationId,
    userId: null,
    performanceId: null,
    status: 'PENDING',
    seatIds: [],
    totalWon: null,
    holdExpiresAt: saga?.holdExpiresAt ?? null,
    reason: null,
    message: null,
    createdAt: null,
    confirmedAt: null,
    payment: null,
    event: null,
    saga,
  };
}

/** The 202 body of a reservation whose hold or payment is not known yet. */
export function pendingReservationBody(reservationId: string): PendingReservationBody {
  return { reservationId, status: 'PENDING', links: { self: reservationPath(reservationId) } };
}

/**
 * The full view of reservation `reservationId`: its row with saga progress; or, without
 * a row but with a saga, a PENDING view; or null when neither exists.
 * @throws Temporal unavailability when there is no row and the saga cannot be looked up.
 */
export async function findReservationView(
  deps: { orm: Orm; client: Client },
  log: Logger,
  reservationId: string,
): Promise<ReservationView | null> {
  const record = await loadReservationRecord(deps.orm, reservationId);
  if (record) return toReservationView(record, await queryReservationProgress(deps.client, log, reservationId));
  const description = await describeWorkflow(deps.client, reservationWorkflowId(reservationId));
  if (!description) return null;
  // The owner, for the caller check, from the saga's UserId search attribute (null until its first task sets it).
  return { ...pendingReservationView(reservationId, await queryReservationProgress(deps.client, log, reservationId)), userId: sagaUserId(description) };
}

/**
 * The user who owns reservation `reservationId` (its row's, else its saga's `UserId`
 * search attribute), or null when neither says.
 * @throws Temporal unavailability when there is no row and the saga cannot be looked up.
 */
export async function reservationOwner(deps: { orm: Orm; client: Client }, reservationId: string): Promise<number | null> {
  const record = await loadReservationRecord(deps.orm, reservationId);
  if (record) return record.userId;
  return sagaUserId(await describeWorkflow(deps.client, reservationWorkflowId(reservationId)));
}

/** What a hold answer is built from: the saga's hold outcome or the reservation row. */
export interface HoldState {
  reservationId: string;
  status: ReservationStatus;
  seatIds: number[];
  totalWon: number;
  holdExpiresAt: string;
  reason?: string | null;
  message?: string | null;
  unavailableSeatIds?: number[];
}

/** The hold state a reservation row shows. */
export function holdStateOfRecord(record: ReservationRecord): HoldState {
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

/** The 201 body of a held (or already paid) reservation, with the links to read and pay it. */
export function holdView(state: HoldState & { status: 'PENDING' | 'CONFIRMED' }): HoldView {
  const { reservationId } = state;
  return {
    reservationId,
    status: state.status,
    seatIds: state.seatIds,
    totalWon: state.totalWon,
    holdExpiresAt: state.holdExpiresAt,
    links: { self: reservationPath(reservationId), payment: `${reservationPath(reservationId)}/payment` },
  };
}

/**
 * The HTTP status and default message (when the saga gave none) of each failure type a
 * reservation can end or be refused with; a type not listed is answered 409.
 */
const FAILURES: Readonly<Record<string, { status: number; message: string }>> = {
  [FailureType.SeatUnavailable]: { status: 409, message: 'Some of the seats are held or sold' },
  [FailureType.UnknownSeat]: { status: 422, message: 'Some seat ids do not belong to this performance' },
  [FailureType.UnknownUser]: { status: 422, message: 'The user has no point account' },
  [FailureType.InsufficientPoints]: { status: 402, message: 'The point balance is below the price; the seats stay held until the hold expires' },
  [FailureType.HoldExpired]: { status: 410, message: 'The hold expired before the reservation was paid; the seats were released' },
  [FailureType.ReservationCancelled]: { status: 409, message: 'The reservation was cancelled' },
  [FailureType.AlreadyConfirmed]: { status: 409, message: 'The reservation is already paid and confirmed' },
  [FailureType.PaymentInProgress]: { status: 409, message: 'The reservation is being paid; read it, and cancel again if the payment failed' },
  [FailureType.CompensationFailed]: { status: 409, message: 'The reservation failed and could not be fully undone' },
};

/**
 * The {@link ApiError} for a reservation failure of type `type` (its status `options.status`,
 * else from {@link FAILURES}, else 409; the type as the code), with `Location` pointing at
 * the reservation; `reservationId` and `details` become extension members of the answer.
 */
export function reservationFailure(
  type: string,
  reservationId: string,
  options: { message?: string | null; details?: ProblemExtensions; status?: number } = {},
): ApiError {
  const code = type === FailureType.CompensationFailed ? ErrorCode.CompensationFailed : type;
  const known = isReservationFailure(type) ? FAILURES[type] : undefined;
  return new ApiError(options.status ?? known?.status ?? 409, code, options.message ?? known?.message ?? `The reservation failed: ${type}`, {
    details: { reservationId, ...options.details },
    headers: { Location: reservationPath(reservationId) },
  });
}

/** The problem a reservation whose row says it has ended is answered with; undefined while PENDING. */
export function endedFailure(record: ReservationRecord): ApiError | undefined {
  const { reservationId } = record;
  switch (record.status) {
    case 'EXPIRED':
      return reservationFailure(FailureType.HoldExpired, reservationId);
    case 'CANCELLED':
      return reservationFailure(FailureType.ReservationCancelled, reservationId);
    case 'CONFIRMED':
      return reservationFailure(FailureType.AlreadyConfirmed, reservationId);
    case 'COMPENSATION_FAILED':
      return reservationFailure(FailureType.CompensationFailed, reservationId, { message: record.message });
    case 'PENDING':
      return undefined;
  }
}

/** Whether `type` is a failure type of reservations (listed in {@link FAILURES}). */
export function isReservationFailure(type: string): boolean {
  return Object.hasOwn(FAILURES, type);
}
