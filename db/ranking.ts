/**
 * The Ranking read model in SQL (db/entities/ranking.ts): its consumer of the outbox and
 * the popular-products read.
 *
 * The consumer reads the outbox (`data_platform_deliveries`) independently of the relay
 * that delivers it: every `order.confirmed` row, whatever its delivery status, counts
 * once. One statement (so one transaction) takes a batch of rows not yet consumed,
 * `for update skip locked` so concurrent consumers take different rows, records each
 * event id in `ranking_consumed_events` and adds the lines of the events it recorded to
 * `product_sales_daily`. The insert of the event id (`on conflict do nothing`) decides
 * what counts: a row another consumer recorded after this statement's snapshot was taken
 * is taken again but not recorded, so it is not counted twice. A crash at any instant
 * leaves both tables as they were or both changed.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { ORDER_CONFIRMED_EVENT } from '../common/outbox.ts';
import { poolQuery, type Orm } from './orm.ts';

/** Outbox rows taken per statement when the caller does not say. */
export const DEFAULT_RANKING_BATCH_SIZE = 500;

/** What one {@link consumeRankingBatch} did: rows taken, events recorded, lines counted. */
export interface RankingBatchResult {
  /** Outbox rows taken (locked) by the statement, at most the batch size. */
  taken: number;
  /** Events recorded in `ranking_consumed_events` (a row recorded meanwhile by another consumer is not). */
  consumed: number;
  /** `product_sales_daily` rows (product, day) added to. */
  salesRows: number;
}

/**
 * SQL of the lines array of the outbox payload `payload` (a jsonb expression): its
 * `lines`, or `payload.lines` for a row an older writer stored the whole event in, or an
 * empty array, so `jsonb_array_elements` never fails on a payload without lines.
 */
export function outboxLines(payload: string): string {
  return `case when jsonb_typeof(${payload}->'lines') = 'array' then ${payload}->'lines'
               when jsonb_typeof(${payload}->'payload'->'lines') = 'array' then ${payload}->'payload'->'lines'
               else '[]'::jsonb end`;
}

/**
 * The statement of {@link consumeRankingBatch}. The event's lines are the payload's
 * `lines` (`{ productId, quantity, unitPriceWon }`), or `payload.payload.lines` for rows
 * an older writer stored the whole event in; lines that are not numbers are left out, so
 * no event can stop the consumer. The day is the UTC date of `occurred_at`. Only events of
 * a CONFIRMED order (`orders.workflow_id` = the row's `saga_id`) count: an event of any
 * other order is recorded and counts nothing (the invariant checker reports it).
 * Sales rows are upserted in (product, day) order, so concurrent consumers lock them in
 * one order and never deadlock.
 */
const CONSUME_BATCH = `
  with batch as (
    select d.event_id, d.saga_id, d.payload, d.occurred_at
    from data_platform_deliveries d
    where d.event_type = ?
      and not exists (select 1 from ranking_consumed_events c where c.event_id = d.event_id)
    order by d.occurred_at, d.event_id
    limit ?
    for update of d skip locked
  ), consumed as (
    insert into ranking_consumed_events (event_id, consumed_at)
    select event_id, now() from batch
    on conflict (event_id) do nothing
    returning event_id
  ), lines as (
    select (l.line->>'productId')::numeric::int as product_id,
           (b.occurred_at at time zone 'UTC')::date as day,
           (l.line->>'quantity')::numeric::bigint as quantity,
           (l.line->>'unitPriceWon')::numeric::bigint as unit_price_won
    from batch b
    join consumed c on c.event_id = b.event_id
    join orders o on o.workflow_id = b.saga_id and o.status = 'CONFIRMED'
    cross join lateral jsonb_array_elements(${outboxLines('b.payload')}) as l(line)
    where jsonb_typeof(l.line->'productId') = 'number'
      and jsonb_typeof(l.line->'quantity') = 'number'
      and jsonb_typeof(l.line->'unitPriceWon') = 'number'
  ), sums as (
    select product_id, day, sum(quantity)::bigint as units, sum(quantity * unit_price_won)::bigint as revenue_won
    from lines where quantity > 0 and unit_price_won >= 0
    group by product_id, day
  ), upserted as (
    insert into product_sales_daily (product_id, day, units, revenue_won)
    select product_id, day, units, revenue_won from sums order by product_id, day
    on conflict (product_id, day) do update
      set units = product_sales_daily.units + excluded.units,
          revenue_won = product_sales_daily.revenue_won + excluded.revenue_won
    returning 1
  )
  select (select count(*) from batch)::int as taken,
         (select count(*) from consumed)::int as consumed,
         (select count(*) from upserted)::int as sales_rows`;

