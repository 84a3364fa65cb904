/**
 * Ranking checks (db/ranking.ts): the popular-products aggregate against a recomputation
 * from the orders, and the consumed events against the outbox and the orders.
 * - `ranking-matches-confirmed-orders`: for each product and UTC day, `product_sales_daily`
 *   holds exactly the units and revenue (units x order-time unit price, in won) of the
 *   lines of the CONFIRMED orders whose `order.confirmed` event was consumed, each order
 *   once, on the day its event occurred. An event counted twice, a line left out or
 *   changed in the payload, or the aggregate changed behind the consumer's back all show.
 * - `ranking-events-belong-to-confirmed-orders`: every consumed event is an
 *   `order.confirmed` outbox row of a CONFIRMED order, and no order has two consumed events;
 *   and the consumer's position (`ranking_consumer_position`) lies below every
 *   `order.confirmed` row not consumed yet (a row it passed would never be counted).
 * Per-product sums always count every order of a product in scope. Skipped on a database
 * without the ranking tables.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { ORDER_CONFIRMED_EVENT } from '../common/outbox.ts';
import { outboxLines, RANKING_CONSUMER } from '../db/ranking.ts';
import type { ResolvedScope } from './scope.ts';
import { raw, rows, sql, tableExists, within } from './sql.ts';
import { result, type CheckResult, type InvariantIds, type Violation } from './types.ts';

/** The ranking checks' names, in the order they run. */
const MATCHES = 'ranking-matches-confirmed-orders';
const BELONG = 'ranking-events-belong-to-confirmed-orders';

interface SalesMismatch {
  product_id: number;
  day: string;
  units: number;
  revenue_won: number;
  expected_units: number;
  expected_revenue_won: number;
}

/** `ranking-matches-confirmed-orders` (see the module comment). */
async function rankingMatchesConfirmedOrders(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const found = await rows<SalesMismatch>(
    em,
    sql`with counted as (
          select distinct on (o.id) o.id as order_id, (d.occurred_at at time zone 'UTC')::date as day
          from ranking_consumed_events c
          join data_platform_deliveries d on d.event_id = c.event_id and d.event_type = ${ORDER_CONFIRMED_EVENT}
          join orders o on o.workflow_id = d.saga_id and o.status = 'CONFIRMED'
          order by o.id, d.occurred_at, d.event_id
        ), expected as (
          select l.product_id, k.day, sum(l.quantity)::bigint as units, sum(l.quantity * l.unit_price_won)::bigint as revenue_won
          from counted k join order_lines l on l.order_id = k.order_id
          where ${within('l.product_id', scope?.products, 'int')}
          group by l.product_id, k.day
        ), actual as (
          select product_id, day, units, revenue_won from product_sales_daily s
          where ${within('s.product_id', scope?.products, 'int')}
        )
        select coalesce(a.product_id, e.product_id) as product_id, to_char(coalesce(a.day, e.day), 'YYYY-MM-DD') as day,
               coalesce(a.units, 0)::bigint as units, coalesce(a.revenue_won, 0)::bigint as revenue_won,
               coalesce(e.units, 0)::bigint as expected_units, coalesce(e.revenue_won, 0)::bigint as expected_revenue_won
        from actual a full join expected e on e.product_id = a.product_id and e.day = a.day
        where coalesce(a.units, 0) <> coalesce(e.units, 0) or coalesce(a.revenue_won, 0) <> coalesce(e.revenue_won, 0)
        order by 1, 2`,
  );
  return result(MATCHES, found.map((m): Violation => ({
    check: MATCHES,
    rule: 'product_sales_daily = the lines of the CONFIRMED orders whose event was consumed, each order once',
    ids: { productId: m.product_id, day: m.day },
    expected: `${m.expected_units} units, ${m.expected_revenue_won} won`,
    found: `${m.units} units, ${m.revenue_won} won`,
  })));
}

interface StrayEvent {
  event_id: string;
  event_type: string | null;
  order_id: string | null;
  order_status: string | null;
  events_of_order: number;
}

/** What is wrong with a consumed event, or undefined when nothing is. */
function strayReason(e: StrayEvent): { expected: string; found: string } | undefined {
  if (e.event_type === null) return { expected: 'an outbox row', found: 'no outbox row' };
  if (e.event_type !== ORDER_CONFIRMED_EVENT) return { expected: `an ${ORDER_CONFIRMED_EVENT} event`, found: `a ${e.event_type} event` };
  if (e.order_id === null) return { expected: 'the event of an order', found: 'no order of its saga' };
  if (e.order_status !== 'CONFIRMED') return { expected: 'order CONFIRMED', found: `order ${e.order_status}` };
  if (e.events_of_order > 1) return { expected: 'one consumed event per order', found: `${e.events_of_order} consumed events of the order` };
  return undefined;
}

