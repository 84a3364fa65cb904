/** The documented seat reservation routes (handlers: reservations/routes.ts). */
import {
  CancellingReservationSchema,
  CreateReservationBody,
  HoldViewSchema,
  PayReservationBody,
  PendingReservationSchema,
  QueueTokenParam,
  ReservationIdParams,
  ReservationViewSchema,
} from './schemas.ts';
import { IdempotencyKeyParam, JSON_BODY_PROBLEMS, LocationHeader, jsonAnswer, jsonBody, readRoute, route, type DocumentedRoute } from '../openapi/operation.ts';

/** The reservation routes. */
export const reservationRoutes: DocumentedRoute[] = [
  route('post', '/reservations', {
    access: 'user',
    operationId: 'createReservation',
    tag: 'Reservations',
    summary: 'Hold seats for a user until they pay',
    description: [
      'Starts (or, with the same `Idempotency-Key`, rejoins) the seat reservation saga and waits up to `ORDER_OUTCOME_WAIT_MS` for the hold. The seats stay HELD until `holdExpiresAt`; pay them with `POST /reservations/{id}/payment` before then.',
      '',
      'Repeating the request of a reservation that has since ended answers its end (410 `HoldExpired`, 409 `ReservationCancelled` or `CompensationFailed`). A hold refused by a failure of ours is 500 `UnexpectedError`. Nothing starts on a 4xx before the saga.',
      '',
      'Needs the caller\'s ACTIVE queue token for the performance in header `Queue-Token` (join with `POST /queue/tokens`), checked before anything starts: 403 `QueueTokenRequired` (none, or not the caller\'s for this performance), `QueueTokenNotActive` (still WAITING; with `tokenId` and `position`) or `QueueTokenExpired` (ended; join again), and 409 `QueueTokenInUse` while the token admits another PENDING reservation (pay or cancel it first; with `tokenId` and `reservationId`). A token that ends between that check and the hold makes the saga refuse the hold with the same codes. A repeated request (same `Idempotency-Key`) whose reservation exists is answered from it without the check.',
      '',
      'A user holds at most `RESERVATION_MAX_LIVE_HOLDS` live holds (default 4) and `RESERVATION_MAX_HELD_SEATS` seats (default 8) at once; a request past either is refused with 409 `HoldLimitExceeded` and holds nothing (before the saga, with the counts; or, when a concurrent request took the last slot, by the saga, which ends the reservation CANCELLED with that reason).',
    ].join('\n'),
    headers: [QueueTokenParam, IdempotencyKeyParam],
    requestBody: jsonBody(CreateReservationBody, 'The user, the performance and its seats.'),
    answers: {
      201: jsonAnswer(HoldViewSchema, 'The seats are held (or, for a repeated request, already paid).', { Location: LocationHeader }),
      202: jsonAnswer(PendingReservationSchema, 'The hold is not known within the wait: read `links.self`.', { Location: LocationHeader }),
    },
    problems: {
      403: ['Forbidden', 'QueueTokenRequired', 'QueueTokenNotActive', 'QueueTokenExpired'],
      ...JSON_BODY_PROBLEMS,
      409: ['SeatUnavailable', 'HoldLimitExceeded', 'QueueTokenInUse', 'ReservationCancelled', 'SagaAlreadyCompensated', 'CompensationFailed', 'AlreadyStarted'],
      410: ['HoldExpired'],
      422: ['UnknownUser', 'UnknownPerformance', 'UnknownSeat', 'IdempotencyKeyReused'],
      500: ['UnexpectedError'],
      503: ['TemporalUnavailable'],
    },
  }),

  readRoute('/reservations/:id', ReservationIdParams, {
    access: 'user',
    operationId: 'getReservation',
    tag: 'Reservations',
    summary: 'Read a reservation with its saga progress',
    description:
      'A reservation whose saga has started but not written its row yet is PENDING with `userId`, `performanceId`, `totalWon` and `createdAt` null and no seats. A confirmed reservation shows its `reservation.confirmed` event for the data platform under `event`: PENDING in the outbox until the relay delivers it, then DELIVERED (or FAILED when the platform refused it).',
    schema: ReservationViewSchema,
    answer: 'The reservation.',
    problems: { 503: ['TemporalUnavailable'] },
  }),

  route('post', '/reservations/:id/payment', {
    access: 'user',
    operationId: 'payReservation',
    tag: 'Reservations',
    summary: 'Pay a held reservation with points',
    description: [
      'Charges the price in points and confirms the seats, through the saga\'s `payReservation` Update. On 402 `InsufficientPoints` the hold is kept: top up and pay again before `holdExpiresAt`.',
      '',
      'Needs the caller\'s ACTIVE queue token the seats were held with, in header `Queue-Token`, checked before the payment: 403 `QueueTokenRequired` (none, or not that token), `QueueTokenNotActive` or `QueueTokenExpired` (it ended, e.g. its `activeUntil` passed), and nothing changes. A reservation that has ended (CONFIRMED, CANCELLED, EXPIRED) is answered from its row without the check. The payment ends the token (EXPIRED) and its slot admits the next user in the queue.',
      '',
      'On 503 `SagaUnavailable` (with `Retry-After`) the payment failed for a reason of ours, not of the request, and the hold is kept: pay again (a payment is charged once however often it is sent); the same code answers a reservation left PENDING without a running saga, which is closed shortly.',
    ].join('\n'),
    params: { path: ReservationIdParams },
    headers: [QueueTokenParam],
    requestBody: jsonBody(PayReservationBody, 'None, or an empty JSON object.', false),
    answers: {
      200: jsonAnswer(ReservationViewSchema, 'Paid: the reservation is CONFIRMED.', { Location: LocationHeader }),
      202: jsonAnswer(PendingReservationSchema, 'The payment has not finished within the wait: read `links.self`.', { Location: LocationHeader }),
    },
    problems: {
      403: ['Forbidden', 'QueueTokenRequired', 'QueueTokenNotActive', 'QueueTokenExpired'],
      ...JSON_BODY_PROBLEMS,
      402: ['InsufficientPoints'],
      404: ['NotFound'],
      409: ['SeatUnavailable', 'ReservationCancelled', 'AlreadyConfirmed', 'CompensationFailed', 'SagaAlreadyCompensated'],
      410: ['HoldExpired'],
      422: ['UnknownUser'],
      500: ['UnexpectedError'],
      503: ['SagaUnavailable', 'TemporalUnavailable'],
    },
  }),

  route('delete', '/reservations/:id', {
    access: 'user',
    operationId: 'cancelReservation',
    tag: 'Reservations',
    summary: 'Cancel a reservation',
    description: [
      'Cancels through the saga\'s `reservationCancel` Update and waits up to `ORDER_OUTCOME_WAIT_MS` for the saga to release the seats and close the reservation. Cancelling a reservation that already ended CANCELLED or EXPIRED answers it as it is (idempotent).',
      '',
      'A cancellation is refused with 409 `PaymentInProgress` while a payment runs, and nothing changes: the payment decides (read the reservation, and cancel again if it failed). Once a cancellation is accepted, payments are refused (409 `ReservationCancelled`).',
    ].join('\n'),
    params: { path: ReservationIdParams },
    answers: {
      200: jsonAnswer(ReservationViewSchema, 'The reservation is CANCELLED (or had already ended CANCELLED or EXPIRED).'),
      202: jsonAnswer(CancellingReservationSchema, 'The cancellation was accepted and the saga is still closing the reservation; read it for its end.', {
        Location: LocationHeader,
      }),
    },
    problems: {
      403: ['Forbidden'],
      400: ['ValidationFailed'],
      404: ['NotFound'],
      409: ['PaymentInProgress', 'AlreadyConfirmed', 'CompensationFailed'],
      500: ['UnexpectedError'],
      503: ['SagaUnavailable', 'TemporalUnavailable'],
    },
  }),

  route('post', '/reservations/:id/compensations/retry', {
    access: 'operator',
    operationId: 'retryReservationCompensations',
    tag: 'Operations',
    summary: 'Re-run the failed compensations of a reservation (operator)',
    description:
      'For a reservation parked in COMPENSATION_FAILED after the operator fixed the cause: runs its failed compensations again through the saga\'s `retryCompensations` Update, then closes it CANCELLED or EXPIRED (the end it was heading for). A second call while a retry runs is refused (409 `CompensationRetryInProgress`), so repeating the request is safe. Changes money and seats: deploy it behind operator authentication. Takes no body.',
    params: { path: ReservationIdParams },
    answers: {
      200: jsonAnswer(ReservationViewSchema, 'Every compensation succeeded now: the reservation is CANCELLED or EXPIRED and its seats are released.'),
      202: jsonAnswer(ReservationViewSchema, 'The retry still runs after `ORDER_OUTCOME_WAIT_MS`; the reservation as it is now.'),
    },
    problems: {
      400: ['ValidationFailed'],
      404: ['NotFound'],
      409: ['CompensationFailed', 'NotCompensationFailed', 'CompensationRetryInProgress'],
      503: ['TemporalUnavailable'],
    },
  }),
];
