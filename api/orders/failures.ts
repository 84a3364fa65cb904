/**
 * How an order's cancellation reason is answered. Every {@link FailureType} is listed, so
 * adding a failure type does not compile until its answer is decided here, and
 * test/unit/failure-answers.test.ts walks every one of them through this table.
 *
 * The rule: a business rejection is a 4xx with the failure type as its code (the client
 * can change the request: 409 for a state conflict, 422 for what it asked); a failure of
 * ours (a step that failed in an unexpected way, a database that refused a write) is a
 * 500 `UnexpectedError`, never a 4xx, with the order's own `reason` kept in `order`.
 * Retrying the same request (same Idempotency-Key) returns the same finished order, so
 * a cancelled order is never answered 503.
 */
import { FailureType } from '../../common/index.ts';

/** The answer to an order cancelled for some reason: HTTP status and problem code. */
export interface FailureAnswer {
  status: number;
  code: string;
}

const conflict = (code: string): FailureAnswer => ({ status: 409, code });
/** An answer for a failure of the service: the client did nothing wrong. */
const serverFailure: FailureAnswer = { status: 500, code: FailureType.UnexpectedError };

/**
 * The answer to an order cancelled with each failure type. Types that belong to other
 * sagas or routes (seats, holds, operator retries) cannot cancel an order: should one
 * appear it is a bug of ours, answered as {@link serverFailure}.
 */
const ORDER_CANCELLATION_ANSWERS: Readonly<Record<FailureType, FailureAnswer>> = {
  [FailureType.OutOfStock]: conflict(FailureType.OutOfStock),
  [FailureType.InsufficientPoints]: { status: 422, code: FailureType.InsufficientPoints },
  // The order's coupon cannot be used (reserveCoupon refused it): the client may order without it.
  [FailureType.CouponNotFound]: { status: 422, code: FailureType.CouponNotFound },
  [FailureType.CouponNotOwned]: { status: 422, code: FailureType.CouponNotOwned },
  [FailureType.CouponAlreadyUsed]: { status: 422, code: FailureType.CouponAlreadyUsed },
  [FailureType.CouponExpired]: { status: 422, code: FailureType.CouponExpired },
  [FailureType.CouponMinimumNotMet]: { status: 422, code: FailureType.CouponMinimumNotMet },
  [FailureType.UnknownProduct]: conflict(FailureType.UnknownProduct),
  [FailureType.UnknownUser]: conflict(FailureType.UnknownUser),
  [FailureType.OrderTooLarge]: conflict(FailureType.OrderTooLarge),
  [FailureType.SagaAlreadyCompensated]: conflict(FailureType.SagaAlreadyCompensated),
  [FailureType.Cancelled]: conflict(FailureType.Cancelled),
  [FailureType.UnexpectedError]: serverFailure,
  [FailureType.DataException]: serverFailure,
  [FailureType.IntegrityConstraintViolation]: serverFailure,
  [FailureType.CompensationFailed]: serverFailure,
  [FailureType.SeatUnavailable]: serverFailure,
  [FailureType.UnknownSeat]: serverFailure,
  [FailureType.HoldExpired]: serverFailure,
  [FailureType.ReservationCancelled]: serverFailure,
  [FailureType.AlreadyConfirmed]: serverFailure,
  [FailureType.NotCompensationFailed]: serverFailure,
  [FailureType.CompensationRetryInProgress]: serverFailure,
  // A top-up's refusal (points): never a reason an order ends with.
  [FailureType.BalanceLimitExceeded]: serverFailure,
  [FailureType.HoldLimitExceeded]: serverFailure,
  [FailureType.PaymentInProgress]: serverFailure,
  // The waiting queue guards seat reservations only.
  [FailureType.QueueTokenRequired]: serverFailure,
  [FailureType.QueueTokenNotActive]: serverFailure,
  [FailureType.QueueTokenExpired]: serverFailure,
  [FailureType.QueueTokenInUse]: serverFailure,
};

/**
 * The status and code of `POST /orders` for an order CANCELLED with `reason` (a failure
 * type; absent for an order cancelled without one, answered 409 `OrderCancelled`). A
 * reason that is not a {@link FailureType} (an activity's own type) is a failure of ours:
 * 500 `UnexpectedError`.
 */
export function orderCancellationAnswer(reason: string | null | undefined): FailureAnswer {
  if (!reason) return conflict('OrderCancelled');
  return Object.hasOwn(ORDER_CANCELLATION_ANSWERS, reason) ? ORDER_CANCELLATION_ANSWERS[reason as FailureType] : serverFailure;
}
