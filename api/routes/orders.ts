/**
 * Order routes.
 *
 * `POST /orders` body `{ userId, items: [{ productId, quantity }] }`, optional
 * `Idempotency-Key` header. Starts (or rejoins) the checkout saga and waits up to
 * `ORDER_OUTCOME_WAIT_MS` for its business outcome:
 * - 201 order view (CONFIRMED), `Location: /orders/<id>`;
 * - 202 `{ orderId, status: 'PENDING', links: { self } }` when the outcome is not known yet;
 * - 409 `OutOfStock` / other cancellation reasons (a reason that is not a problem type
 *   is answered `UnexpectedError`), 422 `InsufficientPoints`, 409 `CompensationFailed`:
 *   the order was not placed (`details.order` is the order view);
 * - 400 `ValidationFailed` (body, duplicate productId, Idempotency-Key), 400/413/415 body
 *   errors, 422 `UnknownUser` / `UnknownProduct` (`details.productIds`), 422
 *   `IdempotencyKeyReused`, 503 `TemporalUnavailable`. Nothing starts on a 4xx.
 *
 * `GET /orders/:id` (UUID): 200 order view with live saga progress; 400 for a bad id;
 * 404 `NotFound` when neither an order row nor its saga exists.
 *
 * `GET /users/:id/orders?limit=&cursor=`: 200 {@link OrderPage}, the user's orders newest
 * first (creation time, then id) as order summaries with a link to each, paged as every
 * list is (api/pagination.ts); 400 `ValidationFailed` for a bad id, limit or cursor; 404
 * `NotFound` for an unknown user. Orders whose saga has not written their row yet are
 * not listed.
 */
import type { Client } from '@temporalio/client';
import { FailureType, orderWorkflowId, type OrderCheckoutInput, type OrderItem, type OrderOutcome } from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { ApiError, ErrorCode, notFound } from '../errors.ts';
import { idempotencyKeyReused, orderIdFor, orderRequestHash, readIdempotencyKey } from '../idempotency.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { isProblemCode } from '../problem.ts';
import { EntityIdParams } from '../validation.ts';
import { startCheckout } from '../orders/checkout.ts';
import { listUserOrders } from '../orders/order-list.ts';
import { checkOrderReferences } from '../orders/references.ts';
import { checkPendingStart } from '../saga-start.ts';
import {
  findOrderView,
  loadOrderRecord,
  querySagaProgress,
  toOrderView,
  pendingOrderView,
  type OrderRecord,
} from '../orders/order-view.ts';
import {
  CreateOrderBody,
  ListUserOrdersQuery,
  OrderIdParams,
  type OrderPage,
  type OrderView,
  type PendingOrderBody,
} from '../orders/schemas.ts';

/** HTTP status of a cancelled order, by its reason; unlisted reasons are 409. */
const CANCELLED_STATUS: Readonly<Record<string, number>> = { InsufficientPoints: 422 };

type OrderAnswer = { status: 201; body: OrderView } | { status: 202; body: PendingOrderBody };

function orderPath(orderId: string): string {
  return `/orders/${orderId}`;
}

/** Maps a finished order view to the answer: 201 when CONFIRMED, else the business error. */
function answerFor(view: OrderView): OrderAnswer {
  const headers = { Location: orderPath(view.orderId) };
  switch (view.status) {
    case 'CONFIRMED':
      return { status: 201, body: view };
    case 'PENDING':
      return { status: 202, body: { orderId: view.orderId, status: 'PENDING', links: { self: headers.Location } } };
    case 'COMPENSATION_FAILED':
      throw new ApiError(409, ErrorCode.CompensationFailed, view.message ?? 'The order failed and could not be fully undone', {
        details: { order: view },
        headers,
      });
    case 'CANCELLED': {
      const reason = view.reason ?? 'OrderCancelled';
      // The code is a documented problem type; a reason the API does not know (an
      // activity's own failure type) is an unexpected failure, still named in `order.reason`.
      const code = isProblemCode(reason) ? reason : FailureType.UnexpectedError;
      throw new ApiError(CANCELLED_STATUS[code] ?? 409, code, view.message ?? `The order was cancelled: ${reason}`, {
        details: { order: view },
        headers,
      });
    }
  }
}

/** The view after an outcome: the row when written, with the outcome as the latest word. */
function outcomeView(input: OrderCheckoutInput, outcome: OrderOutcome, record: OrderRecord | null): OrderView {
  const base = record ? toOrderView(record, null) : { ...pendingOrderView(input.orderId, null), userId: input.userId };
  return {
    ...base,
    status: outcome.status,
    totalWon: outcome.totalWon,
    reason: outcome.reason ?? base.reason,
    message: outcome.message ?? base.message,
  };
}

/** Decides the answer of a checkout from what starting the saga gave. */
async function checkoutAnswer(deps: AppDeps, log: Logger, input: OrderCheckoutInput): Promise<OrderAnswer> {
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
  return pendingAnswer(client, input);
}

async function pendingAnswer(client: Client, input: OrderCheckoutInput): Promise<OrderAnswer> {
  await checkPendingStart(client, orderWorkflowId(input.orderId), input.requestHash, 'order', () =>
    idempotencyKeyReused({ orderId: input.orderId }),
  );
  return answerFor(pendingOrderView(input.orderId, null));
}

/** Registers `POST /orders`, `GET /orders/:id` and `GET /users/:id/orders`. */
export function registerOrderRoutes(router: AppRouter, deps: AppDeps): void {
  router.post<object, object, OrderView | PendingOrderBody>(
    '/orders',
    jsonBody(deps.config.api.bodyLimitBytes),
    async (ctx) => {
      const idempotencyKey = readIdempotencyKey(ctx.headers);
      const body = CreateOrderBody.parse(ctx.request.body);
      const items: OrderItem[] = body.items
        .map((i) => ({ productId: i.productId, quantity: i.quantity }))
        .sort((a, b) => a.productId - b.productId);
      await checkOrderReferences(deps.orm, body.userId, items.map((i) => i.productId));
      const orderId = orderIdFor(body.userId, idempotencyKey);
      const input: OrderCheckoutInput = {
        orderId,
        userId: body.userId,
        items,
        requestHash: orderRequestHash(body.userId, items),
        stepActivities: deps.config.api.orderStepActivities,
      };
      const log = ctx.state.log.child({ orderId, workflowId: orderWorkflowId(orderId), idempotencyKey });
      const answer = await checkoutAnswer(deps, log, input);
      ctx.set('Location', orderPath(orderId));
      ctx.status = answer.status;
      ctx.body = answer.body;
    },
  );

  router.get<object, object, OrderView>('/orders/:id', async (ctx) => {
    const { id } = OrderIdParams.parse(ctx.params);
    const view = await findOrderView(deps, ctx.state.log, id);
    if (!view) throw notFound(`order ${id}`);
    ctx.body = view;
  });

  router.get<object, object, OrderPage>('/users/:id/orders', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const { limit, cursor } = ListUserOrdersQuery.parse(ctx.query);
    const page = await listUserOrders(deps.orm, id, limit, cursor);
    if (!page) throw notFound(`user ${id}`);
    ctx.body = page;
  });
}