/**
 * Consumes up to `batchSize` outbox `order.confirmed` rows not consumed yet (oldest
 * `occurred_at` first), in one autocommitted statement (see {@link CONSUME_BATCH}): each
 * event is recorded once in `ranking_consumed_events` and its lines added to
 * `product_sales_daily` (units; revenue = units x unit price, in won). Rows another
 * consumer holds are skipped, not waited for.
 *
 * @throws the database error as it is (nothing changed then); the caller retries later.
 */
export async function consumeRankingBatch(em: EntityManager, batchSize = DEFAULT_RANKING_BATCH_SIZE): Promise<RankingBatchResult> {
  const [row] = await em.execute<{ taken: number; consumed: number; sales_rows: number }[]>(
    CONSUME_BATCH,
    [ORDER_CONFIRMED_EVENT, batchSize],
    'all',
  );
  return { taken: row?.taken ?? 0, consumed: row?.consumed ?? 0, salesRows: row?.sales_rows ?? 0 };
}

/**
 * Consumes batches until one takes fewer rows than `batchSize` (nothing left that no other
 * consumer holds), and returns the totals.
 *
 * @throws the database error of the failing batch; the batches before it stay committed.
 */
export async function drainRanking(orm: Orm, batchSize = DEFAULT_RANKING_BATCH_SIZE): Promise<RankingBatchResult> {
  const total: RankingBatchResult = { taken: 0, consumed: 0, salesRows: 0 };
  for (;;) {
    const batch = await consumeRankingBatch(orm.em.fork(), batchSize);
    total.taken += batch.taken;
    total.consumed += batch.consumed;
    total.salesRows += batch.salesRows;
    if (batch.taken < batchSize) return total;
  }
}

/** One product of the ranking: units sold and revenue in won over the window. */
export interface PopularProductRow {
  productId: number;
  name: string;
  units: number;
  revenueWon: number;
}

/** The ranking over the last `days` days from `since` (a UTC date, `YYYY-MM-DD`). */
export interface PopularProducts {
  since: string;
  products: PopularProductRow[];
}

/**
 * The window's first day (today in UTC less `days - 1`) and the top products by units
 * sold from it on, then by revenue, then by id: a sum over `product_sales_daily`'s rows of
 * the window (the `day` index; one row per product and day), never over the orders; the
 * catalog is read only for the products answered (by primary key).
 * Parameters: `$1` the window in days, `$2` the most products answered.
 */
export const POPULAR_PRODUCTS_SQL = `
  with w as (select (now() at time zone 'UTC')::date - ($1::int - 1) as since),
  top as (
    select s.product_id, sum(s.units)::bigint as units, sum(s.revenue_won)::bigint as revenue_won
    from product_sales_daily s, w
    where s.day >= w.since
    group by s.product_id
    order by units desc, revenue_won desc, s.product_id
    limit $2
  )
  select to_char(w.since, 'YYYY-MM-DD') as since, t.product_id, p.name, t.units, t.revenue_won
  from w left join (top t join products p on p.id = t.product_id) on true
  order by t.units desc, t.revenue_won desc, t.product_id`;

/**
 * The `limit` most sold products over the last `days` UTC days (today included), ranked
 * by units desc, revenue desc, product id asc; products with no sale in the window are
 * left out. One statement straight on the pool (a hot read).
 *
 * @param days window length in days, 1..30 (the caller validates)
 * @param limit most products answered, 1..50 (the caller validates)
 */
export async function readPopularProducts(orm: Orm, days: number, limit: number): Promise<PopularProducts> {
  const rows = await poolQuery<{ since: string; product_id: number | null; name: string | null; units: number; revenue_won: number }>(
    orm,
    POPULAR_PRODUCTS_SQL,
    [days, limit],
  );
  const products = rows
    .filter((r) => r.product_id !== null)
    .map((r) => ({ productId: r.product_id!, name: r.name ?? '', units: Number(r.units), revenueWon: Number(r.revenue_won) }));
  return { since: rows[0]?.since ?? '', products };
}
