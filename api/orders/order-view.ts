/**
 * The order read model: what `GET /orders/:id` and the answers of `POST /orders` show.
 * Business data comes from the orders tables; live saga progress from the workflow's
 * `orderProgress` Query.
 */
import type { Client } from '@temporalio/client';
import { orderProgressQuery, orderWorkflowId, type OrderProgress, type OrderStatus } from '../../common/index.ts';
import { Order, OrderLine } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../config/logger.ts';
import { describeWorkflow, queryOrNull } from '../temporal.ts';

/** One order line: `quantity` units at `unitPriceWon` won; `lineTotalWon` = quantity x unit price. */
export interface OrderLineView {
  productId: number;
  quantity: number;
  unitPriceWon: number;
  lineTotalWon: number;
}

/**
 * An order as the API shows it. Amounts in won; timestamps ISO 8601. `reason` and
 * `message` say why a CANCELLED or COMPENSATION_FAILED order ended so. `saga` is the
 * workflow's progress, or null when the workflow cannot be queried (gone or unreachable).
 * An order whose saga has started but not yet written its row is PENDING with
 * `userId`, `totalWon`, `createdAt` null and no lines.
 */
export interface OrderView {
  orderId: string;
  userId: number | null;
  status: OrderStatus;
  totalWon: number | null;
  reason: string | null;
  message: string | null;
  lines: OrderLineView[];
  createdAt: string | null;
  confirmedAt: string | null;
  saga: OrderProgress | null;
}

/** The order row and its lines, without saga progress; `requestHash` for the key-reuse check. */
export type OrderRecord = Omit<OrderView, 'saga'> & { requestHash: string };

/** Loads an order and its lines (ordered by product id), or null when there is no row. */
export async function loadOrderRecord(orm: Orm, orderId: string): Promise<OrderRecord | null> {
  const em = orm.em.fork();
  const order = await em.findOne(Order, { id: orderId });
  if (!order) return null;
  const lines = await em.find(OrderLine, { order: orderId });
  const lineViews = lines
    .map((line) => ({
      productId: line.product.id,
      quantity: line.quantity,
      unitPriceWon: line.unitPriceWon,
      lineTotalWon: line.quantity * line.unitPriceWon,
    }))
    .sort((a, b) => a.productId - b.productId);
  return {
    orderId: order.id,
    userId: order.user.id,
    status: order.status,
    totalWon: order.totalWon,
    reason: order.cancellationReason ?? null,
    message: order.cancellationMessage ?? null,
    lines: lineViews,
    createdAt: order.createdAt.toISOString(),
    confirmedAt: order.confirmedAt ? order.confirmedAt.toISOString() : null,
    requestHash: order.requestHash,
  };
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
