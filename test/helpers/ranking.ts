/**
 * Fixtures of the ranking suites: real CONFIRMED orders written by the activities with
 * their `order.confirmed` outbox row as the pivot writes it, bulk CONFIRMED orders with
 * their outbox rows in one statement (for volume), and readers of the read model.
 */
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities/index.ts';
import { confirmedEventId, orderWorkflowId, stepKey } from '../../common/ids.ts';
import { poolQuery, type Orm } from '../../db/orm.ts';

/** A CONFIRMED order written by {@link confirmOrderThroughActivities}. */
export interface ConfirmedOrder {
  orderId: string;
  workflowId: string;
  eventId: string;
}

/**
 * Runs an order's steps up to the pivot through the activities (create, reserve stock,
 * pay with points, confirm): a CONFIRMED order of `items` for `userId`, who must have the
 * points. Its outbox row is the pivot's, or {@link writePivotEvent}'s when the pivot writes none.
 */
export async function confirmOrderThroughActivities(
  acts: Activities,
  userId: number,
  items: { productId: number; quantity: number }[],
): Promise<ConfirmedOrder> {
  const orderId = randomUUID();
  const workflowId = orderWorkflowId(orderId);
  const sorted = [...items].sort((a, b) => a.productId - b.productId);
  const created = await acts.createOrder({ orderId, userId, workflowId, requestHash: 'h', items: sorted });
  await acts.reserveStock({ orderId });
  await acts.payWithPoints({ userId, amountPoints: created.totalWon, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
  await acts.confirmOrder({ orderId });
  return { orderId, workflowId, eventId: confirmedEventId(workflowId) };
}

/**
 * Writes the `order.confirmed` outbox row of order `orderId` as the pivot writes it
 * (event id `<workflowId>:confirmed`, payload `{ orderId, userId, subtotalWon, discountWon,
 * couponId, totalWon, lines }` from the order's rows), unless it exists; with `occurredAt`,
 * the row's `occurred_at` is set to it (an event of another day).
 *
 * @returns the event id.
 */
export async function writePivotEvent(orm: Orm, orderId: string, occurredAt?: Date, eventId?: string): Promise<string> {
  const [row] = await poolQuery<{ event_id: string }>(
    orm,
    `insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, occurred_at, created_at)
     select coalesce($2, o.workflow_id || ':confirmed'), o.workflow_id, 'order.confirmed', 'PENDING', 0,
            jsonb_build_object('orderId', o.id, 'userId', o.user_id, 'subtotalWon', coalesce(o.subtotal_won, o.total_won),
              'discountWon', o.discount_won, 'couponId', o.coupon_id, 'totalWon', o.total_won,
              'lines', (select jsonb_agg(jsonb_build_object('productId', l.product_id, 'quantity', l.quantity, 'unitPriceWon', l.unit_price_won)
                                         order by l.product_id) from order_lines l where l.order_id = o.id)),
            now(), now()
     from orders o where o.id = $1
     on conflict (event_id) do nothing
     returning event_id`,
    [orderId, eventId ?? null],
  );
  const id = row?.event_id ?? eventId ?? (await poolQuery<{ id: string }>(orm, `select workflow_id || ':confirmed' as id from orders where id = $1`, [orderId]))[0]!.id;
  if (occurredAt) await poolQuery(orm, 'update data_platform_deliveries set occurred_at = $2 where event_id = $1', [id, occurredAt]);
  return id;
}

/** What {@link seedConfirmedOrders} wrote: its tag (the orders' `request_hash`) and the units per product. */
export interface SeededOrders {
  tag: string;
  unitsByProduct: Map<number, number>;
}

/**
 * Inserts `count` CONFIRMED orders of `userId` in one statement, order `n` (1..count) one
 * line of `1 + n % 3` units of `productIds[n % productIds.length]` at its catalog price,
 * with its outbox row (DELIVERED, so no relay sends it) that occurred `n % days` days ago.
 * They carry no stock lines nor payments: only the ranking checks hold for them. Remove
 * them with {@link removeSeededOrders}.
 */
export async function seedConfirmedOrders(orm: Orm, userId: number, productIds: number[], count: number, days: number): Promise<SeededOrders> {
  const tag = `ranking-seed-${randomUUID()}`;
  await poolQuery(
    orm,
    `with src as (
       select gen_random_uuid() as id, ($2::int[])[1 + g % cardinality($2::int[])] as product_id, 1 + g % 3 as quantity, g % $4::int as days_back
       from generate_series(1, $3::int) g
     ), priced as (
       select s.*, p.price_won, s.quantity * p.price_won as total from src s join products p on p.id = s.product_id
     ), o as (
       insert into orders (id, user_id, status, total_won, subtotal_won, discount_won, workflow_id, request_hash, created_at, updated_at, confirmed_at)
       select id, $1::int, 'CONFIRMED', total, total, 0, 'order-' || id, $5::text, now(), now(), now() from priced
     ), l as (
       insert into order_lines (order_id, product_id, quantity, unit_price_won) select id, product_id, quantity, price_won from priced
     )
     insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, occurred_at, created_at, delivered_at)
     select 'order-' || id || ':confirmed', 'order-' || id, 'order.confirmed', 'DELIVERED', 1,
            jsonb_build_object('orderId', id, 'userId', $1::int, 'subtotalWon', total, 'discountWon', 0, 'couponId', null, 'totalWon', total,
              'lines', jsonb_build_array(jsonb_build_object('productId', product_id, 'quantity', quantity, 'unitPriceWon', price_won))),
            now() - make_interval(days => days_back), now(), now()
     from priced`,
    [userId, productIds, count, days, tag],
  );
  const units = await poolQuery<{ product_id: number; units: number }>(
    orm,
    `select l.product_id, sum(l.quantity)::int as units from orders o join order_lines l on l.order_id = o.id
     where o.request_hash = $1 group by l.product_id`,
    [tag],
  );
  return { tag, unitsByProduct: new Map(units.map((u) => [u.product_id, u.units])) };
}

/** Deletes what {@link seedConfirmedOrders} wrote and the read model's rows of `productIds` (products only those orders sold). */
export async function removeSeededOrders(orm: Orm, seeded: SeededOrders, productIds: number[]): Promise<void> {
  const sagas = `select workflow_id from orders where request_hash = $1`;
  await poolQuery(orm, `delete from ranking_consumed_events where event_id in (select event_id from data_platform_deliveries where saga_id in (${sagas}))`, [seeded.tag]);
  await poolQuery(orm, `delete from data_platform_deliveries where saga_id in (${sagas})`, [seeded.tag]);
  await poolQuery(orm, `delete from order_lines where order_id in (select id from orders where request_hash = $1)`, [seeded.tag]);
  await poolQuery(orm, `delete from orders where request_hash = $1`, [seeded.tag]);
  await poolQuery(orm, `delete from product_sales_daily where product_id = any($1::int[])`, [productIds]);
}

/** `product_sales_daily` rows of `productIds`, by product and day (`YYYY-MM-DD`). */
export async function salesOf(orm: Orm, productIds: number[]): Promise<{ productId: number; day: string; units: number; revenueWon: number }[]> {
  const rows = await poolQuery<{ product_id: number; day: string; units: number; revenue_won: number }>(
    orm,
    `select product_id, to_char(day, 'YYYY-MM-DD') as day, units, revenue_won from product_sales_daily
     where product_id = any($1::int[]) order by product_id, day`,
    [productIds],
  );
  return rows.map((r) => ({ productId: r.product_id, day: r.day, units: r.units, revenueWon: r.revenue_won }));
}

/** Whether the ranking consumed event `eventId`. */
export async function isConsumed(orm: Orm, eventId: string): Promise<boolean> {
  return (await poolQuery(orm, 'select 1 from ranking_consumed_events where event_id = $1', [eventId])).length === 1;
}
