/**
 * Orders bounded context: creating the PENDING order (the saga's semantic lock), and
 * closing it as CANCELLED or COMPENSATION_FAILED. One transaction each, idempotent by
 * order id. The move to CONFIRMED is the pivot, in activities/pivots.ts, because it
 * spans contexts.
 *
 * Tables: `orders`, `order_lines`. One exception (test/unit/table-ownership.test.ts):
 * createOrder reads Inventory's `products` (the prices, fixed at order time) and Points'
 * `point_accounts` (the user exists); see there why both reads stay for now.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { FailureType } from '../common/failures.ts';
import type { OrderItem, OrderStatus } from '../common/orders.ts';
import { businessFailure, inTransaction, insertOnce, sql } from './tx.ts';

/** Default largest total of one order, in won (config `ORDER_TOTAL_LIMIT_WON`). */
export const DEFAULT_ORDER_TOTAL_LIMIT_WON = 1_000_000_000;

/** Input of {@link createOrder}. `items` hold distinct product ids. */
export interface CreateOrderInput {
  orderId: string;
  userId: number;
  items: OrderItem[];
  workflowId: string;
  requestHash: string;
}

/** A created (or found) order: its lines priced at order time, amounts in won. */
export interface CreatedOrder {
  orderId: string;
  status: OrderStatus;
  totalWon: number;
  lines: { productId: number; quantity: number; unitPriceWon: number }[];
}

/** Input of {@link cancelOrder}: why the saga gave up (a failure type and a message). */
export interface CancelOrderInput {
  orderId: string;
  reason: string;
  message: string;
}

/** Dependencies of the order activities. */
export interface OrderDeps {
  orm: Orm;
  /** Largest total of one order, in won (config `ORDER_TOTAL_LIMIT_WON`); default {@link DEFAULT_ORDER_TOTAL_LIMIT_WON}. */
  orderTotalLimitWon?: number | undefined;
}

/** Builds the order activities. */
export function createOrderActivities({ orm, orderTotalLimitWon = DEFAULT_ORDER_TOTAL_LIMIT_WON }: OrderDeps) {
  return {
    /**
     * Step 0 of the order saga: inserts the order as PENDING with its lines priced from
     * the catalog. Idempotent: a retry returns the order already written. Changes no
     * other context, so it needs no compensation (cancelOrder closes the order).
     *
     * @throws UnknownUser / UnknownProduct / OrderTooLarge (non-retryable; the total is
     *   above `orderTotalLimitWon`); nothing is written.
     */
    async createOrder(input: CreateOrderInput): Promise<CreatedOrder> {
      return insertOnce(() => inTransaction(orm, async (em) => {
        const existing = await readOrder(em, input.orderId);
        if (existing) return existing;
        const ids = input.items.map((i) => i.productId);
        // One read on the usual path; the user's absence is told apart only when nothing came back.
        const products = await sql<{ id: number; price_won: number }>(
          em,
          'select id, price_won from products where id in (?) and exists (select 1 from point_accounts where user_id = ?)',
          [ids, input.userId],
        );
        if (products.length === 0) await assertUserExists(em, input.userId);
        const prices = new Map(products.map((p) => [p.id, p.price_won]));
        const unknown = ids.filter((id) => !prices.has(id));
        if (unknown.length > 0) {
          throw businessFailure(FailureType.UnknownProduct, `Unknown products ${unknown.join(', ')}`, { productIds: unknown });
        }
        const lines = input.items.map((i) => ({ ...i, unitPriceWon: prices.get(i.productId)! }));
        const totalWon = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceWon, 0);
        if (totalWon > orderTotalLimitWon) {
          throw businessFailure(FailureType.OrderTooLarge, `Order total ${totalWon} won exceeds ${orderTotalLimitWon}`, {
            totalWon,
            orderTotalLimitWon,
          });
        }
        await insertOrder(em, input, totalWon, lines);
        return { orderId: input.orderId, status: 'PENDING', totalWon, lines };
      }));
    },

    /**
     * Ends a PENDING order as CANCELLED with `reason` after its compensations ran.
     * Idempotent; never touches a CONFIRMED order (it returns its status unchanged). A
     * no-op without an order row (createOrder failed, or never committed): status null.
     */
    async cancelOrder(input: CancelOrderInput): Promise<{ orderId: string; status: OrderStatus | null }> {
      return setFinalStatus(orm, input.orderId, 'CANCELLED', input.reason, input.message);
    },

    /**
     * Marks a PENDING order COMPENSATION_FAILED: a compensation failed for good and the
     * order's effects may be partly left; an operator must look. Idempotent; a no-op
     * without an order row (status null).
     */
    async markOrderCompensationFailed(input: CancelOrderInput): Promise<{ orderId: string; status: OrderStatus | null }> {
      return setFinalStatus(orm, input.orderId, 'COMPENSATION_FAILED', input.reason, input.message);
    },
  };
}

