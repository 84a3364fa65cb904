/**
 * `POST /reservations/:id/payment` behind the route: the answer decided from what the
 * `payReservation` Update gave, falling back to the reservation row when no saga runs.
 */
import { FailureType } from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import type { AppDeps } from '../context.ts';
import { notFound, type ApiError, type ProblemExtensions } from '../errors.ts';
import { pendingReservationBody } from './answers.ts';
import type { PaymentAnswer } from './commands.ts';
import { RESERVATION_FAILURE_STATUS, reservationFailure } from './errors.ts';
import {
  loadReservationRecord,
  pendingReservationView,
  queryReservationProgress,
  toReservationView,
  type ReservationRecord,
} from './reservation-view.ts';
import type { PendingReservationBody, ReservationView } from './schemas.ts';

/** The answer of a payment: 200 with the CONFIRMED view, or 202 while it is not known. */
export type PaymentAnswerBody = { status: 200; body: ReservationView } | { status: 202; body: PendingReservationBody };

/** Decides the answer of `POST /reservations/:id/payment` from what the payment Update gave. */
export async function paymentAnswer(deps: AppDeps, log: Logger, reservationId: string, answer: PaymentAnswer): Promise<PaymentAnswerBody> {
  switch (answer.kind) {
    case 'paid': {
      const record = await loadReservationRecord(deps.orm, reservationId);
      const saga = await queryReservationProgress(deps.client, log, reservationId);
      const base = record ? toReservationView(record, saga) : pendingReservationView(reservationId, saga);
      return { status: 200, body: { ...base, status: answer.outcome.status, totalWon: answer.outcome.totalWon } };
    }
    case 'pending':
      return { status: 202, body: pendingReservationBody(reservationId) };
    case 'refused':
      throw await refusal(deps, log, reservationId, answer);
    case 'failed':
      throw notPayable(await loadReservationRecord(deps.orm, reservationId), reservationId, answer.error);
    case 'closed':
      throw notPayable(await loadReservationRecord(deps.orm, reservationId), reservationId, undefined);
  }
}

/**
 * The error for a payment the saga refused with a typed failure: its reservation failure
 * (with the balance details of `InsufficientPoints`), or, for a type the reservation routes
 * do not know, the error the row gives.
 */
async function refusal(
  deps: AppDeps,
  log: Logger,
  reservationId: string,
  refused: Extract<PaymentAnswer, { kind: 'refused' }>,
): Promise<ApiError> {
  // A payment cut short by cancelling the workflow itself is the reservation's cancellation.
  const answer = refused.type === FailureType.Cancelled ? { ...refused, type: FailureType.ReservationCancelled } : refused;
  if (answer.type in RESERVATION_FAILURE_STATUS) {
    const details = answer.type === FailureType.InsufficientPoints ? balanceDetails(answer.details[0]) : undefined;
    return reservationFailure(answer.type, reservationId, { message: answer.message, details });
  }
  log.warn({ failureType: answer.type }, 'payment failed with an unexpected failure type');
  return notPayable(await loadReservationRecord(deps.orm, reservationId), reservationId, new Error(answer.message));
}

/**
 * The balance members of an `InsufficientPoints` answer, picked by name from the failure's
 * details (`{ userId, balancePoints, requiredPoints }`, activities/points.ts): they come
 * from a workflow history, and a key named like a standard problem member must not
 * reach the answer.
 */
function balanceDetails(raw: unknown): ProblemExtensions | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const { userId, balancePoints, requiredPoints } = raw as Record<string, unknown>;
  return { userId, balancePoints, requiredPoints };
}

/**
 * The error for paying a reservation whose saga no longer runs, from its row: EXPIRED ->
 * 410, CANCELLED / CONFIRMED / COMPENSATION_FAILED -> 409; no row -> 404.
 *
 * @throws `cause` when the row is still PENDING (a closed saga left it so: an internal error).
 */
function notPayable(record: ReservationRecord | null, reservationId: string, cause: unknown): ApiError {
  if (!record) return notFound(`reservation ${reservationId}`);
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
      throw cause instanceof Error ? cause : new Error(`Reservation ${reservationId} is PENDING without a running saga`);
  }
}
