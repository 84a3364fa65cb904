/**
 * Operator routes for orders.
 *
 * `POST /orders/:id/compensations/retry`: re-runs the compensations of an order parked in
 * COMPENSATION_FAILED (after the operator fixed their cause), through the saga's
 * `retryCompensations` Update, and answers with the order view: 200 CANCELLED when they
 * all succeeded now, 409 `CompensationFailed` when one failed again, 202 when the retry
 * is still running after `ORDER_OUTCOME_WAIT_MS`; 409 `NotCompensationFailed` for an
 * order in any other state; 404 for an unknown order; 400 for a bad id.
 * This route changes money and stock: deploy it behind operator authentication.
 */
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
} from '@temporalio/client';
import { FailureType, orderWorkflowId, retryCompensationsUpdate } from '../../common/index.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { ApiError, ErrorCode, notFound } from '../errors.ts';
import { findOrderView } from '../orders/order-view.ts';
import { OrderIdParams, type OrderView } from '../orders/schemas.ts';
import { applicationFailureIn, isTemporalUnavailable, withDeadline } from '../temporal.ts';

type RetryAnswer = 'done' | 'pending';

async function retryCompensations(deps: AppDeps, orderId: string): Promise<RetryAnswer> {
  try {
    await withDeadline(deps.client, deps.config.api.orderOutcomeWaitMs, async () => {
      const update = await deps.client.workflow
        .getHandle(orderWorkflowId(orderId))
        .startUpdate(retryCompensationsUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
      return update.result();
    });
    return 'done';
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (isTemporalUnavailable(err) && !(err instanceof WorkflowNotFoundError))) {
      return 'pending';
    }
    const refusal = err instanceof WorkflowUpdateFailedError ? applicationFailureIn(err.cause) : undefined;
    if (err instanceof WorkflowNotFoundError || refusal?.type === FailureType.NotCompensationFailed) {
      throw new ApiError(409, FailureType.NotCompensationFailed, 'The order is not waiting for a compensation retry', {
        details: { orderId },
      });
    }
    throw err;
  }
}

/** Registers the operator routes of orders. */
export function registerOrderOperationRoutes(router: AppRouter, deps: AppDeps): void {
  router.post<object, object, OrderView>('/orders/:id/compensations/retry', async (ctx) => {
    const { id } = OrderIdParams.parse(ctx.params);
    const before = await findOrderView(deps, ctx.state.log, id);
    if (!before) throw notFound(`order ${id}`);
    const answer = await retryCompensations(deps, id);
    const view = (await findOrderView(deps, ctx.state.log, id)) ?? before;
    ctx.state.log.warn({ orderId: id, answer, status: view.status }, 'operator retried compensations');
    if (answer === 'pending') {
      ctx.status = 202;
    } else if (view.status === 'COMPENSATION_FAILED') {
      throw new ApiError(409, ErrorCode.CompensationFailed, view.message ?? 'A compensation failed again', { details: { order: view } });
    }
    ctx.body = view;
  });
}
