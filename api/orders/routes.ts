/**
 * Order routes.
 *
 * `POST /orders` body `{ userId, items: [{ productId, quantity }] }`, optional
 * `Idempotency-Key` header. Starts (or rejoins) the checkout saga and waits up to
 * `ORDER_OUTCOME_WAIT_MS` for its business outcome:
 * - 201 order view (CONFIRMED), `Location: /orders/<id>`;
 * - 202 `{ orderId, status: 'PENDING', links: { self } }` when the outcome is not known yet;
 * - 409 `OutOfStock` / other business cancellation reasons, 422 `InsufficientPoints`,
 *   409 `CompensationFailed`, 500 `UnexpectedError` when a failure of ours cancelled it
 *   (api/orders/failures.ts): the order was not placed (`details.order` is the order view);
 * - 400 `ValidationFailed` (body, duplicate productId, Idempotency-Key), 400/413/415 body
 *   errors, 422 `UnknownUser` / `UnknownProduct` (`details.productIds`), 422
 *   `OrderTooLarge` (total above `ORDER_TOTAL_LIMIT_WON`), 422 `IdempotencyKeyReused`, 503 `TemporalUnavailable` (with `Retry-After`). Nothing starts on a 4xx.
 *
 * `GET /orders/:id` (UUID): 200 order view with live saga progress; 400 for a bad id;
 * 404 `NotFound` when neither an order row nor its saga exists.
 *
 * `GET /users/:id/orders?limit=&cursor=`: 200 {@link OrderPage}, the user's orders newest
 * first (creation time, then id) as order summaries with a link to each, paged as every
 * list is (api/pagination.ts); 400 `ValidationFailed` for a bad id, limit or cursor; 404
 * `NotFound` for an unknown user. Orders whose saga has not written their row yet are
 * not listed.
 *
 * `POST /orders/:id/compensations/retry` (operator): re-runs the compensations of an
 * order parked in COMPENSATION_FAILED (after the operator fixed their cause), through the
 * saga's `retryCompensations` Update, and answers with the order view: 200 CANCELLED when
 * they all succeeded now, 409 `CompensationFailed` when one failed again, 202 when the
 * retry is still running after `ORDER_OUTCOME_WAIT_MS`; 409 `NotCompensationFailed` for
 * an order in any other state; 404 for an unknown order; 400 for a bad id. This route
 * changes money and stock: deploy it behind operator authentication.
 */
import { orderWorkflowId } from '../../common/index.ts';
import { actingUserId, assertMayRead, callerOf } from '../auth/guard.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { readIdempotencyKey } from '../idempotency.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { EntityIdParams } from '../validation.ts';
import { checkoutAnswer, orderInput, retryAnswer } from './commands.ts';
import {
  CreateOrderBody,
  ListUserOrdersQuery,
  OrderIdParams,
  type OrderPage,
  type OrderView,
  type PendingOrderBody,
} from './schemas.ts';
import { findOrderView, listUserOrders, orderPath } from './views.ts';

/**
 * Registers `POST /orders`, `GET /orders/:id`, `GET /users/:id/orders` and the operator
 * route `POST /orders/:id/compensations/retry`.
 */
export function registerOrderRoutes(router: AppRouter, deps: AppDeps): void {
  router.post<object, object, OrderView | PendingOrderBody>(
    '/orders',
    jsonBody(deps.config.api.bodyLimitBytes),
    async (ctx) => {
      const idempotencyKey = readIdempotencyKey(ctx.headers);
      const parsed = CreateOrderBody.parse(ctx.request.body);
      const body = { ...parsed, userId: actingUserId(callerOf(ctx), parsed.userId) };
      const input = await orderInput(deps.orm, body, {
        idempotencyKey,
        idempotencySecret: deps.config.idempotency.secret,
        stepActivities: deps.config.api.orderStepActivities,
        orderTotalLimitWon: deps.config.limits.orderTotalWon,
      });
      const { orderId } = input;
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
    assertMayRead(callerOf(ctx), view.userId, `order ${id}`);
    ctx.body = view;
  });

  router.get<object, object, OrderPage>('/users/:id/orders', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const { limit, cursor } = ListUserOrdersQuery.parse(ctx.query);
    assertMayRead(callerOf(ctx), id, `user ${id}`);
    const page = await listUserOrders(deps.orm, id, limit, cursor);
    if (!page) throw notFound(`user ${id}`);
    ctx.body = page;
  });

  router.post<object, object, OrderView>('/orders/:id/compensations/retry', async (ctx) => {
    const { id } = OrderIdParams.parse(ctx.params);
    const answer = await retryAnswer(deps, ctx.state.log, id);
    ctx.status = answer.status;
    ctx.body = answer.body;
  });
}
