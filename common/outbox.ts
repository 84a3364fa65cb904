/**
 * The transactional outbox of data-platform events (table `data_platform_deliveries`):
 * the pivot of each saga (activities/pivots.ts) writes its event there, PENDING, in the
 * transaction that confirms the order or reservation, and announces it on
 * {@link OUTBOX_CHANNEL}; the relay (worker/outbox-relay.ts) delivers it to the data
 * platform as `{ eventId, type, occurredAt, payload }`, rebuilt from the row's
 * `event_id`, `event_type`, `occurred_at` and `payload`. Workflow-safe: constants and types.
 */
import type { OrderConfirmedPayload } from './orders.ts';

export { ORDER_CONFIRMED_EVENT, type OrderConfirmedPayload } from './orders.ts';
export { RESERVATION_CONFIRMED_EVENT } from './reservations.ts';

/**
 * PostgreSQL NOTIFY channel on which a pivot announces a new outbox row (its payload is
 * the row's event id), delivered at commit; the relay LISTENs on it.
 */
export const OUTBOX_CHANNEL = 'data_platform_outbox';

/**
 * Patch id (`patched()`) of the sagas that end at their pivot: the pivot wrote the event
 * into the outbox and the saga never calls `notifyDataPlatform` (workflows/notify.ts).
 * Sagas started before it deliver their event themselves, as they did.
 */
export const OUTBOX_AFTER_PIVOT_PATCH = 'outbox-after-pivot';

/** Delivery states of an outbox row: PENDING until the platform accepts it (DELIVERED) or refuses it for good (FAILED). */
export const OUTBOX_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;

/** Delivery state of an outbox row (see {@link OUTBOX_STATUSES}). */
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/**
 * Payload of the `reservation.confirmed` event: the reservation, its payer, the
 * performance, its seat ids (as the hold request named them) and the total paid in won.
 */
export interface ReservationConfirmedPayload {
  reservationId: string;
  userId: number;
  performanceId: number;
  seatIds: number[];
  totalWon: number;
}

/** The payload of an outbox event, by event type. */
export type OutboxPayload = OrderConfirmedPayload | ReservationConfirmedPayload;
