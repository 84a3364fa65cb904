/**
 * Starting an order checkout saga and waiting, for a bounded time, for its business
 * outcome, which the workflow gives through the `orderOutcome` Update as soon as the
 * order is CONFIRMED or CANCELLED, never after the data-platform notification.
 */
import type { Client } from '@temporalio/client';
import { orderOutcomeUpdate, orderWorkflowId, type OrderCheckoutInput, type OrderOutcome } from '../../common/index.ts';
import { startSaga, type StartAnswer } from '../saga-start.ts';
import { ORDER_CHECKOUT_WORKFLOW } from '../temporal.ts';

/** What starting a checkout gave; `outcome` is the order's business outcome (see {@link StartAnswer}). */
export type CheckoutAnswer = StartAnswer<OrderOutcome>;

/**
 * Starts (or joins) the checkout saga of `input.orderId` and waits up to `waitMs` for its
 * outcome.
 *
 * Idempotent: the workflow id is `order-<orderId>`; a running saga with that id is reused
 * (USE_EXISTING) and a finished one is never started again (REJECT_DUPLICATE).
 *
 * @throws Temporal errors other than "already closed" and "no outcome within the wait"
 *   (unreachable service, failed Update).
 */
export function startCheckout(client: Client, taskQueue: string, waitMs: number, input: OrderCheckoutInput): Promise<CheckoutAnswer> {
  return startSaga(client, waitMs, {
    workflowType: ORDER_CHECKOUT_WORKFLOW,
    workflowId: orderWorkflowId(input.orderId),
    taskQueue,
    input,
    update: orderOutcomeUpdate,
  });
}
