/**
 * Starting an order checkout saga and waiting, for a bounded time, for its business
 * outcome. One Update-with-Start round trip starts the saga (or reaches the running one
 * with the same id) and asks for the outcome, which the workflow gives as soon as the
 * order is CONFIRMED or CANCELLED, never after the data-platform notification.
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  type Client,
} from '@temporalio/client';
import { orderOutcomeUpdate, orderWorkflowId, type OrderCheckoutInput, type OrderOutcome } from '../../common/index.ts';
import { ORDER_CHECKOUT_WORKFLOW, SHORT_CALL_DEADLINE_MS, withDeadline, type OrderCheckoutWorkflow } from '../temporal.ts';

/**
 * What starting a checkout gave:
 * - `outcome`: the saga answered with its business outcome within the wait;
 * - `pending`: the saga runs (or its start is in flight) but has no outcome yet;
 * - `closed`: a saga with this id already finished, so no new one was started
 *   (REJECT_DUPLICATE); its result is in the database.
 */
export type CheckoutAnswer = { kind: 'outcome'; outcome: OrderOutcome } | { kind: 'pending' } | { kind: 'closed' };

/** Memo key under which each saga carries the hash of the request that started it. */
export const REQUEST_HASH_MEMO = 'requestHash';

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
export async function startCheckout(
  client: Client,
  taskQueue: string,
  waitMs: number,
  input: OrderCheckoutInput,
): Promise<CheckoutAnswer> {
  const startWorkflowOperation = new WithStartWorkflowOperation<OrderCheckoutWorkflow>(ORDER_CHECKOUT_WORKFLOW, {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue,
    args: [input],
    memo: { [REQUEST_HASH_MEMO]: input.requestHash },
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    // One deadline covers both calls: the start waits for a worker to accept the Update.
    const outcome = await withDeadline(client, waitMs, async () => {
      const update = await client.workflow.startUpdateWithStart(orderOutcomeUpdate, {
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        startWorkflowOperation,
      });
      return update.result();
    });
    return { kind: 'outcome', outcome };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'closed' };
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'pending' };
    throw err;
  }
}

/**
 * The request hash a running saga was started with (from its memo), so a pending answer
 * can still detect a reused Idempotency-Key.
 *
 * @returns the hash; undefined when the saga exists without one; null when no saga exists
 *   (its start never reached Temporal).
 * @throws Temporal unavailability.
 */
export async function startedRequestHash(client: Client, orderId: string): Promise<string | undefined | null> {
  try {
    const description = await withDeadline(client, SHORT_CALL_DEADLINE_MS, () =>
      client.workflow.getHandle(orderWorkflowId(orderId)).describe(),
    );
    const hash = description.memo?.[REQUEST_HASH_MEMO];
    return typeof hash === 'string' ? hash : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
