/**
 * What the reservation routes ask of the seat reservation saga: start it (or rejoin it)
 * and wait for its hold through the `reservationHold` Update, pay it (the
 * `payReservation` Update), cancel it (the `cancelReservation` Signal), each under a
 * deadline, and map what the saga gave (or, once it has ended, its row) to an answer.
 *
 * How a refusal reaches the client: a rejection by the Update's validator and a failure
 * of its handler both surface as `WorkflowUpdateFailedError` whose `cause` is the
 * `ApplicationFailure` (or, when the handler rethrows an activity's failure, an
 * `ActivityFailure` whose `cause` is it); the failure's `type` and `details` survive.
 * An Update or Signal sent to a closed workflow fails with `WorkflowNotFoundError`
 * ("workflow execution already completed"), like one sent to a workflow that never existed.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import {
  FailureType,
  SEAT_RESERVATION_WORKFLOW,
  cancelReservationSignal,
  payReservationUpdate,
  reservationHoldUpdate,
  reservationWorkflowId,
  type PaymentOutcome,
  type SeatReservationInput,
} from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import type { Orm } from '../../db/orm.ts';
import type { AppDeps } from '../context.ts';
import { ApiError, ErrorCode, notFound, type ProblemExtensions } from '../errors.ts';
import { idempotencyKeyReused, reservationIdFor, reservationRequestHash } from '../idempotency.ts';
import { checkPendingStart, startSaga } from '../saga-start.ts';
import { SHORT_CALL_DEADLINE_MS, applicationFailureIn, executeUpdate, withDeadline } from '../temporal.ts';
import type { CancellingReservationBody, CreateReservationRequest, HoldView, PendingReservationBody, ReservationView } from './schemas.ts';
import {
  checkReferences,
  endedFailure,
  holdStateOfRecord,
  holdView,
  isReservationFailure,
  loadReservationRecord,
  pendingReservationBody,
  pendingReservationView,
  queryReservationProgress,
  reservationFailure,
  toReservationView,
  type HoldState,
  type ReservationRecord,
} from './views.ts';

/**
 * The saga input of a reservation request, after checking its references: seats sorted
 * ascending, the hold in ms (`defaultHoldSeconds` when not given), the id from the
 * Idempotency-Key (random without one) and the request's fingerprint.
 *
 * @throws ApiError 422 UnknownUser / UnknownPerformance / UnknownSeat ({@link checkReferences}); nothing starts.
 */
export async function reservationInput(
  orm: Orm,
  body: CreateReservationRequest,
  idempotencyKey: string | undefined,
  defaultHoldSeconds: number,
): Promise<SeatReservationInput> {
  const { userId, performanceId } = body;
  const seatIds = [...body.seatIds].sort((a, b) => a - b);
  const holdMs = (body.holdSeconds ?? defaultHoldSeconds) * 1000;
  const reservationId = reservationIdFor(userId, idempotencyKey);
  const requestHash = reservationRequestHash({ userId, performanceId, seatIds, holdMs });
  await checkReferences(orm, userId, performanceId, seatIds);
  return { reservationId, userId, performanceId, seatIds, holdMs, requestHash };
}

/** The answer of `POST /reservations`: 201 with the hold, or 202 while it is not known. */
export type HoldAnswerBody = { status: 201; body: HoldView } | { status: 202; body: PendingReservationBody };

/**
 * Starts (or joins) the reservation saga of `input.reservationId`, waits up to
 * `ORDER_OUTCOME_WAIT_MS` for its hold and decides the answer of `POST /reservations`:
 * from its hold outcome, its row, or nothing yet. Idempotent: the workflow id is
 * `reservation-<reservationId>`; a running saga is reused, a finished one never started again.
 */