async function assertUserExists(em: EntityManager, userId: number): Promise<void> {
  const users = await sql(em, 'select user_id from point_accounts where user_id = ?', [userId]);
  if (users.length === 0) throw businessFailure(FailureType.UnknownUser, `User ${userId} does not exist`, { userId });
}

/** Writes the PENDING order and all of its lines in one statement (a data-modifying CTE). */
async function insertOrder(em: EntityManager, input: CreateOrderInput, totalWon: number, lines: CreatedOrder['lines']): Promise<void> {
  const values = lines.map(() => '(?, ?, ?, ?)').join(', ');
  await sql(
    em,
    `with created as (
       insert into orders (id, user_id, status, total_won, workflow_id, request_hash, created_at, updated_at)
       values (?, ?, 'PENDING', ?, ?, ?, now(), now())
     )
     insert into order_lines (order_id, product_id, quantity, unit_price_won) values ${values}`,
    [
      input.orderId,
      input.userId,
      totalWon,
      input.workflowId,
      input.requestHash,
      ...lines.flatMap((l) => [input.orderId, l.productId, l.quantity, l.unitPriceWon]),
    ],
  );
}

/**
 * Closes order `orderId` with `status` and its reason, if it is PENDING (or
 * COMPENSATION_FAILED, after the operator's retry). Returns the status it has now; null
 * when there is no order row: the saga closes whenever createOrder was attempted, also
 * when the step failed or its result never arrived, so a missing row means nothing to close.
 */
async function setFinalStatus(
  orm: Orm,
  orderId: string,
  status: 'CANCELLED' | 'COMPENSATION_FAILED',
  reason: string,
  message: string,
): Promise<{ orderId: string; status: OrderStatus | null }> {
  return inTransaction(orm, async (em) => {
    const current = await lockOrderStatusIfAny(em, orderId);
    if (current === null) return { orderId, status: null };
    if (current !== 'PENDING' && current !== 'COMPENSATION_FAILED') return { orderId, status: current };
    await sql(
      em,
      `update orders set status = ?, cancellation_reason = ?, cancellation_message = ?, updated_at = now() where id = ?`,
      [status, reason.slice(0, 64), message, orderId],
    );
    return { orderId, status };
  });
}

/**
 * Locks the order row (`FOR UPDATE`) and returns its status. For the steps that run only
 * after createOrder returned (the pivot): a missing order there is a bug (plain error).
 */
export async function lockOrderStatus(em: EntityManager, orderId: string): Promise<OrderStatus> {
  const status = await lockOrderStatusIfAny(em, orderId);
  if (status === null) throw new Error(`Order ${orderId} does not exist`);
  return status;
}

/** Locks the order row (`FOR UPDATE`) and returns its status, or null when there is no such order. */
export async function lockOrderStatusIfAny(em: EntityManager, orderId: string): Promise<OrderStatus | null> {
  const [row] = await sql<{ status: OrderStatus }>(em, 'select status from orders where id = ? for update', [orderId]);
  return row ? row.status : null;
}

async function readOrder(em: EntityManager, orderId: string): Promise<CreatedOrder | null> {
  const [order] = await sql<{ status: OrderStatus; total_won: number }>(
    em,
    'select status, total_won from orders where id = ?',
    [orderId],
  );
  if (!order) return null;
  const lines = await sql<{ product_id: number; quantity: number; unit_price_won: number }>(
    em,
    'select product_id, quantity, unit_price_won from order_lines where order_id = ? order by product_id',
    [orderId],
  );
  return {
    orderId,
    status: order.status,
    totalWon: order.total_won,
    lines: lines.map((l) => ({ productId: l.product_id, quantity: l.quantity, unitPriceWon: l.unit_price_won })),
  };
}
