/**
 * The problem types of the saga failure types (common/failures.ts) an order or reservation
 * can end with or be refused with: statuses, titles and descriptions. Part of
 * `problemTypes` in problem-types.ts (which checks their shape), apart because the list is long.
 */
import { FailureType } from '../common/index.ts';

/** The failure types' problem documentation, by failure type (and `OrderCancelled`). */
export const failureProblemTypes = {
  [FailureType.OutOfStock]: {
    statuses: [409],
    title: 'Out of stock',
    description: 'A product does not have enough stock for its line; the order was cancelled and nothing was charged.',
  },
  [FailureType.InsufficientPoints]: {
    statuses: [402, 422],
    title: 'Insufficient points',
    description: 'The point balance is below the price: a reservation keeps its hold (402, with `balancePoints` and `requiredPoints`), an order is cancelled (422).',
  },
  [FailureType.CouponNotFound]: {
    statuses: [422],
    title: 'Coupon not found',
    description: 'The order names a coupon that does not exist; the order was cancelled, its stock released, nothing was charged. Order again without it.',
  },
  [FailureType.CouponNotOwned]: {
    statuses: [422],
    title: 'Coupon not owned',
    description: 'The order\'s coupon was issued to another user; the order was cancelled, its stock released, nothing was charged.',
  },
  [FailureType.CouponAlreadyUsed]: {
    statuses: [422],
    title: 'Coupon already used',
    description: 'The order\'s coupon is used, or reserved by another order of its owner that is still running; the order was cancelled, its stock released, nothing was charged.',
  },
  [FailureType.CouponExpired]: {
    statuses: [422],
    title: 'Coupon expired',
    description: 'The order\'s coupon is outside its campaign\'s validity window; the order was cancelled, its stock released, nothing was charged.',
  },
  [FailureType.CouponMinimumNotMet]: {
    statuses: [422],
    title: 'Coupon minimum not met',
    description: 'The order\'s subtotal is below the minimum order amount of the coupon\'s campaign; the order was cancelled, its stock released, nothing was charged.',
  },
  [FailureType.OrderTooLarge]: {
    statuses: [422, 409],
    title: 'Order too large',
    description: 'The order total exceeds what one order may cost (`ORDER_TOTAL_LIMIT_WON`): refused before anything starts (422, with `totalWon` and `orderTotalLimitWon`), or the order was cancelled (409).',
  },
  [FailureType.BalanceLimitExceeded]: {
    statuses: [422],
    title: 'Balance limit exceeded',
    description: 'The top-up would take the point balance above its cap (`POINTS_BALANCE_LIMIT`); nothing was credited. Members `userId`, `balancePoints`, `amountPoints`, `balanceLimitPoints`.',
  },
  [FailureType.SeatUnavailable]: {
    statuses: [409],
    title: 'Seat unavailable',
    description: 'A requested seat is held or sold by someone else; `seatIds` lists them when known.',
  },
  [FailureType.HoldLimitExceeded]: {
    statuses: [409],
    title: 'Hold limit exceeded',
    description:
      'The user already has as many live seat holds (`RESERVATION_MAX_LIVE_HOLDS`) or would hold more seats (`RESERVATION_MAX_HELD_SEATS`) than allowed; nothing was held. Pay or cancel a hold, or wait for one to expire. Refused before the saga: members `userId`, `liveHolds`, `heldSeats`, `requestedSeats`, `maxLiveHolds`, `maxHeldSeats`; refused by the saga (a concurrent request took the last slot): the reservation ended CANCELLED with this reason.',
  },
  [FailureType.UnknownSeat]: {
    statuses: [422],
    title: 'Unknown seat',
    description: 'Some seat ids do not exist or belong to another performance; `seatIds` lists them.',
  },
  [FailureType.HoldExpired]: {
    statuses: [410],
    title: 'Hold expired',
    description: 'The hold expired before the reservation was paid, and the seats were released.',
  },
  [FailureType.ReservationCancelled]: {
    statuses: [409],
    title: 'Reservation cancelled',
    description: 'The reservation was cancelled, by its user or because its hold was refused.',
  },
  [FailureType.AlreadyConfirmed]: {
    statuses: [409],
    title: 'Already confirmed',
    description: 'The reservation is already paid and confirmed.',
  },
  [FailureType.PaymentInProgress]: {
    statuses: [409],
    title: 'Payment in progress',
    description: 'The reservation cannot be cancelled while its payment is under way; nothing changed. Read the reservation: if the payment failed, cancel again.',
  },
  [FailureType.QueueTokenRequired]: {
    statuses: [403],
    title: 'Queue token required',
    description:
      'Holding seats or paying needs the caller\'s queue token for the performance in the `Queue-Token` header (`POST /queue/tokens`), and none was sent, or the one sent is unknown, another user\'s, for another performance, or (paying) not the token the reservation was held with; nothing changed.',
  },
  [FailureType.QueueTokenNotActive]: {
    statuses: [403],
    title: 'Queue token not active',
    description: 'The caller\'s queue token is still WAITING in line; nothing changed. Follow its `position` (`GET /queue/tokens/{id}`) and try again once it is ACTIVE. Members `tokenId`, `position` when known.',
  },
  [FailureType.QueueTokenExpired]: {
    statuses: [403],
    title: 'Queue token expired',
    description: 'The caller\'s queue token has ended (its reservation was paid, its `activeUntil` passed, or it was cancelled); nothing changed. Join the queue again. Member `tokenId`.',
  },
  [FailureType.QueueTokenInUse]: {
    statuses: [409],
    title: 'Queue token in use',
    description:
      'The queue token already admits a PENDING reservation (one at a time): pay or cancel it before holding again; and a token cannot be cancelled while that reservation is PENDING. Nothing changed. Members `tokenId`, `reservationId`.',
  },
  [FailureType.SagaAlreadyCompensated]: {
    statuses: [409],
    title: 'Saga already compensated',
    description: 'A step arrived after its saga had already been undone; the order was cancelled.',
  },
  [FailureType.Cancelled]: {
    statuses: [409],
    title: 'Cancelled',
    description: 'The saga was cancelled before its point of no return; nothing stays charged or reserved.',
  },
  [FailureType.UnexpectedError]: {
    statuses: [500],
    title: 'Unexpected failure',
    description: 'A step failed for good in a way that is not a business rejection (a failure of the service, not of the request); the saga was undone and `order.reason` names the failure.',
  },
  [FailureType.NotCompensationFailed]: {
    statuses: [409],
    title: 'Not waiting for a compensation retry',
    description: 'The order or reservation is not parked in COMPENSATION_FAILED (or its saga has ended), so there is nothing to retry.',
  },
  [FailureType.CompensationRetryInProgress]: {
    statuses: [409],
    title: 'Compensation retry in progress',
    description: 'A retry of this saga\'s compensations is already running; wait for its answer (read the order or reservation) before asking again.',
  },
  [FailureType.DataException]: {
    statuses: [500],
    title: 'Data exception',
    description: 'A step\'s database statement was refused with a data exception (SQLSTATE class 22) and was not retried; the saga was undone, or parked for an operator when a compensation hit it.',
  },
  [FailureType.IntegrityConstraintViolation]: {
    statuses: [500],
    title: 'Integrity constraint violation',
    description: 'A step\'s database statement violated an integrity constraint (SQLSTATE class 23) and was not retried; the saga was undone, or parked for an operator when a compensation hit it.',
  },
  OrderCancelled: {
    statuses: [409],
    title: 'Order cancelled',
    description: 'The order was cancelled without a recorded reason.',
  },
} as const; // checked as ProblemTypes where problem-types.ts spreads it in
