/**
 * What the order routes ask of the checkout saga: build its input from a request, start
 * it (or rejoin it) and wait, for a bounded time, for its business outcome, which the
 * workflow gives through the `orderOutcome` Update as soon as the order is CONFIRMED or
 * CANCELLED (never after the data-platform notification); retry its compensations
 * through the `retryCompensations` Update; and map what the saga gave to an answer.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  ORDER_CHECKOUT_WORKFLOW,
  orderOutcomeUpdate,
  orderWorkflowId,
  retryCompensationsUpdate,
  sagaStartSearchAttributes,
  type OrderCheckoutInput,
  type OrderItem,
  type OrderOutcome,
  type StepActivities,
} from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import type { Orm } from '../../db/orm.ts';
import { compensationRetryAnswer, type RetryAnswer } from '../compensation-retry.ts';
import type { AppDeps } from '../context.ts';
import { ApiError, ErrorCode } from '../errors.ts';
import { idempotencyKeyReused, orderIdFor, orderRequestHash } from '../idempotency.ts';
import { checkPendingStart, startSaga, type StartAnswer } from '../saga-start.ts';
import { orderCancellationAnswer } from './failures.ts';
import type { CreateOrderRequest, OrderView, PendingOrderBody } from './schemas.ts';
import {
  checkOrderReferences,
  findOrderView,
  loadOrderRecord,
  outcomeView,
  orderPath,
  pendingOrderBody,
  querySagaProgress,
  toOrderView,
} from './views.ts';

/** The answer of `POST /orders`: 201 with the CONFIRMED order, or 202 while its outcome is not known. */
export type OrderAnswer = { status: 201; body: OrderView } | { status: 202; body: PendingOrderBody };

/**
 * The saga input of an order request, after checking its references: the items sorted by
 * product id and written as `{ productId, quantity }`, the order id from the
 * Idempotency-Key keyed with `idempotencySecret` (config `idempotency.secret`; random
 * without a key), the request's fingerprint (with the coupon, when it names one), the
 * coupon to use (`couponId`, checked by the saga's coupon step, not here) and how the saga
 * runs its steps (`stepActivities`, absent: `remote`). Used by `POST /orders` and by the
 * benchmark's servers. With `orderTotalLimitWon` (config `ORDER_TOTAL_LIMIT_WON`), the
 * total at today's prices is checked too.
 *
 * @throws ApiError 422 UnknownUser / UnknownProduct / OrderTooLarge ({@link checkOrderReferences}); nothing starts.
 */
export async function orderInput(
  orm: Orm,
  body: CreateOrderRequest & { userId: number },
  options: {
    idempotencyKey?: string | undefined;
    idempotencySecret?: string | undefined;
    stepActivities?: StepActivities | undefined;
    orderTotalLimitWon?: number | undefined;
  } = {},
): Promise<OrderCheckoutInput> {
  const { idempotencyKey, idempotencySecret, stepActivities, orderTotalLimitWon } = options;
  if (idempotencyKey !== undefined && idempotencySecret === undefined) throw new TypeError('orderInput: an idempotencyKey needs the idempotencySecret');
  const items: OrderItem[] = body.items
    .map((i) => ({ productId: i.productId, quantity: i.quantity }))
    .sort((a, b) => a.productId - b.productId);
  const total = orderTotalLimitWon === undefined ? undefined : { items, limitWon: orderTotalLimitWon };
  await checkOrderReferences(orm, body.userId, items.map((i) => i.productId), total);
  return {
    orderId: orderIdFor(idempotencySecret ?? '', body.userId, idempotencyKey),
    userId: body.userId,
    items,
    requestHash: couponRequestHash(orderRequestHash(body.userId, items), body.couponId),
    stepActivities,
    ...(body.couponId !== undefined && { couponId: body.couponId }),
  };
}

/**
 * The request hash of an order with coupon `couponId`: hex SHA-256 of the hash without
 * coupon and the coupon id, so the same Idempotency-Key with another coupon (or none) is
 * `IdempotencyKeyReused`. Without a coupon the hash is unchanged, as before coupons existed.
 */
