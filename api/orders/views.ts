/**
 * The order read model: what `GET /orders/:id`, `GET /users/:id/orders` and the answers of
 * `POST /orders` show. Business data comes from the orders tables; live saga progress from
 * the workflow's `orderProgress` Query. Also the reference check of an order request (its
 * user and products), made before a saga or the benchmark's baseline starts.
 */
import type { Client } from '@temporalio/client';
import {
  orderProgressQuery,
  orderWorkflowId,
  type OrderCheckoutInput,
  type OrderItem,
  type OrderOutcome,
  type OrderProgress,
  type OrderStatus,
} from '../../common/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../config/logger.ts';
import { sagaUserId } from '../auth/owner.ts';
import { ApiError, ErrorCode } from '../errors.ts';
import { findEventView } from '../event-view.ts';
import { findPaymentView } from '../payment-view.ts';
import { toPage } from '../pagination.ts';
import { describeWorkflow, queryOrNull } from '../temporal.ts';
import { PRICING_COLUMNS, REDEMPTION_JOIN, pricingOf, type PricingRow } from './pricing.ts';
import { orderCursor, type OrderLineView, type OrderPage, type OrderView, type PendingOrderBody } from './schemas.ts';

/** The order row and its lines, without saga progress; `requestHash` for the key-reuse check. */
export type OrderRecord = Omit<OrderView, 'saga'> & { requestHash: string };

/** `to_char` format of a UTC timestamp as `Date#toISOString` writes it (milliseconds, `Z`). */
const ISO_8601_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** Path of an order resource: `/orders/<orderId>`. */
export function orderPath(orderId: string): string {
  return `/orders/${orderId}`;
}

/** The order total to check in {@link checkOrderReferences}: the lines, and the largest total allowed in won. */
export interface OrderTotalCheck {
  items: readonly OrderItem[];
  limitWon: number;
}

/**
 * Refuses an order whose user has no point account, that names unknown product ids, or
 * (given `total`) whose total at today's prices is above `total.limitWon`, with one
 * statement against the database, so such an order is refused with a 422 and changes
 * nothing. createOrder checks the total again on the prices it records.
 *
 * @param productIds distinct product ids of the order's lines
 * @throws ApiError 422 UnknownUser (extension member `userId`) first, else 422
 *   UnknownProduct (member `productIds`: the unknown ones, in request order), else 422
 *   OrderTooLarge (members `totalWon`, `orderTotalLimitWon`).
 */
export async function checkOrderReferences(orm: Orm, userId: number, productIds: number[], total?: OrderTotalCheck): Promise<void> {
  const lines = JSON.stringify(total?.items ?? []);
  // numeric: a total of absurd prices must not overflow bigint on its way to being refused.
  const [row] = await orm.em.fork().execute<{ user_known: boolean; known: number[]; total_won: string }[]>(
    `select exists (select 1 from point_accounts where user_id = ?) as user_known,
            array(select id from products where id in (?)) as known,
            (select coalesce(sum(p.price_won::numeric * q.quantity), 0)
             from jsonb_to_recordset(?::jsonb) as q("productId" int, quantity int)
             join products p on p.id = q."productId")::text as total_won`,
    [userId, productIds, lines] as never[],
    'all',
  );
  if (!row?.user_known) {
    throw new ApiError(422, ErrorCode.UnknownUser, `User ${userId} has no point account`, { details: { userId } });
  }
  const known = new Set(row.known);
  const missing = productIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new ApiError(422, ErrorCode.UnknownProduct, `Unknown product ids: ${missing.join(', ')}`, {
      details: { productIds: missing },
    });
  }
  if (total && Number(row.total_won) > total.limitWon) {
    throw new ApiError(422, ErrorCode.OrderTooLarge, `The order total of ${row.total_won} won exceeds the limit of ${total.limitWon} won`, {
      details: { totalWon: Number(row.total_won), orderTotalLimitWon: total.limitWon },
    });
  }
}

