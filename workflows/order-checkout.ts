/**
 * The order checkout saga (`order-<orderId>`), after docs/architecture.md:
 * createOrder (PENDING) -> reserveStock -> payWithPoints -> confirmOrder (the pivot)
 * -> notifyDataPlatform. Each compensation is registered before its step; on a business
 * failure or an unrecoverable error the compensations run in reverse and the order ends
 * CANCELLED with the failure type as reason.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  log,
  metricMeter,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { confirmedEventId, stepKey } from '../common/ids.ts';
import {
  ORDER_CONFIRMED_EVENT,
  orderOutcomeUpdate,
  orderProgressQuery,
  retryCompensationsUpdate,
  type OrderCheckoutInput,
  type OrderOutcome,
  type OrderProgress,
  type OrderStatus,
} from '../common/orders.ts';
import { FailureType } from '../common/failures.ts';
import {
  FORWARD_STEP_OPTIONS,
  LOCAL_FORWARD_STEP_OPTIONS,
  LOCAL_MUST_COMPLETE_OPTIONS,
  MUST_COMPLETE_OPTIONS,
} from './activity-options.ts';
import { notifyDataPlatform } from './notify.ts';
import { failureOf, type FailureSummary } from './failures.ts';
import { SagaObserver } from './observability.ts';
import { Saga } from './saga.ts';
import type { CreatedOrder } from '../activities/orders.ts';

/** The saga's database steps (`steps`) and its pivot and compensations (`mustComplete`). */
interface StepGroups {
  steps: Activities;
  mustComplete: Activities;
}

const REMOTE_STEPS: StepGroups = {
  steps: proxyActivities<Activities>(FORWARD_STEP_OPTIONS),
  mustComplete: proxyActivities<Activities>(MUST_COMPLETE_OPTIONS),
};
const LOCAL_STEPS: StepGroups = {
  steps: proxyLocalActivities<Activities>(LOCAL_FORWARD_STEP_OPTIONS),
  mustComplete: proxyLocalActivities<Activities>(LOCAL_MUST_COMPLETE_OPTIONS),
};
const compensationFailures = metricMeter.createCounter(
  'saga_compensation_failures',
  'failures',
  'Compensations that failed for good and parked a saga for an operator',
);

/**
 * Runs one order checkout. Returns the business outcome (CONFIRMED, CANCELLED with a
 * reason, or COMPENSATION_FAILED) once the data-platform notification is done; callers
 * that only need the outcome use the `orderOutcome` Update, which answers as soon as
 * the order is CONFIRMED or CANCELLED.
 */