function couponRequestHash(hash: string, couponId: number | undefined): string {
  return couponId === undefined ? hash : createHash('sha256').update(`${hash}:coupon:${couponId}`).digest('hex');
}

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
    searchAttributes: sagaStartSearchAttributes({ orderId: input.orderId, userId: input.userId }),
  });
}

/** Maps a finished order view to the answer: 201 when CONFIRMED, else the business error. */
function answerFor(view: OrderView): OrderAnswer {
  const headers = { Location: orderPath(view.orderId) };
  switch (view.status) {
    case 'CONFIRMED':
      return { status: 201, body: view };
    case 'PENDING':
      return { status: 202, body: pendingOrderBody(view.orderId) };
    case 'COMPENSATION_FAILED':
      throw new ApiError(409, ErrorCode.CompensationFailed, view.message ?? 'The order failed and could not be fully undone', {
        details: { order: view },
        headers,
      });
    case 'CANCELLED': {
      // A business rejection is a 4xx with its type as the code; a failure of ours is a 500
      // (api/orders/failures.ts), the order's own reason still named in `order.reason`.
      const { status, code } = orderCancellationAnswer(view.reason);
      throw new ApiError(status, code, view.message ?? `The order was cancelled: ${view.reason ?? 'no reason recorded'}`, {
        details: { order: view },
        headers,
      });
    }
  }
}

/**
 * Starts (or rejoins) the checkout saga of `input` and decides the answer of
 * `POST /orders` from what it gave: its outcome, its row, or nothing yet.
 *
 * @throws ApiError 422 `IdempotencyKeyReused`, 409 `AlreadyStarted`, the business errors
 *   of {@link answerFor}, 503 `TemporalUnavailable` when the start did not reach Temporal.
 */
export async function checkoutAnswer(deps: AppDeps, log: Logger, input: OrderCheckoutInput): Promise<OrderAnswer> {
  const { orm, client, config } = deps;
  const answer = await startCheckout(client, config.temporal.taskQueue, config.api.orderOutcomeWaitMs, input);
  log.info({ answer: answer.kind }, 'checkout started');
  if (answer.kind === 'outcome') {
    if (answer.outcome.requestHash !== input.requestHash) throw idempotencyKeyReused({ orderId: input.orderId });
    const view = outcomeView(input, answer.outcome, await loadOrderRecord(orm, input.orderId));
    return answerFor({ ...view, saga: answer.outcome.progress ?? (await querySagaProgress(client, log, input.orderId)) });
  }
  if (answer.kind === 'closed') {
    const record = await loadOrderRecord(orm, input.orderId);
    if (!record) throw new ApiError(409, ErrorCode.AlreadyStarted, 'This order was already processed and has no record');
    if (record.requestHash !== input.requestHash) throw idempotencyKeyReused({ orderId: input.orderId });
    return answerFor(toOrderView(record, await querySagaProgress(client, log, input.orderId)));
  }
  await checkPendingStart(client, orderWorkflowId(input.orderId), input.requestHash, 'order', () =>
    idempotencyKeyReused({ orderId: input.orderId }),
  );
  return { status: 202, body: pendingOrderBody(input.orderId) };
}

/**
 * Re-runs the compensations of order `orderId`, parked in COMPENSATION_FAILED, through
 * the saga's `retryCompensations` Update (api/compensation-retry.ts, shared with the
 * reservations), and answers with its view: 200 CANCELLED when they all succeeded now,
 * 202 when the retry is still running after `ORDER_OUTCOME_WAIT_MS`.
 *
 * @throws ApiError 404 for an unknown order; 409 `NotCompensationFailed` for an order in
 *   any other state; 409 `CompensationRetryInProgress` while an earlier retry runs; 409
 *   `CompensationFailed` (`details.order`) when one failed again.
 */
export function retryAnswer(deps: AppDeps, log: Logger, orderId: string): Promise<RetryAnswer<OrderView>> {
  return compensationRetryAnswer(deps, log, {
    subject: 'order',
    id: orderId,
    workflowId: orderWorkflowId(orderId),
    update: retryCompensationsUpdate,
    read: () => findOrderView(deps, log, orderId),
  });
}
