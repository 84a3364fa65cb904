/**
 * The identity of every saga in one place: its workflow type name, how a request's
 * Idempotency-Key becomes its id and workflow id, what its request fingerprint covers,
 * and the idempotency keys of its steps. The id of a saga is derived from the idempotency
 * key of the request that started it (Temporal rejects a second workflow with the same
 * id), so these formats are part of the public contract: changing one lets a retried
 * request start a second saga.
 *
 * The digests themselves (HMAC-SHA256 with the server's IDEMPOTENCY_SECRET, SHA-256) need
 * node:crypto and the secret, which the workflow bundle does not take: the API computes
 * them from the messages and canonical forms written here (api/idempotency.ts).
 */
import type { OrderCheckoutInput, OrderItem } from './orders.ts';
import type { TopUpInput, TopUpResult } from './points.ts';

/**
 * Workflow type names: the names of the workflow functions, persisted in every history
 * and visibility record, so a rename is a breaking change. The API starts workflows by
 * these names and never imports workflows/.
 */
export const ORDER_CHECKOUT_WORKFLOW = 'orderCheckout';
/** Workflow type name of the seat reservation saga. */
export const SEAT_RESERVATION_WORKFLOW = 'seatReservation';
/** Workflow type name of a point top-up. */
export const TOP_UP_POINTS_WORKFLOW = 'topUpPoints';
/** Workflow type name of the reconciliation run that closes orphaned sagas (workflows/reconciliation.ts). */
export const RECONCILIATION_WORKFLOW = 'reconcileSagas';
/**
 * Id of the Temporal Schedule that starts {@link RECONCILIATION_WORKFLOW}; also the prefix
 * of its runs' workflow ids (the Schedule appends the firing time).
 */
export const RECONCILIATION_SCHEDULE_ID = 'saga-reconciliation';

/**
 * Signature of `orderCheckout`, for typed `args` without importing workflows/. The API
 * reads the outcome through the `orderOutcome` Update, never through the workflow result.
 */
export type OrderCheckoutWorkflow = (input: OrderCheckoutInput) => Promise<unknown>;
/** Signature of `topUpPoints`: credits the points and returns the new balance. */
export type TopUpPointsWorkflow = (input: TopUpInput) => Promise<TopUpResult>;

/** Workflow id of the order checkout saga of order `orderId` (a UUID): `order-<orderId>`. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/** Workflow id of the seat reservation saga of `reservationId` (a UUID): `reservation-<reservationId>`. */
export function reservationWorkflowId(reservationId: string): string {
  return `reservation-${reservationId}`;
}

/** Workflow id of a point top-up: `points-top-up-<topUpId>`. */
export function topUpWorkflowId(topUpId: string): string {
  return `points-top-up-${topUpId}`;
}

/** The sagas whose id a request's Idempotency-Key derives (the first element of {@link sagaIdMessage}). */
export type SagaIdKind = 'order' | 'reservation' | 'topup';

/**
 * What a saga id is derived from when the request has an Idempotency-Key: the JSON array
 * `[kind, userId, key]`. JSON writes each string with its quotes and escapes, so the
 * encoding is injective: `(1, "2x")` and `(12, "x")`, or a key containing `","`, never
 * give the same message, and the same key of two users never gives the same id. The API
 * keys it with the server secret (api/idempotency.ts: HMAC-SHA256, as a UUID v8).
 */
export function sagaIdMessage(kind: SagaIdKind, userId: number, idempotencyKey: string): string {
  return JSON.stringify([kind, userId, idempotencyKey]);
}

/**
 * What an order request fingerprint covers: `JSON.stringify({userId, items})` with `items`
 * as given (the API sorts them by product id first) and each written as `{productId, quantity}`.
 */
export function orderRequestForm(userId: number, items: readonly OrderItem[]): string {
  const normalized = items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
  return JSON.stringify({ userId, items: normalized });
}

/** The normalized request a reservation fingerprint covers; `holdMs` in ms. */
export interface ReservationRequest {
  userId: number;
  performanceId: number;
  seatIds: readonly number[];
  holdMs: number;
}

/**
 * What a reservation request fingerprint covers: `JSON.stringify({userId, performanceId,
 * seatIds, holdMs})` with the seat ids sorted ascending and the hold resolved to ms (an
 * omitted `holdSeconds` counts as the default).
 */
export function reservationRequestForm(request: ReservationRequest): string {
  const { userId, performanceId, seatIds, holdMs } = request;
  return JSON.stringify({ userId, performanceId, seatIds: [...seatIds].sort((a, b) => a - b), holdMs });
}

/**
 * Idempotency key of one step of a saga: `<workflowId>:<step>`. Derived in the workflow,
 * passed in the activity input, and stored under a unique constraint by the activity, so
 * a retried step is a lookup instead of a second effect.
 */
export function stepKey(workflowId: string, step: string): string {
  return `${workflowId}:${step}`;
}

/** Event id of the data-platform event of a confirmed saga: `<workflowId>:confirmed`. */
export function confirmedEventId(workflowId: string): string {
  return stepKey(workflowId, 'confirmed');
}