/**
 * Loads an order, its lines (ordered by product id), its payment and its data-platform
 * event (each null when there is none), or null when there is no row.
 */
export async function loadOrderRecord(orm: Orm, orderId: string): Promise<OrderRecord | null> {
  // The order and its lines in one statement (lines as JSON, by product id).
  const [row] = await orm.em.fork().execute<OrderRow[]>(
    `select o.id, o.user_id, o.status, ${PRICING_COLUMNS}, o.cancellation_reason, o.cancellation_message,
            to_char(o.created_at at time zone 'UTC', ${ISO_8601_UTC}) as created_at,
            to_char(o.confirmed_at at time zone 'UTC', ${ISO_8601_UTC}) as confirmed_at, o.request_hash,
            coalesce((select json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity,
                                                        'unitPriceWon', l.unit_price_won) order by l.product_id)
                      from order_lines l where l.order_id = o.id), '[]'::json) as lines
     from orders o ${REDEMPTION_JOIN} where o.id = ?`,
    [orderId] as never[],
    'all',
  );
  if (!row) return null;
  const workflowId = orderWorkflowId(row.id);
  const [payment, event] = await Promise.all([findPaymentView(orm, workflowId), findEventView(orm, workflowId)]);
  return {
    orderId: row.id,
    userId: row.user_id,
    status: row.status,
    ...pricingOf(row),
    reason: row.cancellation_reason,
    message: row.cancellation_message,
    lines: row.lines.map((line) => ({ ...line, lineTotalWon: line.quantity * line.unitPriceWon })),
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    payment,
    event,
    requestHash: row.request_hash,
  };
}

/** A row of {@link loadOrderRecord}'s statement. */
interface OrderRow extends PricingRow {
  id: string;
  user_id: number;
  status: OrderStatus;
  cancellation_reason: string | null;
  cancellation_message: string | null;
  created_at: string;
  confirmed_at: string | null;
  request_hash: string;
  lines: Omit<OrderLineView, 'lineTotalWon'>[];
}

/**
 * The saga progress of order `orderId` through its Query, within a short deadline.
 * @returns null when the workflow does not exist, is unreachable or does not answer.
 */
export function querySagaProgress(client: Client, log: Logger, orderId: string): Promise<OrderProgress | null> {
  return queryOrNull(client, orderWorkflowId(orderId), orderProgressQuery, (err) =>
    log.debug({ err, orderId }, 'saga progress query failed'),
  );
}

/** Turns a record into the public view, attaching `saga`. */
export function toOrderView(record: OrderRecord, saga: OrderProgress | null): OrderView {
  const { requestHash: _hash, ...view } = record;
  return { ...view, saga };
}

/** The view of an order whose saga exists but has not written its row yet. */
export function pendingOrderView(orderId: string, saga: OrderProgress | null): OrderView {
  return {
    orderId,
    userId: null,
    status: 'PENDING',
    totalWon: null,
    subtotalWon: null,
    discountWon: null,
    couponId: null,
    reason: null,
    message: null,
    lines: [],
    createdAt: null,
    confirmedAt: null,
    payment: null,
    event: null,
    saga,
  };
}

/** The 202 body of an order whose outcome is not known yet. */
export function pendingOrderBody(orderId: string): PendingOrderBody {
  return { orderId, status: 'PENDING', links: { self: orderPath(orderId) } };
}

/**
 * The view after an outcome: the row when written, with the outcome as the latest word on
 * the status. The pricing is the row's (the pivot or the close wrote it before the
 * outcome was known); without a row, the outcome's (sagas from before coupons: its total).
 */
export function outcomeView(input: OrderCheckoutInput, outcome: OrderOutcome, record: OrderRecord | null): OrderView {
  const base = record ? toOrderView(record, null) : { ...pendingOrderView(input.orderId, null), userId: input.userId };
  const pricing = record
    ? { totalWon: base.totalWon, subtotalWon: base.subtotalWon, discountWon: base.discountWon, couponId: base.couponId }
    : (outcome.pricing ?? { totalWon: outcome.totalWon, subtotalWon: outcome.totalWon, discountWon: 0, couponId: input.couponId ?? null });
  return {
    ...base,
    status: outcome.status,
    ...pricing,
    reason: outcome.reason ?? base.reason,
    message: outcome.message ?? base.message,
  };
}