export async function orderCheckout(input: OrderCheckoutInput): Promise<OrderOutcome> {
  const { workflowId } = workflowInfo();
  const progress: OrderProgress = { workflowId, status: 'PENDING', steps: [], compensations: [], notification: 'NOT_APPLICABLE' };
  let outcome: OrderOutcome | undefined;
  setHandler(orderProgressQuery, () => progress);
  // Handlers wait in non-cancellable scopes: a cancelled saga still answers with its outcome.
  setHandler(orderOutcomeUpdate, async () => {
    await CancellationScope.nonCancellable(() => condition(() => outcome !== undefined));
    // The progress travels with the answer, so the caller needs no Query (a round trip to this worker).
    return { ...outcome!, progress };
  });
  const observer = new SagaObserver('orderCheckout');
  observer.started({ orderId: input.orderId, userId: input.userId });
  const setStatus = (status: OrderStatus) => {
    progress.status = status;
    observer.status(status);
  };
  setStatus('PENDING');

  const finish = (status: OrderOutcome['status'], totalWon: number, failure?: FailureSummary): OrderOutcome => {
    setStatus(status);
    outcome = { orderId: input.orderId, status, totalWon, requestHash: input.requestHash };
    if (failure) Object.assign(outcome, { reason: failure.type, message: failure.message });
    return outcome;
  };

  const operator: OperatorState = { requested: false, completed: 0 };
  setHandler(
    retryCompensationsUpdate,
    async () => {
      const before = operator.completed;
      operator.requested = true;
      await CancellationScope.nonCancellable(() => condition(() => operator.completed > before));
      return outcome!;
    },
    { validator: () => assertParked(progress, operator) },
  );

  // Chosen by the input, fixed for the saga's life: replay sees the same commands.
  const { steps, mustComplete } = input.stepActivities === 'local' ? LOCAL_STEPS : REMOTE_STEPS;
  const saga = new Saga(progress, { hooks: observer });
  let order: CreatedOrder | undefined;
  try {
    order = await saga.step('createOrder', () => steps.createOrder({ ...input, workflowId }));
    saga.addCompensation('releaseStock', () => mustComplete.releaseStock({ orderId: input.orderId }));
    await saga.step('reserveStock', () => steps.reserveStock({ orderId: input.orderId }));
    saga.addCompensation('refundPoints', () =>
      mustComplete.refundPoints({ userId: input.userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') }),
    );
    const amountPoints = order.totalWon;
    await saga.step('payWithPoints', () =>
      steps.payWithPoints({ userId: input.userId, amountPoints, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') }),
    );
    // The pivot runs to its end even if the workflow is cancelled meanwhile: compensating
    // while it may still commit would leave a confirmed, refunded order.
    await CancellationScope.nonCancellable(() =>
      saga.step('confirmOrder', () => mustComplete.confirmOrder({ orderId: input.orderId })),
    );
  } catch (err) {
    const failure = failureOf(err);
    progress.failure = failure;
    log.warn('order checkout failed; compensating', { orderId: input.orderId, failureType: failure.type });
    return compensateAndClose(saga, mustComplete, input.orderId, order, failure, finish, operator);
  }

  const result = finish('CONFIRMED', order.totalWon);
  log.info('order confirmed', { orderId: input.orderId, totalWon: order.totalWon });
  await notifyConfirmed(progress, workflowId, input, order);
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return result;
}

/** Operator requests to retry the compensations of a parked saga. */
interface OperatorState {
  requested: boolean;
  /** Retries completed so far; the retry Update waits for it to grow. */
  completed: number;
}

async function compensateAndClose(
  saga: Saga,
  mustComplete: Activities,
  orderId: string,
  order: CreatedOrder | undefined,
  failure: FailureSummary,
  finish: (status: OrderOutcome['status'], totalWon: number, failure?: FailureSummary) => OrderOutcome,
  operator: OperatorState,
): Promise<OrderOutcome> {
  const totalWon = order?.totalWon ?? 0;
  // The workflow may have been cancelled: closing the order must still happen.
  return CancellationScope.nonCancellable(async () => {
    let retrying = false;
    for (;;) {
      try {
        await (retrying ? saga.retryFailed() : saga.compensate());
        break;
      } catch (err) {
        const compensationFailure = failureOf(err);
        log.error('order compensation failed; parked for an operator', {
          orderId,
          failureType: compensationFailure.type,
          failedCompensations: saga.failedCompensations,
        });
        compensationFailures.add(1, { workflowType: 'orderCheckout' });
        if (order) {
          await mustComplete.markOrderCompensationFailed({ orderId, reason: FailureType.CompensationFailed, message: compensationFailure.message });
        }
        finish('COMPENSATION_FAILED', totalWon, { type: FailureType.CompensationFailed, message: compensationFailure.message });
        if (retrying) operator.completed += 1;
        // Parked: an operator fixes the cause and sends the retryCompensations Update.
        await condition(() => operator.requested);
        operator.requested = false;
        retrying = true;
      }
    }
    if (order) await mustComplete.cancelOrder({ orderId, reason: failure.type, message: failure.message });
    const outcome = finish('CANCELLED', totalWon, failure);
    if (retrying) operator.completed += 1;
    return outcome;
  });
}

function notifyConfirmed(progress: OrderProgress, workflowId: string, input: OrderCheckoutInput, order: CreatedOrder): Promise<void> {
  // The order stays CONFIRMED whatever happens here: the notification never reverts it.
  return notifyDataPlatform(progress, workflowId, {
    eventId: confirmedEventId(workflowId),
    type: ORDER_CONFIRMED_EVENT,
    occurredAt: new Date().toISOString(),
    payload: { orderId: input.orderId, userId: input.userId, totalWon: order.totalWon, lines: order.lines },
  });
}

function assertParked(progress: OrderProgress, operator: OperatorState): void {
  if (progress.status !== 'COMPENSATION_FAILED' || operator.requested) {
    throw ApplicationFailure.nonRetryable(`The order is ${progress.status}, not waiting for a compensation retry`, FailureType.NotCompensationFailed);
  }
}

