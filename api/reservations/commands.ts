/**
 * What the reservation routes ask of the seat reservation saga: start it (or rejoin it)
 * and wait for its hold through the `reservationHold` Update, pay it (the
 * `payReservation` Update), cancel it (the `reservationCancel` Update), each under a
 * deadline, and map what the saga gave (or, once it has ended, its row) to an answer
 * (refusals through api/reservations/failures.ts).
 *
 * How a refusal reaches the client: a rejection by the Update's validator and a failure
 * of its handler both surface as `WorkflowUpdateFailedError` whose `cause` is the
 * `ApplicationFailure` (or, when the handler rethrows an activity's failure, an
 * `ActivityFailure` whose `cause` is it); the failure's `type` and `details` survive.
 * An Update sent to a closed workflow fails with `WorkflowNotFoundError`
 * ("workflow execution already completed"), like one sent to a workflow that never existed.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import {
  FailureType,
  SEAT_RESERVATION_WORKFLOW,
  payReservationUpdate,
  reservationCancelUpdate,
  reservationHoldUpdate,
  reservationWorkflowId,
  sagaStartSearchAttributes,
  type ReservationStatus,
  type SeatReservationInput,
} from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import type { AppDeps } from '../context.ts';
import { ApiError, ErrorCode, notFound, type ProblemExtensions } from '../errors.ts';
import { idempotencyKeyReused, reservationIdFor, reservationRequestHash } from '../idempotency.ts';
import { checkPendingStart, startSaga } from '../saga-start.ts';
import { applicationFailureIn, executeUpdate } from '../temporal.ts';
import { cancelFailureAnswer, holdFailureAnswer, paymentFailureAnswer, pendingWithoutSaga, refusalError } from './failures.ts';
import { checkHoldLimits } from './hold-limits.ts';
import { checkHoldQueueToken } from './queue-token.ts';
import type { CancellingReservationBody, CreateReservationRequest, HoldView, PendingReservationBody, ReservationView } from './schemas.ts';
import {
  checkReferences,
  endedFailure,
  holdStateOfRecord,
  holdView,
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
 * The saga input of a reservation request, after checking its references, the caller's
 * queue token (`queueTokenId`, from header `Queue-Token`) and the user's hold caps: seats
 * sorted ascending, the hold in ms (`RESERVATION_HOLD_SECONDS` when not given), the id from
 * the Idempotency-Key keyed with the server secret (random without one), the request's
 * fingerprint (without the token: a retry with a new token is the same request) and the
 * token, which the saga's first step checks again under its row lock.
 *
 * @throws ApiError 422 UnknownUser / UnknownPerformance / UnknownSeat ({@link checkReferences});
 *   403 QueueTokenRequired / QueueTokenNotActive / QueueTokenExpired, 409 QueueTokenInUse
 *   ({@link checkHoldQueueToken}); 409 HoldLimitExceeded ({@link checkHoldLimits}); nothing starts.
 */
export async function reservationInput(
  deps: Pick<AppDeps, 'orm' | 'config'>,
  body: CreateReservationRequest & { userId: number },
  request: { idempotencyKey: string | undefined; queueTokenId: string | undefined },
): Promise<SeatReservationInput> {
  const { orm, config } = deps;
  const { userId, performanceId } = body;
  const { idempotencyKey, queueTokenId } = request;
  const seatIds = [...body.seatIds].sort((a, b) => a - b);
  const holdMs = (body.holdSeconds ?? config.api.reservationHoldSeconds) * 1000;
  const reservationId = reservationIdFor(config.idempotency.secret, userId, idempotencyKey);
  const requestHash = reservationRequestHash({ userId, performanceId, seatIds, holdMs });
  await checkReferences(orm, userId, performanceId, seatIds);
  await checkHoldQueueToken(orm, { reservationId, userId, performanceId, tokenId: queueTokenId });
  await checkHoldLimits(orm, config.holdLimits, { reservationId, userId, seatIds });
  return { reservationId, userId, performanceId, seatIds, holdMs, requestHash, ...(queueTokenId === undefined ? {} : { queueTokenId }) };
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
    // The saga's own expiry is its first task's clock + holdMs: a few ms after this estimate.
    searchAttributes: sagaStartSearchAttributes({ reservationId, userId: input.userId, holdExpiresAt: new Date(Date.now() + input.holdMs) }),
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
      throw refusalError(holdFailureAnswer(reason), reason, reservationId, { message: state.message, details });
    }
  }
}

/**
 * What an Update sent to a reservation saga gave:
 * - `done`: the handler's result (`PaymentOutcome` CONFIRMED, or the cancellation's final status);
 * - `refused`: the validator refused it or the handler failed with a typed `ApplicationFailure`
 *   (`InsufficientPoints`, `HoldExpired`, `PaymentInProgress`, `UnexpectedError`, ...);
 * - `failed`: the Update failed without a type (e.g. the workflow closed while it ran);
 * - `closed`: no running saga (finished, or never started): the database has the answer;
 * - `pending`: no answer within the wait (the Update may still complete).
 */
export type UpdateAnswer<Result> =
  | { kind: 'done'; result: Result }
  | { kind: 'refused'; type: string; message: string; details: readonly unknown[] }
  | { kind: 'failed'; error: WorkflowUpdateFailedError }
  | { kind: 'closed' }
  | { kind: 'pending' };

/**
 * Sends `update` to the saga of `reservationId` and waits up to `waitMs` for its result.
 *
 * @throws Temporal errors other than those classified in {@link UpdateAnswer}
 *   (unreachable service: 503 upstream).
 */
