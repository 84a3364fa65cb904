/**
 * Request and response schemas of the reservation routes (`POST /reservations`,
 * `GET /reservations/:id`, `POST /reservations/:id/payment`, `DELETE /reservations/:id`);
 * the body types are inferred from them. Amounts in won; instants ISO 8601 UTC.
 */
import { z } from 'zod';
import { MAX_HOLD_SECONDS, MIN_HOLD_SECONDS } from '../../common/index.ts';
import { QUEUE_TOKEN_HEADER } from '../../common/queue.ts';
import { EventViewSchema } from '../event-view.ts';
import { PaymentViewSchema } from '../payment-view.ts';
import { Instant, SelfLinks, pendingSagaSchema, sagaIdParams, sagaProgressSchema } from '../schemas.ts';
import { distinctBy, entityId } from '../validation.ts';

/** Most seats one reservation may hold. */
export const MAX_SEATS_PER_RESERVATION = 10;

/** Body of `POST /reservations`: 1..10 distinct seats of one performance, an optional hold in seconds. */
export const CreateReservationBody = z
  .strictObject({
    userId: entityId.optional().meta({ description: 'The user who pays, with points: always the caller (the token\'s subject). Optional; when given it must be the caller\'s id, else 403 `Forbidden`.' }),
    performanceId: entityId,
    seatIds: z
      .array(entityId)
      .min(1)
      .max(MAX_SEATS_PER_RESERVATION)
      .superRefine(distinctBy('seatIds', (seatId) => seatId))
      .meta({ description: `1..${MAX_SEATS_PER_RESERVATION} distinct seats of the performance.` }),
    holdSeconds: z
      .number()
      .int()
      .min(MIN_HOLD_SECONDS)
      .max(MAX_HOLD_SECONDS)
      .optional()
      .meta({ description: `How long the seats stay held waiting for payment, in seconds (${MIN_HOLD_SECONDS}..${MAX_HOLD_SECONDS}; default RESERVATION_HOLD_SECONDS).` }),
  })
  .meta({ id: 'CreateReservation', description: 'Seats of one performance to hold for a user until they pay.' });

/** A validated `POST /reservations` body: seats of one performance, the hold in seconds if given. */
export type CreateReservationRequest = z.output<typeof CreateReservationBody>;

/**
 * The `Queue-Token` request header of `POST /reservations` and `POST
 * /reservations/:id/payment` (required): the caller's ACTIVE queue token for the
 * performance, a UUID (reservations/queue-token.ts reads and checks it).
 */
export const QueueTokenParam = z.uuid().meta({
  description:
    'The `tokenId` of the caller\'s ACTIVE queue token for the performance (`POST /queue/tokens`); paying needs the token the seats were held with. Missing, unknown, someone else\'s or for another performance: 403 `QueueTokenRequired`; still WAITING: 403 `QueueTokenNotActive`; ended: 403 `QueueTokenExpired`. Not checked for a repeated request whose reservation exists, nor for paying a reservation that has ended (its row answers).',
  param: { id: 'QueueToken', in: 'header', name: QUEUE_TOKEN_HEADER, required: true },
});

/** Body of `POST /reservations/:id/payment`: none, or an empty JSON object. */
export const PayReservationBody = z.strictObject({}).optional();

/** Path parameters `{ id }` of a reservation route: a UUID, lower-cased (workflow ids are case-sensitive). */
export const ReservationIdParams = sagaIdParams('reservation');

/** Business status of a reservation (common/reservations.ts `ReservationStatus`). */
export const ReservationStatusSchema = z
  .enum(['PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED', 'COMPENSATION_FAILED'])
  .meta({
    id: 'ReservationStatus',
    description:
      'PENDING: the seats are held until `holdExpiresAt`, waiting for payment; CONFIRMED: paid, seats RESERVED; CANCELLED: by the user or refused (`reason`); EXPIRED: not paid in time, seats released; COMPENSATION_FAILED: an undo step failed for good.',
  });

/** Saga progress of a reservation, plus its hold expiry. */
export const ReservationProgressSchema = sagaProgressSchema(ReservationStatusSchema)
  .extend({ holdExpiresAt: Instant.nullable() })
  .meta({ id: 'ReservationSagaProgress', description: 'Live progress of the reservation saga, with its hold expiry.' });