/**
 * The full view of order `orderId`: its row with saga progress; or, without a row but
 * with a saga, a PENDING view; or null when neither exists.
 * @throws Temporal unavailability when there is no row and the saga cannot be looked up.
 */
export async function findOrderView(
  deps: { orm: Orm; client: Client },
  log: Logger,
  orderId: string,
): Promise<OrderView | null> {
  const record = await loadOrderRecord(deps.orm, orderId);
  if (record) return toOrderView(record, await querySagaProgress(deps.client, log, orderId));
  const description = await describeWorkflow(deps.client, orderWorkflowId(orderId));
  if (!description) return null;
  // The owner, for the caller check, from the saga's UserId search attribute (null until its first task sets it).
  return { ...pendingOrderView(orderId, await querySagaProgress(deps.client, log, orderId)), userId: sagaUserId(description) };
}

/** One row of {@link listUserOrders}'s statement: an order and its cursor key. */
interface OrderListRow {
  id: string;
  status: OrderStatus;
  totalWon: number;
  subtotalWon: number;
  discountWon: number;
  couponId: number | null;
  createdAt: string;
  /** `created_at` in epoch microseconds, as text (a bigint). */
  createdAtUs: string;
}

/** Where a page of a user's orders starts: after this order (see {@link orderCursor}). */
export type OrderListAfter = { createdAtUs: number; id: string };

/**
 * A page of user `userId`'s orders, newest first (creation time, then id), starting after
 * `after` when given. Only orders whose saga has written the order row are listed. One
 * statement reads whether the user exists and `limit + 1` orders (the extra one tells
 * whether there is a next page); the index `orders_user_id_created_at_id_index` serves
 * the keyset.
 *
 * @returns null when there is no such user; otherwise the page (empty without orders).
 */
export async function listUserOrders(orm: Orm, userId: number, limit: number, after: OrderListAfter | undefined): Promise<OrderPage | null> {
  // The row comparison walks the (user_id, created_at, id) index backwards from the cursor.
  const keyset = after
    ? `and (o.created_at, o.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)`
    : '';
  const params = after ? [userId, userId, after.createdAtUs, after.id, limit + 1] : [userId, userId, limit + 1];
  const [row] = await orm.em.fork().execute<{ user_known: boolean; orders: OrderListRow[] }[]>(
    `select exists (select 1 from app_users where id = ?) as user_known,
            coalesce((select json_agg(json_build_object(
                               'id', page.id, 'status', page.status, 'totalWon', page.total_won,
                               'subtotalWon', page.subtotal_won, 'discountWon', page.discount_won, 'couponId', page.coupon_id,
                               'createdAt', to_char(page.created_at at time zone 'UTC', ${ISO_8601_UTC}),
                               'createdAtUs', ((extract(epoch from page.created_at) * 1000000)::bigint)::text)
                             order by page.created_at desc, page.id desc)
                      from (select o.id, o.status, ${PRICING_COLUMNS}, o.created_at from orders o ${REDEMPTION_JOIN}
                            where o.user_id = ? ${keyset}
                            order by o.created_at desc, o.id desc limit ?) page), '[]'::json) as orders`,
    params as never[],
    'all',
  );
  if (!row?.user_known) return null;
  return toPage(row.orders, {
    limit,
    path: `/users/${userId}/orders`,
    codec: orderCursor,
    keyOf: (order) => ({ createdAtUs: Number(order.createdAtUs), id: order.id }),
    item: (order) => ({
      orderId: order.id,
      status: order.status,
      totalWon: order.totalWon,
      subtotalWon: order.subtotalWon,
      discountWon: order.discountWon,
      couponId: order.couponId,
      createdAt: order.createdAt,
      links: { self: orderPath(order.id) },
    }),
  });
}
