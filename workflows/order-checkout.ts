/**
 * The order checkout saga (`order-<orderId>`), after docs/architecture.md:
 * createOrder (PENDING) -> reserveStock -> reserveCoupon (only with a `couponId`, behind
 * the patch {@link ORDER_COUPON_PATCH}) -> payWithPoints (the discounted total) ->
 * confirmOrder (the pivot, which writes the `order.confirmed` event into the outbox). The
 * saga ends at its pivot; sagas started before the patch `outbox-after-pivot` (common/outbox.ts)
 * run notifyDataPlatform after it. Each compensation is registered before its step; on a
 * business failure or an unrecoverable error the compensations run in reverse and the order ends
 * CANCELLED with the failure type as reason. A compensation that fails for good parks the
 * order in COMPENSATION_FAILED for the operator's retry (workflows/saga-run.ts).
 *
 * The order row is closed (cancelOrder) whenever createOrder was attempted, even if its
 * result never reached the workflow (cancelled during the step, or its reply lost after
 * the retries ran out): the close is a no-op without a row. An attempt that commits only
 * after that close leaves a PENDING order whose workflow is closed; the reconciliation
 * workflow finds and closes such orders.
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { CreatedOrder } from '../activities/orders.ts';
import { confirmedEventId, ORDER_CHECKOUT_WORKFLOW, stepKey } from '../common/ids.ts';
import {
  ORDER_CONFIRMED_EVENT,
  orderOutcomeUpdate,
  orderProgressQuery,
  retryCompensationsUpdate,
  type OrderCheckoutInput,
  type OrderConfirmedPayload,
  type OrderOutcome,
  type OrderPricing,
  type OrderProgress,
  type OrderStatus,
} from '../common/orders.ts';
import {
  FORWARD_STEP_OPTIONS,
  LOCAL_FORWARD_STEP_OPTIONS,
  LOCAL_MUST_COMPLETE_OPTIONS,
  MUST_COMPLETE_OPTIONS,
} from './activity-options.ts';
import { failureOf, type FailureSummary } from './failures.ts';
import { afterPivot, eventInOutbox } from './notify.ts';
import { SagaRun } from './saga-run.ts';

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

/**
 * Patch id of closing the order row when createOrder failed or its result never arrived
 * (a no-op without a row). Sagas recorded before it close nothing then.
 */
export const ORDER_FIRST_STEP_CLOSE_PATCH = 'order-closes-without-create-result';

/**
 * Patch id of the coupon step (reserveCoupon after reserveStock, its compensation
 * releaseCoupon registered before it). Asked only when the input has a `couponId`, so
 * sagas without a coupon, and those recorded before coupons, keep their commands.
 */
export const ORDER_COUPON_PATCH = 'order-coupon-step';

/**
 * Runs one order checkout. Returns the business outcome (CONFIRMED, CANCELLED with a
 * reason, or COMPENSATION_FAILED); sagas started before `outbox-after-pivot` (common/outbox.ts)
 * return it once their data-platform notification is done. Callers that only need the
 * outcome use the `orderOutcome` Update, which answers as soon as the order is CONFIRMED
 * or CANCELLED.
 */
export async function orderCheckout(input: OrderCheckoutInput): Promise<OrderOutcome> {
  return new OrderCheckout(input).run();
}

/** One order checkout: its steps in {@link run}, its state in the fields. */
class OrderCheckout {
  readonly #input: OrderCheckoutInput;
  readonly #workflowId = workflowInfo().workflowId;
  // Chosen by the input, fixed for the saga's life: replay sees the same commands.
  readonly #acts: StepGroups;
  readonly #saga: SagaRun<OrderProgress, OrderOutcome>;
  /** The order's pricing: createOrder's total until the coupon step prices it. */
  #pricing: OrderPricing = { subtotalWon: 0, discountWon: 0, totalWon: 0, couponId: null };
  /** Known once the order is CONFIRMED, CANCELLED or COMPENSATION_FAILED. */
  #outcome: OrderOutcome | undefined;

  constructor(input: OrderCheckoutInput) {
    this.#input = input;
    this.#acts = input.stepActivities === 'local' ? LOCAL_STEPS : REMOTE_STEPS;
    this.#saga = new SagaRun<OrderProgress, OrderOutcome>({
      workflowType: ORDER_CHECKOUT_WORKFLOW,
      subject: 'order',
      logFields: { orderId: input.orderId },
      progress: { workflowId: this.#workflowId, status: 'PENDING', steps: [], compensations: [], notification: 'NOT_APPLICABLE' },
      onStatus: (status, failure) => this.#setOutcome(status, failure),
      operatorRetry: { update: retryCompensationsUpdate, answer: () => this.#outcome! },
    });
  }