export async function reserveAnswer(deps: AppDeps, log: Logger, input: SeatReservationInput): Promise<HoldAnswerBody> {
  const { orm, client, config } = deps;
  const { reservationId } = input;
  const keyReused = () => idempotencyKeyReused({ reservationId });
  const answer = await startSaga(client, config.api.orderOutcomeWaitMs, {
    workflowType: SEAT_RESERVATION_WORKFLOW,
    workflowId: reservationWorkflowId(reservationId),
    taskQueue: config.temporal.taskQueue,
    input,
    update: reservationHoldUpdate,
  });
  log.info({ answer: answer.kind }, 'reservation started');
  if (answer.kind === 'outcome') {
    if (answer.outcome.requestHash !== input.requestHash) throw keyReused();
    if (answer.outcome.status !== 'PENDING') return holdAnswer(answer.outcome);
    // The hold outcome stays PENDING for the saga's life; a replayed request after the
    // reservation was paid, cancelled or expired gets the row's later word.
    const record = await loadReservationRecord(orm, reservationId);
    return holdAnswer(record && record.status !== 'PENDING' ? holdStateOfRecord(record) : answer.outcome);
  }
  if (answer.kind === 'closed') {
    const record = await loadReservationRecord(orm, reservationId);
    if (!record) throw new ApiError(409, ErrorCode.AlreadyStarted, 'This reservation was already processed and has no record');
    if (record.requestHash !== input.requestHash) throw keyReused();
    return holdAnswer(holdStateOfRecord(record));
  }
  await checkPendingStart(client, reservationWorkflowId(reservationId), input.requestHash, 'reservation', keyReused);
  return { status: 202, body: pendingReservationBody(reservationId) };
}

