/**
 * Failure types: the stable `type` of the non-retryable `ApplicationFailure`s that
 * activities throw for business rejections, and of the reasons a saga ends with.
 * The API maps them to HTTP statuses; they are part of the public contract
 * (persisted in workflow histories and in `orders.cancellation_reason`), so never rename.
 */
export const FailureType = {
  /** Not enough stock for a line; nothing was reserved. */
  OutOfStock: 'OutOfStock',
  /** The user's point balance is below the amount to pay; nothing was charged. */
  InsufficientPoints: 'InsufficientPoints',
  /** A product id in the order does not exist. */
  UnknownProduct: 'UnknownProduct',
  /** The user (point account) does not exist. */
  UnknownUser: 'UnknownUser',
  /** The order's total exceeds what one order may cost (`ORDER_TOTAL_LIMIT_WON`, default 1,000,000,000 won). */
  OrderTooLarge: 'OrderTooLarge',
  /**
   * A top-up would take the balance above the cap (`POINTS_BALANCE_LIMIT`); nothing was
   * credited. `details[0]`: `{ userId, balancePoints, amountPoints, balanceLimitPoints }`.
   * Refunds are never refused by the cap.
   */
  BalanceLimitExceeded: 'BalanceLimitExceeded',
  /** A requested seat is held or reserved by someone else; nothing was held. */
  SeatUnavailable: 'SeatUnavailable',
  /**
   * The user already has as many live seat holds, or holds as many seats, as allowed
   * (RESERVATION_MAX_LIVE_HOLDS, RESERVATION_MAX_HELD_SEATS); nothing was held.
   * `details[0]`: `{ userId, liveHolds, heldSeats, requestedSeats, maxLiveHolds, maxHeldSeats }`.
   */
  HoldLimitExceeded: 'HoldLimitExceeded',
  /** A seat id does not exist or belongs to another performance. */
  UnknownSeat: 'UnknownSeat',
  /** The hold expired before the reservation was paid; the seats were released. */
  HoldExpired: 'HoldExpired',
  /** The reservation was cancelled by its user. */
  ReservationCancelled: 'ReservationCancelled',
  /** The reservation is already paid and confirmed. */
  AlreadyConfirmed: 'AlreadyConfirmed',
  /** A cancellation was refused because the reservation's payment is under way; its outcome decides. */
  PaymentInProgress: 'PaymentInProgress',
  /** The order names a coupon that does not exist; nothing was reserved. `details[0]`: `{ orderId, couponId }`. */
  CouponNotFound: 'CouponNotFound',
  /** The order's coupon was issued to another user; nothing was reserved. `details[0]`: `{ orderId, couponId }`. */
  CouponNotOwned: 'CouponNotOwned',
  /**
   * The order's coupon is RESERVED by another order or already USED; nothing was reserved.
   * `details[0]`: `{ orderId, couponId, couponStatus }`.
   */
  CouponAlreadyUsed: 'CouponAlreadyUsed',
  /** The order's coupon is outside its campaign's validity window; nothing was reserved. `details[0]`: `{ orderId, couponId, validFrom, validUntil }`. */
  CouponExpired: 'CouponExpired',
  /**
   * The order's subtotal is below the coupon campaign's minimum order amount; nothing was
   * reserved. `details[0]`: `{ orderId, couponId, subtotalWon, minOrderWon }`.
   */
  CouponMinimumNotMet: 'CouponMinimumNotMet',
  /**
   * Holding seats or paying needs the caller's queue token for the performance, and none
   * was given, or the one given is unknown, not the caller's or for another performance
   * (or, when paying, not the one the reservation was held with); nothing changed.
   */
  QueueTokenRequired: 'QueueTokenRequired',
  /** The caller's queue token is still WAITING for its turn; nothing changed. `details[0]`: `{ tokenId, position }`. */
  QueueTokenNotActive: 'QueueTokenNotActive',
  /** The caller's queue token has ended (paid, timed out or cancelled); join the queue again. `details[0]`: `{ tokenId }`. */
  QueueTokenExpired: 'QueueTokenExpired',
  /** The queue token already admits a live (PENDING) reservation; a token admits one at a time. `details[0]`: `{ tokenId, reservationId }`. */
  QueueTokenInUse: 'QueueTokenInUse',
  /** A step arrived after its saga had already compensated it (a late retry). */
  SagaAlreadyCompensated: 'SagaAlreadyCompensated',
  /** The saga was cancelled (workflow cancellation) before its pivot step. */
  Cancelled: 'Cancelled',
  /** A step failed in a way that is neither a business rejection nor transient. */
  UnexpectedError: 'UnexpectedError',
  /** An operator asked to retry compensations of a saga that is not parked in COMPENSATION_FAILED. */
  NotCompensationFailed: 'NotCompensationFailed',
  /** A compensation failed for good; the saga needs an operator. */
  CompensationFailed: 'CompensationFailed',
  /**
   * An operator asked to retry compensations while a retry of the same saga is still
   * running (refused by the retry Update's validator; send it again once that one answered).
   */
  CompensationRetryInProgress: 'CompensationRetryInProgress',
  /**
   * A statement of an activity was refused by PostgreSQL with a data exception (SQLSTATE
   * class 22: a value out of range, a division by zero, an invalid input): the same
   * statement would be refused again, so it is not retried. `details[0]`: `{ sqlState,
   * activityType }`, plus `table`, `column`, `constraint` when PostgreSQL named them.
   */
  DataException: 'DataException',
  /**
   * A statement of an activity violated an integrity constraint (SQLSTATE class 23: a
   * check, unique, foreign key or not-null constraint): not retried. `details[0]`:
   * `{ sqlState, activityType, constraint, table, column }` (those PostgreSQL named).
   */
  IntegrityConstraintViolation: 'IntegrityConstraintViolation',
} as const;

/** One of {@link FailureType}'s values. */
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
