/**
 * How a failure of a running reservation saga is answered by `POST
 * /reservations/:id/payment` and `DELETE /reservations/:id`: the refusal of an Update's
 * validator, or the failure of its handler. Every {@link FailureType} is listed, so
 * adding a failure type does not compile until its answer is decided here (a test walks
 * every one of them through {@link paymentFailureAnswer} and {@link cancelFailureAnswer}).
 *
 * The rule: a business rejection is a 4xx with the failure type as its code; a failure of
 * ours while the saga still runs (a payment whose retries ran out: the hold is kept) is a
 * 503 `SagaUnavailable` with `Retry-After`, since paying again may well succeed; a failure
 * no reservation saga can give (another saga's types, a database that refused a
 * statement) is a bug of ours: 500 `UnexpectedError`. Never a made-up 4xx.
 */
import { FailureType } from '../../common/index.ts';
import { ApiError, ReservationErrorCode, serviceUnavailable, type ProblemExtensions } from '../errors.ts';
import { reservationFailure, reservationPath } from './views.ts';

/** The answer to a failure type: HTTP status, problem code, and whether `Retry-After` is sent (503). */
export interface ReservationFailureAnswer {
  status: number;
  code: string;
  retryAfter?: true;
}

const rejection = (status: number, code: string): ReservationFailureAnswer => ({ status, code });
/** A failure of ours while the saga runs: retrying the request later may succeed. */
const sagaUnavailable: ReservationFailureAnswer = { status: 503, code: ReservationErrorCode.SagaUnavailable, retryAfter: true };
/** A failure that no reservation saga gives on these routes: a bug of ours. */
const bug: ReservationFailureAnswer = { status: 500, code: FailureType.UnexpectedError };

/**
 * The answers of `POST /reservations/:id/payment`: the pay Update's validator refuses
 * `SeatUnavailable` (not held yet), `ReservationCancelled`, `AlreadyConfirmed`,
 * `HoldExpired`; its handler fails with payWithPoints' or confirmReservation's failure.
 */
const PAYMENT_ANSWERS: Readonly<Record<FailureType, ReservationFailureAnswer>> = {
  [FailureType.SeatUnavailable]: rejection(409, FailureType.SeatUnavailable),
  [FailureType.UnknownUser]: rejection(422, FailureType.UnknownUser),
  [FailureType.InsufficientPoints]: rejection(402, FailureType.InsufficientPoints),
  [FailureType.HoldLimitExceeded]: bug,
  [FailureType.HoldExpired]: rejection(410, FailureType.HoldExpired),
  [FailureType.ReservationCancelled]: rejection(409, FailureType.ReservationCancelled),
  // A payment cut short by cancelling the workflow itself is the reservation's cancellation.
  [FailureType.Cancelled]: rejection(409, FailureType.ReservationCancelled),
  [FailureType.AlreadyConfirmed]: rejection(409, FailureType.AlreadyConfirmed),
  [FailureType.SagaAlreadyCompensated]: rejection(409, FailureType.SagaAlreadyCompensated),
  [FailureType.UnexpectedError]: sagaUnavailable,
  [FailureType.DataException]: bug,
  [FailureType.IntegrityConstraintViolation]: bug,
  [FailureType.CompensationFailed]: bug,
  [FailureType.PaymentInProgress]: bug,
  [FailureType.UnknownSeat]: bug,
  [FailureType.OutOfStock]: bug,
  [FailureType.UnknownProduct]: bug,
  [FailureType.OrderTooLarge]: bug,
  [FailureType.BalanceLimitExceeded]: bug,
  [FailureType.NotCompensationFailed]: bug,
  [FailureType.CompensationRetryInProgress]: bug,
  // The order saga's coupon step: never a reservation's.
  [FailureType.CouponNotFound]: bug,
  [FailureType.CouponNotOwned]: bug,
  [FailureType.CouponAlreadyUsed]: bug,
  [FailureType.CouponExpired]: bug,
  [FailureType.CouponMinimumNotMet]: bug,
  // The API checks the queue token before it sends the pay Update.
  [FailureType.QueueTokenRequired]: bug,
  [FailureType.QueueTokenNotActive]: bug,
  [FailureType.QueueTokenExpired]: bug,
  [FailureType.QueueTokenInUse]: bug,
};

/**
 * The answers of `POST /reservations` for a hold the saga refused or failed: the
 * reservation ended CANCELLED with this reason, so a failure of ours is final (500, not
 * 503: the same request gets the same finished reservation).
 */
