/**
 * Inventory bounded context: reserving and releasing stock for an order.
 *
 * Tables: `products` (stock) and `stock_reservations` (one row per order and product,
 * unique (order_id, product_id): RESERVED, RELEASED, or COMMITTED by the pivot in
 * pivots.ts). The order's lines come in the input (the saga passes createOrder's
 * result); Inventory reads no table of Orders. One exception: an input without `lines`
 * (see {@link StockInput}) is read from `order_lines` by {@link legacyOrderLines}.
 *
 * Concurrency. Steps of different orders share only product rows, which both activities
 * change in ascending product-id order through conditional updates (`stock >= quantity`,
 * backed by the check `stock >= 0`), so concurrent sagas never deadlock and stock never
 * goes negative. Steps of one order (retries, an attempt still running after it timed
 * out, a late reserve after the compensation, the pivot) serialize on the order's own
 * stock_reservations rows, not on the `orders` row:
 * - each first locks the order's existing rows `FOR UPDATE`, in product-id order;
 * - a step that finds none writes the rows of every line with
 *   `insert ... on conflict (order_id, product_id) do nothing`. The unique index makes a
 *   second writer of the same key wait until the first commits or rolls back, and then
 *   skip the key (committed) or write it (rolled back). Which rows a step wrote tells it
 *   whether it won: reserveStock writes RESERVED rows (its claim) before it takes stock,
 *   releaseStock writes quantity-0 RELEASED tombstones before it reads.
 *
 * Every interleaving of two steps of one order, A then B (A commits first, or B waits):
 * - reserve, reserve (a retry, or two attempts at once): B finds A's rows, or its claim
 *   waits for A and writes nothing; B then answers from A's rows (a lookup) and takes no
 *   stock. If A rolled back (OutOfStock), B's claim succeeds and B decides afresh.
 * - reserve, release: release's tombstones wait for the claim and skip its keys; release
 *   then locks the RESERVED rows, returns their units and marks them RELEASED.
 * - release, reserve (the late reserve after the compensation): release's tombstones are
 *   committed (or reserve's claim waits for them and writes nothing); reserve finds
 *   RELEASED rows and is refused (OutOfStock when the stock is still short, else
 *   SagaAlreadyCompensated) without taking stock.
 * - release, release: the second finds no RESERVED row and its tombstones conflict: a no-op.
 * - pivot and release: the pivot (confirmOrder) locks the order's rows `FOR UPDATE` in
 *   product-id order before it checks them; release locks the same rows in the same
 *   order before it changes them. Pivot first: the lines are COMMITTED, release finds no
 *   RESERVED row and returns nothing (sold stock is never released). Release first: the
 *   pivot sees RELEASED lines and refuses (SagaAlreadyCompensated).
 * - pivot and reserve: a reserve after the pivot finds COMMITTED rows and answers them.
 * Inserting a row checks its foreign keys, which takes a KEY SHARE lock on the `orders`
 * row: a writer waits while the pivot or cancelOrder holds that row `FOR UPDATE`. Neither
 * of them waits for a row a stock step holds (the stock step's new rows are invisible to
 * them), so this adds no deadlock.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { FailureType } from '../common/failures.ts';
import { businessFailure, inTransaction, sql } from './tx.ts';

/** One line of an order as Inventory needs it: `quantity` units (integer >= 1) of `productId`. */
export interface StockLine {
  productId: number;
  quantity: number;
}

/**
 * Input of {@link reserveStock} and {@link releaseStock}: the order and its lines
 * (createOrder's result, distinct product ids).
 *
 * `lines` is optional only for inputs scheduled before it existed: an activity that a
 * saga started before this deploy scheduled, retried after it. Such an input is served
 * by the legacy path ({@link legacyOrderLines}), which reads the lines from Orders'
 * `order_lines`. Remove that path, and make `lines` required, once no orderCheckout
 * workflow started before the deploy that passes `lines` is still running.
 */
export interface StockInput {
  orderId: string;
  lines?: StockLine[];
}

/** Result of a stock step: per product, the units now RESERVED (or RELEASED). */
export interface StockResult {
  orderId: string;
  lines: StockLine[];
}

/** A stock_reservations row of the order. */
interface StockRow {
  product_id: number;
  quantity: number;
  status: 'RESERVED' | 'RELEASED' | 'COMMITTED';
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
    async reserveStock(input: StockInput): Promise<StockResult> {
      const { orderId } = input;
      return inTransaction(orm, async (em) => {
        const lines = input.lines ? byProduct(input.lines) : await legacyOrderLines(em, orderId);
        let rows = await lockStockRows(em, orderId);
        if (rows.length === 0) {
          if (await claimAndTake(em, orderId, lines)) return { orderId, lines };
          // Another step of this order wrote its rows since our first look: answer from them.
          rows = await lockStockRows(em, orderId);
        }
        if (rows.some((r) => r.status === 'RELEASED')) {
          // A re-run after the saga compensated: refuse, with the business reason when it still holds.
          const short = await shortLines(em, lines);
          if (short.length > 0) throw outOfStock(orderId, short);
          throw businessFailure(FailureType.SagaAlreadyCompensated, `Stock of order ${orderId} was already released`, { orderId });
        }
        return { orderId, lines: rows.map((r) => ({ productId: r.product_id, quantity: r.quantity })) };
      });
    },