async function sendUpdate<Result>(client: Client, waitMs: number, reservationId: string, update: UpdateDefinition<Result, []>): Promise<UpdateAnswer<Result>> {
  try {
    return { kind: 'done', result: await executeUpdate(client, waitMs, reservationWorkflowId(reservationId), update) };
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
 * Pays reservation `reservationId` through its saga (the `payReservation` Update: each
 * call is a new Update; the workflow makes concurrent ones share one payment, and a
 * payment refused for insufficient points or failed for a reason of ours may be paid
 * again) and decides the answer of `POST /reservations/:id/payment` from what the Update
 * gave; the reservation row is read once, when the answer needs it (the confirmed view,
 * or why a reservation whose saga no longer runs cannot be paid).
 *
 * @throws ApiError the refusal mapped by api/reservations/failures.ts (402
 *   `InsufficientPoints` with the balance, 410, 409, 503 `SagaUnavailable` when the
 *   payment failed for a reason of ours); or from the row when no saga runs (503
 *   `SagaUnavailable` for a row left PENDING); 404 without either.
 */
export async function paymentAnswer(deps: AppDeps, log: Logger, reservationId: string): Promise<PaymentAnswerBody> {
  const payment = await sendUpdate(deps.client, deps.config.api.orderOutcomeWaitMs, reservationId, payReservationUpdate);
  log.info({ answer: payment.kind, failureType: payment.kind === 'refused' ? payment.type : undefined }, 'payment requested');
  if (payment.kind === 'pending') return { status: 202, body: pendingReservationBody(reservationId) };
  if (payment.kind === 'refused') {
    const details = payment.type === FailureType.InsufficientPoints ? balanceDetails(payment.details[0]) : undefined;
    throw refusalError(paymentFailureAnswer(payment.type), payment.type, reservationId, { message: payment.message, details });
  }
  const record = await loadReservationRecord(deps.orm, reservationId);
  if (payment.kind !== 'done') throw notActionable(record, reservationId);
  const saga = await queryReservationProgress(deps.client, log, reservationId);
  const base = record ? toReservationView(record, saga) : pendingReservationView(reservationId, saga);
  return { status: 200, body: { ...base, status: payment.result.status, totalWon: payment.result.totalWon } };
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
 * The error for paying or cancelling a reservation whose saga no longer runs (or failed
 * the Update without a type), from its row: EXPIRED -> 410, CANCELLED / CONFIRMED /
 * COMPENSATION_FAILED -> 409; PENDING -> 503 `SagaUnavailable` (a row its saga left
 * open, which the reconciliation closes); no row -> 404.
 */
function notActionable(record: ReservationRecord | null, reservationId: string): ApiError {
  if (!record) return notFound(`reservation ${reservationId}`);
  return endedFailure(record) ?? pendingWithoutSaga(reservationId);
}

/** The answer of a cancellation: 200 with the view once it has ended, 202 while the saga is still closing it. */
export type CancelAnswerBody = { status: 202; body: CancellingReservationBody } | { status: 200; body: ReservationView };

/**
 * Cancels reservation `reservationId` through its saga (the `reservationCancel` Update,
 * which waits until the saga has closed it) and decides the answer of `DELETE
 * /reservations/:id`: 200 with the view once it ended CANCELLED (or EXPIRED: cancelling
 * an ended reservation is a no-op), 202 CANCELLING when the saga has not closed it within
 * `ORDER_OUTCOME_WAIT_MS`.
 *
 * @throws ApiError 409 `PaymentInProgress` while a payment runs (nothing changes) and the
 *   other refusals of api/reservations/failures.ts; 409 when it is CONFIRMED or
 *   COMPENSATION_FAILED; 503 `SagaUnavailable` for a row left PENDING without a saga;
 *   404 when there is neither a row nor a running saga.
 */
export async function cancelAnswer(deps: AppDeps, log: Logger, reservationId: string): Promise<CancelAnswerBody> {
  // A finished reservation is answered from its row without an Update: a CONFIRMED one may
  // still have a running saga (notifying the data platform).
  let record = await loadReservationRecord(deps.orm, reservationId);
  if (!record || record.status === 'PENDING') {
    const cancel = await sendUpdate(deps.client, deps.config.api.orderOutcomeWaitMs, reservationId, reservationCancelUpdate);
    log.info({ answer: cancel.kind, failureType: cancel.kind === 'refused' ? cancel.type : undefined }, 'cancellation requested');
    if (cancel.kind === 'pending') return { status: 202, body: { reservationId, status: 'CANCELLING' } };
    if (cancel.kind === 'refused') throw refusalError(cancelFailureAnswer(cancel.type), cancel.type, reservationId, { message: cancel.message });
    // Closed (now, or before the Update arrived): the row has the end.
    record = await loadReservationRecord(deps.orm, reservationId);
    if (!record && cancel.kind === 'done') return { status: 200, body: await rowlessView(deps, log, reservationId, cancel.result.status) };
  }
  if (!record || (record.status !== 'CANCELLED' && record.status !== 'EXPIRED')) throw notActionable(record, reservationId);
  return { status: 200, body: toReservationView(record, await queryReservationProgress(deps.client, log, reservationId)) };
}

/** The view of a reservation whose saga closed `status` before it wrote a row (its first step was refused). */
async function rowlessView(deps: AppDeps, log: Logger, reservationId: string, status: ReservationStatus): Promise<ReservationView> {
  return { ...pendingReservationView(reservationId, await queryReservationProgress(deps.client, log, reservationId)), status };
}