  async run(): Promise<OrderOutcome> {
    const { orderId, userId } = this.#input;
    const workflowId = this.#workflowId;
    const { steps, mustComplete } = this.#acts;
    const saga = this.#saga;
    // Recorded histories fix this order: the handlers first (registering the outcome
    // Update accepts the update-with-start request), then search attributes and status.
    setHandler(orderProgressQuery, () => saga.progress);
    // Handlers wait in non-cancellable scopes: a cancelled saga still answers with its outcome.
    setHandler(orderOutcomeUpdate, async () => {
      await CancellationScope.nonCancellable(() => condition(() => this.#outcome !== undefined));
      // The progress travels with the answer, so the caller needs no Query (a round trip to this worker).
      return { ...this.#outcome!, progress: saga.progress };
    });
    saga.started({ orderId, userId });
    saga.setStatus('PENDING');
    // Decided at the start: a saga from before the outbox notifies, wherever it resumes.
    const outbox = eventInOutbox((id) => saga.hasPatch(id));

    let order: CreatedOrder | undefined;
    try {
      order = await saga.step('createOrder', () => steps.createOrder({ ...this.#input, workflowId }));
      this.#pricing = { subtotalWon: order.totalWon, discountWon: 0, totalWon: order.totalWon, couponId: null };
      // Inventory gets the order's lines from the saga, not from the Orders tables. Only the
      // activity inputs change (replay compares commands, not their arguments).
      const lines = order.lines.map(({ productId, quantity }) => ({ productId, quantity }));
      saga.addCompensation('releaseStock', () => mustComplete.releaseStock({ orderId, lines }));
      await saga.step('reserveStock', () => steps.reserveStock({ orderId, lines }));
      const couponId = await this.#reserveCoupon(order.totalWon);
      saga.addCompensation('refundPoints', () =>
        mustComplete.refundPoints({ userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') }),
      );
      const amountPoints = this.#pricing.totalWon;
      await saga.step('payWithPoints', () =>
        steps.payWithPoints({ userId, amountPoints, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') }),
      );
      // The pivot's input names the coupon only when the coupon step ran (older sagas: as recorded).
      await saga.pivot('confirmOrder', () => mustComplete.confirmOrder(couponId === undefined ? { orderId } : { orderId, couponId }));
    } catch (err) {
      const failure = failureOf(err);
      log.warn('order checkout failed; compensating', { orderId, failureType: failure.type });
      await saga.compensateAndClose(failure, {
        status: 'CANCELLED',
        // createOrder may have committed although its result never arrived: the close runs (a
        // no-op without a row). Sagas from before the patch close nothing without a result.
        ...((order || saga.hasPatch(ORDER_FIRST_STEP_CLOSE_PATCH)) && {
          close: (status, f) =>
            status === 'CANCELLED'
              ? mustComplete.cancelOrder({ orderId, reason: f.type, message: f.message })
              : mustComplete.markOrderCompensationFailed({ orderId, reason: f.type, message: f.message }),
        }),
      });
      return this.#outcome!;
    }

    // The relay delivers the event the pivot wrote: the progress says so with the status.
    if (outbox) saga.progress.notification = 'OUTBOX';
    saga.setStatus('CONFIRMED');
    const result = this.#outcome!;
    log.info('order confirmed', { orderId, totalWon: this.#pricing.totalWon, couponId: this.#pricing.couponId });
    // The order stays CONFIRMED whatever happens here: the notification never reverts it.
    const payload: OrderConfirmedPayload = { orderId, userId, ...this.#pricing, lines: order.lines };
    await afterPivot(saga.progress, outbox, workflowId, () => ({
      eventId: confirmedEventId(workflowId),
      type: ORDER_CONFIRMED_EVENT,
      occurredAt: new Date().toISOString(),
      payload: { ...payload },
    }));
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    return result;
  }

  /**
   * The coupon step, when the input names a coupon (and the saga runs the patched code):
   * releaseCoupon registered, then reserveCoupon on the order's subtotal, which prices the
   * order. Returns the coupon id when the step ran, undefined otherwise.
   * @throws the step's failure (CouponNotFound, CouponAlreadyUsed, ...): the saga compensates.
   */
  async #reserveCoupon(subtotalWon: number): Promise<number | undefined> {
    const { orderId, userId, couponId } = this.#input;
    // Asked only with a coupon: sagas without one, and histories recorded before, see no marker.
    if (couponId === undefined || !this.#saga.hasPatch(ORDER_COUPON_PATCH)) return undefined;
    const { steps, mustComplete } = this.#acts;
    // The outcome names the coupon the order asked for, also when the step refuses it.
    this.#pricing = { ...this.#pricing, couponId };
    this.#saga.addCompensation('releaseCoupon', () => mustComplete.releaseCoupon({ orderId, couponId }));
    const priced = await this.#saga.step('reserveCoupon', () => steps.reserveCoupon({ orderId, userId, couponId, subtotalWon }));
    this.#pricing = { subtotalWon: priced.subtotalWon, discountWon: priced.discountWon, totalWon: priced.totalWon, couponId };
    return couponId;
  }

  /** The outcome the Updates and the workflow answer, from the status and its failure. */
  #setOutcome(status: OrderStatus, failure?: FailureSummary): void {
    if (status === 'PENDING') return;
    const { orderId, requestHash } = this.#input;
    const outcome: OrderOutcome = { orderId, status, totalWon: this.#pricing.totalWon, pricing: { ...this.#pricing }, requestHash };
    if (failure) Object.assign(outcome, { reason: failure.type, message: failure.message });
    this.#outcome = outcome;
  }
}
