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
  /** The order's total exceeds what one order may cost (2,147,483,647 won). */
  OrderTooLarge: 'OrderTooLarge',
  /** A requested seat is held or reserved by someone else; nothing was held. */
  SeatUnavailable: 'SeatUnavailable',
  /** A seat id does not exist or belongs to another performance. */
  UnknownSeat: 'UnknownSeat',
  /** The hold expired before the reservation was paid; the seats were released. */
  HoldExpired: 'HoldExpired',
  /** The reservation was cancelled by its user. */
  ReservationCancelled: 'ReservationCancelled',
  /** The reservation is already paid and confirmed. */
  AlreadyConfirmed: 'AlreadyConfirmed',
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
} as const;

/** One of {@link FailureType}'s values. */
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