/**
 * A reservation as the API shows it. Amounts in won; timestamps ISO 8601 UTC. `seatIds`
 * are the seats requested (kept after a release). `reason` and `message` say why a
 * CANCELLED, EXPIRED or COMPENSATION_FAILED reservation ended so. `saga` is the
 * workflow's progress, or null when the workflow cannot be queried (gone or unreachable).
 * A reservation whose saga has started but not yet written its row is PENDING with
 * `userId`, `performanceId`, `totalWon`, `holdExpiresAt`, `createdAt` null and no seats.
 */
export const ReservationViewSchema = z
  .object({
    reservationId: z.uuid(),
    userId: entityId.nullable(),
    performanceId: entityId.nullable(),
    status: ReservationStatusSchema,
    seatIds: z.array(entityId).meta({ description: 'The seats requested, ascending.' }),
    totalWon: z.number().int().nonnegative().nullable().meta({ description: 'Price of the seats, in won.' }),
    holdExpiresAt: Instant.nullable().meta({ description: 'When the hold lapses unless paid.' }),
    reason: z.string().nullable().meta({ description: 'Why it ended: a failure type such as `SeatUnavailable` or `HoldExpired`.' }),
    message: z.string().nullable(),
    createdAt: Instant.nullable(),
    confirmedAt: Instant.nullable(),
    payment: PaymentViewSchema.nullable().meta({ description: 'The reservation\'s payment (method, status, amount, when paid and refunded); null while nothing was paid.' }),
    event: EventViewSchema.nullable().meta({ description: 'The `reservation.confirmed` event for the data platform and its delivery state; null until the reservation is confirmed.' }),
    saga: ReservationProgressSchema.nullable().meta({ description: 'Live saga progress; null when the workflow cannot be queried.' }),
  })
  .meta({ id: 'Reservation', description: 'A seat reservation with the live progress of its saga. Amounts in won.' });

/** A reservation as the API shows it (see {@link ReservationViewSchema}). */
export type ReservationView = z.output<typeof ReservationViewSchema>;

/** Answer of `POST /reservations` once the seats are held (201): pay before `holdExpiresAt`. */
export const HoldViewSchema = z
  .object({
    reservationId: z.uuid(),
    status: ReservationStatusSchema.meta({ description: 'PENDING (held, pay before `holdExpiresAt`) or CONFIRMED (a replay after payment).' }),
    seatIds: z.array(entityId).meta({ description: 'The held seats, ascending.' }),
    totalWon: z.number().int().nonnegative().meta({ description: 'Price of the seats, in won.' }),
    holdExpiresAt: Instant.meta({ description: 'When the hold lapses, and the seats are released, unless paid.' }),
    links: z.object({
      self: SelfLinks.shape.self,
      payment: z.string().meta({ description: 'Where to POST the payment.' }),
    }),
  })
  .meta({ id: 'Hold', description: 'The seats are held for the user; pay at `links.payment` before `holdExpiresAt`.' });

/** Answer of `POST /reservations` once the seats are held (201). */
export type HoldView = z.output<typeof HoldViewSchema>;

/** Answer while a hold or payment is not known yet (202). */
export const PendingReservationSchema = pendingSagaSchema('reservationId').meta({
  id: 'PendingReservation',
  description: 'The saga has not answered within the wait: read `links.self`, or repeat the request (with the same Idempotency-Key for a new reservation).',
});

/** Answer while a hold or payment is not known yet (202). */
export type PendingReservationBody = z.output<typeof PendingReservationSchema>;

/** Answer of `DELETE /reservations/:id` when the cancellation was handed to the saga (202). */
export const CancellingReservationSchema = z
  .object({
    reservationId: z.uuid(),
    status: z.literal('CANCELLING'),
  })
  .meta({ id: 'CancellingReservation', description: 'The saga was asked to cancel; the seats are released shortly. Read the reservation for its end.' });

/** Answer of `DELETE /reservations/:id` when the cancellation was handed to the saga (202). */
export type CancellingReservationBody = z.output<typeof CancellingReservationSchema>;