const HOLD_ANSWERS: Readonly<Record<FailureType, ReservationFailureAnswer>> = {
  [FailureType.SeatUnavailable]: rejection(409, FailureType.SeatUnavailable),
  [FailureType.UnknownSeat]: rejection(422, FailureType.UnknownSeat),
  [FailureType.UnknownUser]: rejection(422, FailureType.UnknownUser),
  // createReservation refused it: the user's live holds or held seats were at their cap.
  [FailureType.HoldLimitExceeded]: rejection(409, FailureType.HoldLimitExceeded),
  [FailureType.ReservationCancelled]: rejection(409, FailureType.ReservationCancelled),
  // The workflow itself was cancelled before the seats were held.
  [FailureType.Cancelled]: rejection(409, FailureType.ReservationCancelled),
  [FailureType.SagaAlreadyCompensated]: rejection(409, FailureType.SagaAlreadyCompensated),
  [FailureType.UnexpectedError]: bug,
  [FailureType.DataException]: bug,
  [FailureType.IntegrityConstraintViolation]: bug,
  [FailureType.HoldExpired]: bug,
  [FailureType.InsufficientPoints]: bug,
  [FailureType.AlreadyConfirmed]: bug,
  [FailureType.CompensationFailed]: bug,
  [FailureType.PaymentInProgress]: bug,
  [FailureType.OutOfStock]: bug,
  [FailureType.UnknownProduct]: bug,
  [FailureType.OrderTooLarge]: bug,
  [FailureType.BalanceLimitExceeded]: bug,
  [FailureType.NotCompensationFailed]: bug,
  [FailureType.CompensationRetryInProgress]: bug,
  // The order saga's coupon step: never a reservation's.
  [FailureType.CouponNotFound]: bug,
  [FailureType.CouponNotOwned]: bug,
  [FailureType.CouponAlreadyUsed]: bug,
  [FailureType.CouponExpired]: bug,
  [FailureType.CouponMinimumNotMet]: bug,
  // createReservation re-checks the queue token under its row lock: it ended, or another
  // reservation took it, after the API's check.
  [FailureType.QueueTokenRequired]: rejection(403, FailureType.QueueTokenRequired),
  [FailureType.QueueTokenNotActive]: rejection(403, FailureType.QueueTokenNotActive),
  [FailureType.QueueTokenExpired]: rejection(403, FailureType.QueueTokenExpired),
  [FailureType.QueueTokenInUse]: rejection(409, FailureType.QueueTokenInUse),
};

/**
 * The status and code `POST /reservations` answers for a reservation whose hold ended it
 * CANCELLED with `reason`: a business rejection is a 4xx with its own code; a failure of
 * ours, or a reason outside {@link FailureType}, is 500 `UnexpectedError`.
 */
export function holdFailureAnswer(reason: string): ReservationFailureAnswer {
  return isFailureType(reason) ? HOLD_ANSWERS[reason] : bug;
}

/**
 * The answers of `DELETE /reservations/:id`: the cancel Update's validator refuses
 * `PaymentInProgress` and `AlreadyConfirmed`; its handler only waits for the close.
 */
const CANCEL_ANSWERS: Readonly<Partial<Record<FailureType, ReservationFailureAnswer>>> = {
  [FailureType.PaymentInProgress]: rejection(409, FailureType.PaymentInProgress),
  [FailureType.AlreadyConfirmed]: rejection(409, FailureType.AlreadyConfirmed),
  [FailureType.UnexpectedError]: sagaUnavailable,
};

/**
 * The status and code `POST /reservations/:id/payment` answers when the saga refused or
 * failed the payment with failure type `type`. A type that is not a {@link FailureType}
 * (an activity's own error name, from a saga recorded before such failures kept the
 * hold) is a step of ours that failed: 503 `SagaUnavailable`, and paying again gets the
 * saga's word.
 */
export function paymentFailureAnswer(type: string): ReservationFailureAnswer {
  return isFailureType(type) ? PAYMENT_ANSWERS[type] : sagaUnavailable;
}

/**
 * The status and code `DELETE /reservations/:id` answers when the saga refused or failed
 * the cancellation with failure type `type`: a type the cancel Update never gives is a bug
 * of ours (500); one outside {@link FailureType} a failure of ours (503).
 */
export function cancelFailureAnswer(type: string): ReservationFailureAnswer {
  if (!isFailureType(type)) return sagaUnavailable;
  return CANCEL_ANSWERS[type] ?? bug;
}

function isFailureType(type: string): type is FailureType {
  return Object.hasOwn(PAYMENT_ANSWERS, type);
}

/**
 * The {@link ApiError} for `answer`, the answer to a payment or cancellation refused with
 * failure `type` ({@link paymentFailureAnswer}, {@link cancelFailureAnswer}): a business rejection through
 * {@link reservationFailure} (its default message, `reservationId` and `details` as
 * members, `Location`); a 503 with `Retry-After`; a 500 with the saga's message kept out
 * of the answer.
 */
export function refusalError(
  answer: ReservationFailureAnswer,
  type: string,
  reservationId: string,
  options: { message?: string | null; details?: ProblemExtensions | undefined } = {},
): ApiError {
  const headers = { Location: reservationPath(reservationId) };
  if (answer.status === 503) {
    return serviceUnavailable(answer.code, `The reservation could not be completed just now (${type}); retry later`, { details: { reservationId }, headers });
  }
  if (answer.status >= 500) {
    return new ApiError(answer.status, answer.code, `The reservation saga failed unexpectedly (${type})`, { details: { reservationId }, headers });
  }
  return reservationFailure(answer.code, reservationId, { status: answer.status, message: options.message, ...(options.details && { details: options.details }) });
}

/**
 * The 503 for a reservation whose row is PENDING while no saga runs for it: its saga
 * closed without closing it (a first step whose result never arrived, committed after the
 * saga had closed). The reconciliation workflow will close it; until then it can be
 * neither paid nor cancelled.
 */
export function pendingWithoutSaga(reservationId: string): ApiError {
  return serviceUnavailable(ReservationErrorCode.SagaUnavailable, `Reservation ${reservationId} is PENDING without a running saga; it will be closed shortly, retry later`, {
    details: { reservationId },
    headers: { Location: reservationPath(reservationId) },
  });
}