/** `ranking-events-belong-to-confirmed-orders` (see the module comment). */
async function rankingEventsBelongToConfirmedOrders(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const onScopeProduct = scope
    ? sql`exists (select 1 from jsonb_array_elements(${raw(outboxLines('e.payload'))}) x(line)
                  where jsonb_typeof(x.line->'productId') = 'number'
                    and ${within("(x.line->>'productId')::numeric::int", scope.products, 'int')})`
    : raw('true');
  const found = await rows<StrayEvent>(
    em,
    sql`select * from (
          select c.event_id, d.event_type, o.id as order_id, o.status as order_status, d.payload,
                 (case when o.id is null then 1 else count(*) over (partition by o.id) end)::int as events_of_order
          from ranking_consumed_events c
          left join data_platform_deliveries d on d.event_id = c.event_id
          left join orders o on o.workflow_id = d.saga_id
        ) e
        where (e.event_type is distinct from ${ORDER_CONFIRMED_EVENT} or e.order_id is null
               or e.order_status <> 'CONFIRMED' or e.events_of_order > 1)
          and (${within('e.order_id', scope?.orders, 'uuid')} or ${onScopeProduct})
        order by e.event_id`,
  );
  const violations: Violation[] = [];
  for (const e of found) {
    const reason = strayReason(e);
    if (!reason) continue;
    violations.push({
      check: BELONG,
      rule: `a consumed event is the ${ORDER_CONFIRMED_EVENT} event of a CONFIRMED order, one per order`,
      ids: e.order_id === null ? { eventId: e.event_id } : { eventId: e.event_id, orderId: e.order_id },
      ...reason,
    });
  }
  violations.push(...(await eventsPassedUnconsumed(em, scope)));
  return result(BELONG, violations);
}

/**
 * The `order.confirmed` outbox rows in scope that are not consumed although the consumer's
 * position has passed them (`recorded_xid` below `scanned_below_xid`): db/ranking.ts reads
 * only from its position on, so it would never count them. None on a database without
 * the position table.
 */
async function eventsPassedUnconsumed(em: EntityManager, scope: ResolvedScope | undefined): Promise<Violation[]> {
  if (!(await tableExists(em, 'ranking_consumer_position'))) return [];
  const onScopeProduct = scope
    ? sql`exists (select 1 from jsonb_array_elements(${raw(outboxLines('d.payload'))}) x(line)
                  where jsonb_typeof(x.line->'productId') = 'number'
                    and ${within("(x.line->>'productId')::numeric::int", scope.products, 'int')})`
    : raw('true');
  const found = await rows<{ event_id: string; order_id: string | null; position: string }>(
    em,
    sql`select d.event_id, o.id as order_id, p.scanned_below_xid::text as position
        from data_platform_deliveries d
        join ranking_consumer_position p on p.consumer = ${RANKING_CONSUMER}
        left join orders o on o.workflow_id = d.saga_id
        where d.event_type = ${ORDER_CONFIRMED_EVENT} and d.recorded_xid < p.scanned_below_xid
          and not exists (select 1 from ranking_consumed_events c where c.event_id = d.event_id)
          and (${within('o.id', scope?.orders, 'uuid')} or ${onScopeProduct})
        order by d.event_id`,
  );
  return found.map((e): Violation => ({
    check: BELONG,
    rule: `the ranking consumer's position passes only consumed ${ORDER_CONFIRMED_EVENT} events`,
    ids: e.order_id === null ? { eventId: e.event_id } : ({ eventId: e.event_id, orderId: e.order_id } as InvariantIds),
    expected: 'consumed, or at or above the consumer position',
    found: `not consumed, below position ${e.position}`,
  }));
}

/**
 * The ranking checks in their order: `ranking-matches-confirmed-orders`,
 * `ranking-events-belong-to-confirmed-orders`; both skipped (passing) when the database
 * has no ranking tables (a database migrated part of the way).
 */
export async function rankingChecks(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult[]> {
  if (!(await tableExists(em, 'product_sales_daily'))) {
    const skipped = 'no ranking tables (database migrated before them)';
    return [{ ...result(MATCHES, []), skipped }, { ...result(BELONG, []), skipped }];
  }
  return [await rankingMatchesConfirmedOrders(em, scope), await rankingEventsBelongToConfirmedOrders(em, scope)];
}
