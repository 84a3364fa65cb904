/**
 * The order checkout contract shared by the API, the workflow and the activities:
 * inputs, results, and the Query/Update definitions of `orderCheckout`.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { FailureType } from './failures.ts';
import type { SagaProgress } from './saga.ts';

/** Business status of an order. PENDING is the saga's semantic lock on the order. */
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'COMPENSATION_FAILED';

/** One requested line: `quantity` units (integer >= 1) of product `productId`. */
export interface OrderItem {
  productId: number;
  quantity: number;
}

/**
 * Input of the `orderCheckout` workflow.
 * - `orderId`: UUID chosen by the API (derived from the Idempotency-Key when given).
 * - `items`: distinct product ids, sorted by product id.
 * - `requestHash`: hex SHA-256 of the normalized request, so a reused Idempotency-Key
 *   with a different body is detected.
 */
export interface OrderCheckoutInput {
  orderId: string;
  userId: number;
  items: OrderItem[];
  requestHash: string;
  /**
   * How the saga runs its database steps and compensations (see {@link StepActivities}).
   * Absent in sagas started before the field existed: they run `remote`, as recorded.
   */
  stepActivities?: StepActivities;
  /**
   * The user's coupon to use (a `coupons` id, integer >= 1), if any: the saga reserves it
   * after the stock (`reserveCoupon`) and charges the discounted total. Absent: no coupon
   * step (and sagas started before the field existed).
   */
  couponId?: number;
}

/**
 * An order's pricing, in won: `subtotalWon` (the lines at order time), `discountWon` (the
 * coupon's, 0 without one; never above the subtotal), `totalWon` = subtotal - discount,
 * what is charged. `couponId` is the coupon used, null without one.
 */
export interface OrderPricing {
  subtotalWon: number;
  discountWon: number;
  totalWon: number;
  couponId: number | null;
}

/**
 * How a saga runs its short database steps (createOrder, reserveStock, payWithPoints,
 * confirmOrder, the compensations and the final status):
 * - `local`: as local activities, inside the workflow task that reaches them, so a
 *   checkout needs one workflow task up to its outcome instead of one per step (fewer
 *   round trips to the Temporal server; same retry policies, same at-least-once
 *   execution, results recorded as markers);
 * - `remote`: as normal activities on the task queue, each its own round trip.
 * The data-platform notification is always a normal activity.
 */
export type StepActivities = 'local' | 'remote';

/**
 * The business outcome of a checkout, known as soon as the order is CONFIRMED or
 * CANCELLED (the data-platform notification may still be running). Amounts in won;
 * one point pays one won.
 */
export interface OrderOutcome {
  orderId: string;
  status: Exclude<OrderStatus, 'PENDING'>;
  /** What is (or would have been) charged: the subtotal less the coupon's discount, once the coupon was reserved. */
  totalWon: number;
  /**
   * The order's pricing (see {@link OrderPricing}); absent in outcomes of sagas started
   * before coupons existed (their total is the subtotal, without discount).
   */
  pricing?: OrderPricing;
  reason?: FailureType;
  message?: string;
  requestHash: string;
  /**
   * The saga's progress when the outcome became known. Only in the `orderOutcome`
   * Update's answer (sagas answering before it existed leave it out), so the API answers
   * POST /orders without a Query.
   */
  progress?: OrderProgress;
}

/** Saga progress of an order checkout. */
export type OrderProgress = SagaProgress<OrderStatus>;

/** Query: the saga's progress (steps done, compensations run, status). */
export const orderProgressQuery = defineQuery<OrderProgress>('orderProgress');

/**
 * Update: waits until the business outcome is known and returns it. The API sends it
 * with update-with-start, so one round trip starts the saga and answers the user; it
 * never waits for the data platform.
 */
export const orderOutcomeUpdate = defineUpdate<OrderOutcome>('orderOutcome');

/**
 * Update (operator): re-runs the compensations of an order parked in
 * COMPENSATION_FAILED, after the cause was fixed, and returns the new outcome (CANCELLED
 * when they all succeed now, COMPENSATION_FAILED again otherwise). Its validator rejects
 * the call (`NotCompensationFailed`) for an order in any other state.
 */
export const retryCompensationsUpdate = defineUpdate<OrderOutcome>('retryCompensations');

/** Event type and payload sent to the data platform for a confirmed order. */
export const ORDER_CONFIRMED_EVENT = 'order.confirmed';

/**
 * Payload of the `order.confirmed` event: the order, its payer, its pricing (won:
 * `subtotalWon`, `discountWon`, `totalWon` charged, `couponId` or null) and its lines at
 * their order-time unit prices.
 */
export interface OrderConfirmedPayload extends OrderPricing {
  orderId: string;
  userId: number;
  lines: { productId: number; quantity: number; unitPriceWon: number }[];
}
