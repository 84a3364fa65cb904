/**
 * Inventory bounded context: reserving and releasing stock for an order.
 *
 * Concurrency: both activities first lock the order row (`FOR UPDATE`), which
 * serializes the steps of one saga, then change products in ascending product-id order
 * through conditional updates (`stock >= quantity`), so concurrent sagas never deadlock
 * and stock never goes negative.
 */
import type { Orm } from '../db/orm.ts';
import { FailureType } from '../common/failures.ts';
import { businessFailure, inTransaction, sql } from './tx.ts';
import type { EntityManager } from '@mikro-orm/postgresql';

/** Input of {@link reserveStock} and {@link releaseStock}: the order whose lines are meant. */
export interface StockInput {
  orderId: string;
}

/** Result of a stock step: per product, the units now RESERVED (or RELEASED). */
export interface StockResult {
  orderId: string;
  lines: { productId: number; quantity: number }[];
}

interface LineRow {
  product_id: number;
  quantity: number;
}

interface LineWithReservation extends LineRow {
  status: 'RESERVED' | 'RELEASED' | 'COMMITTED' | null;
  reserved_quantity: number | null;
}

/** Dependencies of the inventory activities. */
export interface InventoryDeps {
  orm: Orm;
}

/** Builds the inventory activities. */
export function createInventoryActivities({ orm }: InventoryDeps) {
  return {
    /**
     * Step 1 of the order saga: takes every line's quantity from stock, all or nothing,
     * and records a RESERVED stock reservation per line. Idempotent: a retry after a
     * commit returns the existing reservations. Compensation: {@link releaseStock}.
     *
     * @throws OutOfStock (non-retryable) when any line has too little stock; nothing changes.
     * @throws SagaAlreadyCompensated (non-retryable) when the saga already released stock.
     */
    async reserveStock({ orderId }: StockInput): Promise<StockResult> {
      return inTransaction(orm, async (em) => {
        await lockOrder(em, orderId);
        const lines = await linesWithReservations(em, orderId);
        const existing = lines.filter((l) => l.status !== null);
        if (existing.some((r) => r.status === 'RELEASED')) {
          // A re-run after the saga compensated: refuse, with the business reason when it still holds.
          const short = await shortLines(em, lines);
          if (short.length > 0) throw outOfStock(orderId, short);
          throw businessFailure(FailureType.SagaAlreadyCompensated, `Stock of order ${orderId} was already released`, { orderId });
        }
        if (existing.length > 0) return toResult(orderId, existing);
        const short: number[] = [];
        // One conditional update per line, in product-id order: concurrent sagas lock alike.
        for (const line of lines) {
          const updated = await sql(
            em,
            'update products set stock = stock - ? where id = ? and stock >= ? returning id',
            [line.quantity, line.product_id, line.quantity],
          );
          if (updated.length === 0) short.push(line.product_id);
        }
        // Throwing rolls back the units already taken for earlier lines.
        if (short.length > 0) throw outOfStock(orderId, short);
        await sql(
          em,
          `insert into stock_reservations (order_id, product_id, quantity, status, created_at, updated_at)
           select order_id, product_id, quantity, 'RESERVED', now(), now() from order_lines where order_id = ?`,
          [orderId],
        );
        return { orderId, lines: lines.map((l) => ({ productId: l.product_id, quantity: l.quantity })) };
      });
    },

    /**
     * Compensation of {@link reserveStock}: returns the units of every RESERVED line of
     * the order to stock and marks it RELEASED. Idempotent and a no-op when nothing is
     * reserved; when it runs before any reservation (the step failed or timed out), it
     * writes quantity-0 RELEASED tombstones so a late reserveStock attempt is refused.
     * COMMITTED (sold) lines are never released.
     */
    async releaseStock({ orderId }: StockInput): Promise<StockResult> {
      return inTransaction(orm, async (em) => {
        await lockOrder(em, orderId);
        const released = await sql<LineRow>(
          em,
          `update stock_reservations set status = 'RELEASED', updated_at = now()
           where order_id = ? and status = 'RESERVED' returning product_id, quantity`,
          [orderId],
        );
        released.sort((a, b) => a.product_id - b.product_id);
        for (const line of released) {
          await sql(em, 'update products set stock = stock + ? where id = ?', [line.quantity, line.product_id]);
        }
        await sql(
          em,
          `insert into stock_reservations (order_id, product_id, quantity, status, created_at, updated_at)
           select order_id, product_id, 0, 'RELEASED', now(), now() from order_lines where order_id = ?
           on conflict (order_id, product_id) do nothing`,
          [orderId],
        );
        return { orderId, lines: released.map((l) => ({ productId: l.product_id, quantity: l.quantity })) };
      });
    },
  };
}

function outOfStock(orderId: string, productIds: number[]) {
  return businessFailure(FailureType.OutOfStock, `Not enough stock for products ${productIds.join(', ')}`, { orderId, productIds });
}

/** Product ids of `lines` whose stock is below the line's quantity now. */
async function shortLines(em: EntityManager, lines: LineRow[]): Promise<number[]> {
  if (lines.length === 0) return [];
  const stock = await sql<{ id: number; stock: number }>(em, 'select id, stock from products where id in (?)', [lines.map((l) => l.product_id)]);
  return lines.filter((l) => (stock.find((p) => p.id === l.product_id)?.stock ?? 0) < l.quantity).map((l) => l.product_id);
}

async function lockOrder(em: EntityManager, orderId: string): Promise<void> {
  const rows = await sql(em, 'select id from orders where id = ? for update', [orderId]);
  // The saga creates the order row before any stock step; its absence is a bug, not a business case.
  if (rows.length === 0) throw new Error(`Order ${orderId} does not exist`);
}

/** The order's lines, each with its stock reservation's status and quantity (null when none yet). */
function linesWithReservations(em: EntityManager, orderId: string): Promise<LineWithReservation[]> {
  return sql<LineWithReservation>(
    em,
    `select l.product_id, l.quantity, r.status, r.quantity as reserved_quantity
     from order_lines l
     left join stock_reservations r on r.order_id = l.order_id and r.product_id = l.product_id
     where l.order_id = ? order by l.product_id`,
    [orderId],
  );
}

function toResult(orderId: string, rows: LineWithReservation[]): StockResult {
  return { orderId, lines: rows.map((r) => ({ productId: r.product_id, quantity: r.reserved_quantity ?? 0 })) };
}
