/**
 * Resolving an {@link InvariantScope} to the concrete rows the checks look at: the orders
 * and reservations it names or reaches, then their products, users and performances, and
 * the performances of the users' queue tokens.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { InvariantScope } from './types.ts';
import { json, rows, sql, tableExists, unique } from './sql.ts';

/** A scope resolved to concrete ids; `undefined` (no scope at all) means "every row". */
export interface ResolvedScope {
  orders: string[];
  reservations: string[];
  products: number[];
  users: number[];
  /** Coupon campaigns: those named, and those of the coupons of the scope's users and orders. */
  campaigns: number[];
  /** Those named, of the reservations, and of the users' queue tokens. */
  performances: number[];
  workflowIds: string[];
}

interface ScopedOrder {
  id: string;
  user_id: number;
  workflow_id: string;
}

interface ScopedReservation extends ScopedOrder {
  performance_id: number;
}

/** The orders named by id, of the scope's users, or with a line on the scope's products. */
function scopedOrders(em: EntityManager, scope: InvariantScope): Promise<ScopedOrder[]> {
  return rows<ScopedOrder>(
    em,
    sql`select o.id, o.user_id, o.workflow_id from orders o
        where o.id::text in (select jsonb_array_elements_text(${json(scope.orderIds ?? [])}::jsonb))
           or o.user_id in (select jsonb_array_elements_text(${json(scope.userIds ?? [])}::jsonb)::int)
           or exists (select 1 from order_lines l where l.order_id = o.id
                      and l.product_id in (select jsonb_array_elements_text(${json(scope.productIds ?? [])}::jsonb)::int))`,
  );
}

/** The reservations named by id, of the scope's users, or of the scope's performances. */
function scopedReservations(em: EntityManager, scope: InvariantScope): Promise<ScopedReservation[]> {
  return rows<ScopedReservation>(
    em,
    sql`select r.id, r.user_id, r.performance_id, r.workflow_id from reservations r
        where r.id::text in (select jsonb_array_elements_text(${json(scope.reservationIds ?? [])}::jsonb))
           or r.user_id in (select jsonb_array_elements_text(${json(scope.userIds ?? [])}::jsonb)::int)
           or r.performance_id in (select jsonb_array_elements_text(${json(scope.performanceIds ?? [])}::jsonb)::int)`,
  );
}

/** Resolves `scope` in `em`'s snapshot. */
export async function resolveScope(em: EntityManager, scope: InvariantScope): Promise<ResolvedScope> {
  const orders = await scopedOrders(em, scope);
  const reservations = await scopedReservations(em, scope);
  const lineProducts = await rows<{ product_id: number }>(
    em,
    sql`select distinct product_id from order_lines where order_id::text in (select jsonb_array_elements_text(${json(orders.map((o) => o.id))}::jsonb))`,
  );
  const users = unique([...(scope.userIds ?? []), ...orders.map((o) => o.user_id), ...reservations.map((r) => r.user_id)]);
  const couponCampaigns = await rows<{ campaign_id: number }>(
    em,
    sql`select distinct campaign_id from coupons
        where user_id in (select jsonb_array_elements_text(${json(users)}::jsonb)::int)
           or order_id::text in (select jsonb_array_elements_text(${json(orders.map((o) => o.id))}::jsonb))`,
  );
  const queuePerformances = (await tableExists(em, 'queue_tokens'))
    ? await rows<{ performance_id: number }>(
        em,
        sql`select distinct performance_id from queue_tokens where user_id in (select jsonb_array_elements_text(${json(users)}::jsonb)::int)`,
      )
    : [];
  return {
    orders: orders.map((o) => o.id),
    reservations: reservations.map((r) => r.id),
    products: unique([...(scope.productIds ?? []), ...lineProducts.map((l) => l.product_id)]),
    users,
    performances: unique([...(scope.performanceIds ?? []), ...reservations.map((r) => r.performance_id), ...queuePerformances.map((q) => q.performance_id)]),
    workflowIds: [...orders.map((o) => o.workflow_id), ...reservations.map((r) => r.workflow_id)],
    campaigns: unique([...(scope.campaignIds ?? []), ...couponCampaigns.map((c) => c.campaign_id)]),
  };
}