    /**
     * Compensation of {@link reserveStock}: returns the units of every RESERVED line of
     * the order to stock and marks it RELEASED. Idempotent and a no-op when nothing is
     * reserved; when it runs before any reservation (the step failed or timed out), it
     * writes quantity-0 RELEASED tombstones so a late reserveStock attempt is refused.
     * COMMITTED (sold) lines are never released.
     */
    async releaseStock(input: StockInput): Promise<StockResult> {
      const { orderId } = input;
      return inTransaction(orm, async (em) => {
        const lines = input.lines ? byProduct(input.lines) : await legacyOrderLines(em, orderId);
        // Tombstones first: they wait for a reserveStock of this order still in flight,
        // so the rows read below include everything it reserved.
        if (lines.length > 0) {
          await sql(
            em,
            `insert into stock_reservations (order_id, product_id, quantity, status, created_at, updated_at)
             values ${lines.map(() => `(?, ?, 0, 'RELEASED', now(), now())`).join(', ')} on conflict (order_id, product_id) do nothing`,
            lines.flatMap((l) => [orderId, l.productId]),
          );
        }
        await lockStockRows(em, orderId);
        const released = await sql<{ product_id: number; quantity: number }>(
          em,
          `update stock_reservations set status = 'RELEASED', updated_at = now()
           where order_id = ? and status = 'RESERVED' returning product_id, quantity`,
          [orderId],
        );
        released.sort((a, b) => a.product_id - b.product_id);
        for (const line of released) {
          await sql(em, 'update products set stock = stock + ? where id = ?', [line.quantity, line.product_id]);
        }
        return { orderId, lines: released.map((l) => ({ productId: l.product_id, quantity: l.quantity })) };
      });
    },
  };
}

/**
 * Writes a RESERVED row per line (the claim), then takes the stock in product-id order.
 * Returns false, with nothing written and no stock taken, when another step of the order
 * wrote rows first.
 *
 * @throws OutOfStock when any line is short (the transaction rolls back the claim and
 *   the units already taken).
 */
async function claimAndTake(em: EntityManager, orderId: string, lines: StockLine[]): Promise<boolean> {
  if (lines.length === 0) return true;
  const claimed = await sql<{ product_id: number }>(
    em,
    `insert into stock_reservations (order_id, product_id, quantity, status, created_at, updated_at) values ${lines.map(() => `(?, ?, ?, 'RESERVED', now(), now())`).join(', ')}
     on conflict (order_id, product_id) do nothing returning product_id`,
    lines.flatMap((l) => [orderId, l.productId, l.quantity]),
  );
  if (claimed.length < lines.length) {
    // Lost the race; the rows this statement did write are ours alone (uncommitted): drop them.
    if (claimed.length > 0) {
      await sql(em, 'delete from stock_reservations where order_id = ? and product_id in (?)', [orderId, claimed.map((c) => c.product_id)]);
    }
    return false;
  }
  const short: number[] = [];
  // One conditional update per line, in product-id order: concurrent sagas lock alike.
  for (const line of lines) {
    const updated = await sql(em, 'update products set stock = stock - ? where id = ? and stock >= ? returning id', [
      line.quantity,
      line.productId,
      line.quantity,
    ]);
    if (updated.length === 0) short.push(line.productId);
  }
  if (short.length > 0) throw outOfStock(orderId, short);
  return true;
}

function outOfStock(orderId: string, productIds: number[]) {
  return businessFailure(FailureType.OutOfStock, `Not enough stock for products ${productIds.join(', ')}`, { orderId, productIds });
}

/** Product ids of `lines` whose stock is below the line's quantity now. */
async function shortLines(em: EntityManager, lines: StockLine[]): Promise<number[]> {
  if (lines.length === 0) return [];
  const stock = await sql<{ id: number; stock: number }>(em, 'select id, stock from products where id in (?)', [lines.map((l) => l.productId)]);
  return lines.filter((l) => (stock.find((p) => p.id === l.productId)?.stock ?? 0) < l.quantity).map((l) => l.productId);
}

/** The order's stock_reservations rows, locked `FOR UPDATE` in product-id order. */
function lockStockRows(em: EntityManager, orderId: string): Promise<StockRow[]> {
  return sql<StockRow>(em, 'select product_id, quantity, status from stock_reservations where order_id = ? order by product_id for update', [orderId]);
}

/** `lines` sorted by product id: every step takes its locks in that order. */
function byProduct(lines: StockLine[]): StockLine[] {
  return lines.map((l) => ({ productId: l.productId, quantity: l.quantity })).sort((a, b) => a.productId - b.productId);
}

/**
 * LEGACY PATH, an exception to "Inventory reads only its own tables" (listed in
 * test/unit/table-ownership.test.ts): the lines of an input without `lines`, read from
 * Orders' `order_lines`. Only a stock step scheduled by a saga started before `lines`
 * was passed takes it. Remove it once no such saga is still running.
 */
async function legacyOrderLines(em: EntityManager, orderId: string): Promise<StockLine[]> {
  const rows = await sql<{ product_id: number; quantity: number }>(
    em,
    'select product_id, quantity from order_lines where order_id = ? order by product_id',
    [orderId],
  );
  // The saga creates the order with its lines before any stock step; their absence is a bug, not a business case.
  if (rows.length === 0) throw new Error(`Order ${orderId} does not exist`);
  return rows.map((r) => ({ productId: r.product_id, quantity: r.quantity }));
}