/** Maps a hold state to the answer: 201 while held (or already paid), else the reason as an error. */
function holdAnswer(state: HoldState): HoldAnswerBody {
  const { reservationId } = state;
  switch (state.status) {
    case 'PENDING':
    case 'CONFIRMED':
      return { status: 201, body: holdView({ ...state, status: state.status }) };
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

/**
 * What a payment request gave:
 * - `paid`: the reservation is CONFIRMED and the points charged;
 * - `refused`: the workflow refused or failed the payment with a typed `ApplicationFailure`
 *   (`InsufficientPoints`, `HoldExpired`, `ReservationCancelled`, `AlreadyConfirmed`, ...);
 * - `failed`: the Update failed without a business type (e.g. the workflow closed while it ran);
 * - `closed`: no running saga (finished, or never started): the database has the answer;
 * - `pending`: no answer within the wait (the payment may still complete).
 */
export type PaymentAnswer =
  | { kind: 'paid'; outcome: PaymentOutcome }
  | { kind: 'refused'; type: string; message: string; details: readonly unknown[] }
  | { kind: 'failed'; error: WorkflowUpdateFailedError }
  | { kind: 'closed' }
  | { kind: 'pending' };

/**
 * Sends the `payReservation` Update to the saga of `reservationId` and waits up to
 * `waitMs` for its result. Each call is a new Update; the workflow makes concurrent ones
 * share one payment, and a payment refused for insufficient points may be retried.
 *
 * @throws Temporal errors other than those classified in {@link PaymentAnswer}
 *   (unreachable service: 503 upstream).
 */
async function payReservation(client: Client, waitMs: number, reservationId: string): Promise<PaymentAnswer> {
  try {
    const outcome = await executeUpdate(client, waitMs, reservationWorkflowId(reservationId), payReservationUpdate);
    return { kind: 'paid', outcome };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { kind: 'closed' };
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'pending' };
    if (err instanceof WorkflowUpdateFailedError) {
      const failure = applicationFailureIn(err.cause);
      if (!failure?.type) return { kind: 'failed', error: err };
      return { kind: 'refused', type: failure.type, message: failure.message, details: failure.details ?? [] };
    }
    throw err;
  }
}

/** The answer of a payment: 200 with the CONFIRMED view, or 202 while it is not known. */
export type PaymentAnswerBody = { status: 200; body: ReservationView } | { status: 202; body: PendingReservationBody };

/**
 * Pays reservation `reservationId` through its saga ({@link payReservation}) and decides
 * the answer of `POST /reservations/:id/payment` from what the Update gave; the
 * reservation row is read once, when the answer needs it (the confirmed view, or why a
 * reservation whose saga no longer runs cannot be paid).
 *
 * @throws ApiError the reservation failure the saga refused with (402 `InsufficientPoints`
 *   with the balance, 410, 409), or from the row when no saga runs; 404 without either.
 */
export async function paymentAnswer(deps: AppDeps, log: Logger, reservationId: string): Promise<PaymentAnswerBody> {
  const payment = await payReservation(deps.client, deps.config.api.orderOutcomeWaitMs, reservationId);
  log.info({ answer: payment.kind, failureType: payment.kind === 'refused' ? payment.type : undefined }, 'payment requested');
  if (payment.kind === 'pending') return { status: 202, body: pendingReservationBody(reservationId) };
  if (payment.kind === 'refused') {
    const refusal = typedRefusal(reservationId, payment);
    if (refusal) throw refusal;
    log.warn({ failureType: payment.type }, 'payment failed with an unexpected failure type');
  }
  const record = await loadReservationRecord(deps.orm, reservationId);
  switch (payment.kind) {
    case 'paid': {
      const saga = await queryReservationProgress(deps.client, log, reservationId);
      const base = record ? toReservationView(record, saga) : pendingReservationView(reservationId, saga);
      return { status: 200, body: { ...base, status: payment.outcome.status, totalWon: payment.outcome.totalWon } };
    }
    case 'refused':
      throw notPayable(record, reservationId, new Error(payment.message));
    case 'failed':
      throw notPayable(record, reservationId, payment.error);
    case 'closed':
      throw notPayable(record, reservationId, undefined);
  }
}

/**
 * The error for a payment the saga refused with a typed failure: its reservation failure
 * (with the balance details of `InsufficientPoints`); undefined for a type the
 * reservation routes do not know (then the row decides).
 */
function typedRefusal(reservationId: string, refused: Extract<PaymentAnswer, { kind: 'refused' }>): ApiError | undefined {
  // A payment cut short by cancelling the workflow itself is the reservation's cancellation.
  const type = refused.type === FailureType.Cancelled ? FailureType.ReservationCancelled : refused.type;
  if (!isReservationFailure(type)) return undefined;
  const details = type === FailureType.InsufficientPoints ? balanceDetails(refused.details[0]) : undefined;
  return reservationFailure(type, reservationId, { message: refused.message, details });
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
  const ended = endedFailure(record);
  if (ended) return ended;
  throw cause instanceof Error ? cause : new Error(`Reservation ${reservationId} is PENDING without a running saga`);
}

/**
 * Sends the `cancelReservation` Signal to the saga of `reservationId`.
 *
 * @returns true when it was delivered to a running saga; false when there is none
 *   (finished, or never started).
 * @throws Temporal unavailability.
 */
async function requestCancellation(client: Client, reservationId: string): Promise<boolean> {
  try {
    await withDeadline(client, SHORT_CALL_DEADLINE_MS, () =>
      client.workflow.getHandle(reservationWorkflowId(reservationId)).signal(cancelReservationSignal),
    );
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** The answer of a cancellation: 202 when handed to the saga, 200 with the view when it had already ended. */
export type CancelAnswerBody = { status: 202; body: CancellingReservationBody } | { status: 200; body: ReservationView };

/**
 * Cancels reservation `reservationId`, or answers that it already ended CANCELLED or
 * EXPIRED (cancelling again is a no-op).
 *
 * @throws ApiError 404 when there is neither a row nor a running saga; 409 when it is
 *   CONFIRMED or COMPENSATION_FAILED.
 */
export async function cancelAnswer(deps: AppDeps, log: Logger, reservationId: string): Promise<CancelAnswerBody> {
  // A finished reservation is answered from its row without signalling: a CONFIRMED one
  // may still have a running saga (notifying the data platform) that would ignore it.
  let record = await loadReservationRecord(deps.orm, reservationId);
  if (!record || record.status === 'PENDING') {
    if (await requestCancellation(deps.client, reservationId)) {
      log.info('cancellation requested');
      return { status: 202, body: { reservationId, status: 'CANCELLING' } };
    }
    // The saga finished between the read and the signal, or never existed: read its end.
    record = await loadReservationRecord(deps.orm, reservationId);
    if (!record) throw notFound(`reservation ${reservationId}`);
  }
  // Cancelling a reservation that already ended CANCELLED or EXPIRED is a no-op.
  if (record.status !== 'CANCELLED' && record.status !== 'EXPIRED') {
    throw endedFailure(record) ?? new Error(`Reservation ${reservationId} is PENDING without a running saga`);
  }
  return { status: 200, body: toReservationView(record, await queryReservationProgress(deps.client, log, reservationId)) };
}
