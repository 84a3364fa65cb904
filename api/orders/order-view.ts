/**
 * The order read model: what `GET /orders/:id` and the answers of `POST /orders` show.
 * Business data comes from the orders tables; live saga progress from the workflow's
 * `orderProgress` Query.
 */
import type { Client } from '@temporalio/client';
import { orderProgressQuery, orderWorkflowId, type OrderProgress, type OrderStatus } from '../../common/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../config/logger.ts';
import { describeWorkflow, queryOrNull } from '../temporal.ts';
import type { OrderLineView, OrderView } from './schemas.ts';

/** The order row and its lines, without saga progress; `requestHash` for the key-reuse check. */
export type OrderRecord = Omit<OrderView, 'saga'> & { requestHash: string };

/** `to_char` format of a UTC timestamp as `Date#toISOString` writes it (milliseconds, `Z`). */
const ISO_8601_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** Loads an order and its lines (ordered by product id), or null when there is no row. */
export async function loadOrderRecord(orm: Orm, orderId: string): Promise<OrderRecord | null> {
  // The order and its lines in one statement (lines as JSON, by product id).
  const [row] = await orm.em.fork().execute<OrderRow[]>(
    `select o.id, o.user_id, o.status, o.total_won, o.cancellation_reason, o.cancellation_message,
            to_char(o.created_at at time zone 'UTC', ${ISO_8601_UTC}) as created_at,
            to_char(o.confirmed_at at time zone 'UTC', ${ISO_8601_UTC}) as confirmed_at, o.request_hash,
            coalesce((select json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity,
                                                        'unitPriceWon', l.unit_price_won) order by l.product_id)
                      from order_lines l where l.order_id = o.id), '[]'::json) as lines
     from orders o where o.id = ?`,
    [orderId] as never[],
    'all',
  );
  if (!row) return null;
  return {
    orderId: row.id,
    userId: row.user_id,
    status: row.status,
    totalWon: row.total_won,
    reason: row.cancellation_reason,
    message: row.cancellation_message,
    lines: row.lines.map((line) => ({ ...line, lineTotalWon: line.quantity * line.unitPriceWon })),
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    requestHash: row.request_hash,
  };
}

/** A row of {@link loadOrderRecord}'s statement. */
interface OrderRow {
  id: string;
  user_id: number;
  status: OrderStatus;
  total_won: number;
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
    reason: null,
    message: null,
    lines: [],
    createdAt: null,
    confirmedAt: null,
    saga,
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
  if (!(await describeWorkflow(deps.client, orderWorkflowId(orderId)))) return null;
  return pendingOrderView(orderId, await querySagaProgress(deps.client, log, orderId));
}
