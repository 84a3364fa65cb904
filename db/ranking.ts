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
 *
 * What a pass reads does not grow with the outbox's history: the consumer keeps a
 * position (`ranking_consumer_position.scanned_below_xid`, a transaction id W) below which
 * every `order.confirmed` row is consumed, and reads only rows whose `recorded_xid` (the
 * id of the transaction that inserted the row, a column default) is at least W, through
 * the partial index on (recorded_xid, event_id). Why no row is ever left below W:
 * - neither `occurred_at` nor any id is in commit order (a pivot that began earlier can
 *   commit later; an old-shape saga's `notifyDataPlatform` inserts its row long after its
 *   occurredAt; the relay's repair writes rows for orders confirmed minutes ago), so a
 *   watermark on them would need an overlap window and could still skip a row that
 *   commits after the window has passed it;
 * - the snapshot's xmin is exact instead: every transaction with an id below
 *   `pg_snapshot_xmin(pg_current_snapshot())` has ended, so every row it inserted is
 *   visible to that snapshot, and no transaction can later insert a row with such an id;
 * - {@link ADVANCE_POSITION} therefore moves W to the least of that xmin and the smallest
 *   `recorded_xid` of a row it sees unconsumed (one another consumer is holding, or one
 *   skipped because the relay had it locked, keeps W below it), and never backwards.
 * A long-running transaction anywhere in the cluster holds the xmin back: W then waits
 * and passes read the rows since it (more work, nothing lost).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { ORDER_CONFIRMED_EVENT } from '../common/outbox.ts';
import { poolQuery, type Orm } from './orm.ts';

/** Outbox rows read per statement (the window) when the caller does not say. */
export const DEFAULT_RANKING_BATCH_SIZE = 500;

/** What one {@link consumeRankingBatch} did: rows taken, events recorded, lines counted. */
export interface RankingBatchResult {
  /** `order.confirmed` outbox rows read (the window), at most the batch size. */
  scanned: number;
  /** Outbox rows taken (locked) by the statement: the window's rows not consumed yet and not locked elsewhere. */
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

/** The consumer's row in `ranking_consumer_position`. */
export const RANKING_CONSUMER = 'ranking';

/**
 * The statement of {@link consumeRankingBatch}. It reads a window of `order.confirmed` rows
 * in (recorded_xid, event_id) order after a cursor: the one given (the last row of the
 * pass's previous window), else the consumer's position W (see the file's comment); an
 * ordered range of the partial index `data_platform_deliveries_order_confirmed_xid`, so a
 * window reads at most its size in rows however long the history. Of the window it takes
 * the rows not consumed yet and not locked by anyone else. The event's lines are the payload's
 * `lines` (`{ productId, quantity, unitPriceWon }`), or `payload.payload.lines` for rows
 * an older writer stored the whole event in; lines that are not numbers are left out, so
 * no event can stop the consumer. The day is the UTC date of `occurred_at`. Only events of
 * a CONFIRMED order (`orders.workflow_id` = the row's `saga_id`) count: an event of any
 * other order is recorded and counts nothing (the invariant checker reports it).
 * Sales rows are upserted in (product, day) order, so concurrent consumers lock them in
 * one order and never deadlock. The event type is written into the text (a constant), so
 * the planner matches the partial index.
 * Parameters: the cursor's xid (text, or null: from W), its event id (`''`: from W on), the window size.
 */
const CONSUME_BATCH = `
  with window_rows as materialized (
    select d.event_id, d.recorded_xid
    from data_platform_deliveries d
    where d.event_type = '${ORDER_CONFIRMED_EVENT}'
      and (d.recorded_xid, d.event_id) > (
        coalesce(?::xid8, (select p.scanned_below_xid from ranking_consumer_position p where p.consumer = '${RANKING_CONSUMER}'), '0'::xid8),
        ?::varchar)
    order by d.recorded_xid, d.event_id
    limit ?
  ), batch as (
    -- The order's status as a scalar subquery: one lookup by workflow id per row, never a
    -- hash of the whole orders table (whose size is the history's).
    select d.event_id, d.saga_id, d.payload, d.occurred_at,
           (select o.status from orders o where o.workflow_id = d.saga_id) as order_status
    from window_rows w join data_platform_deliveries d on d.event_id = w.event_id
    -- A scalar subquery, not NOT EXISTS: one primary-key probe per row of the window,
    -- which the planner cannot turn into a scan of every consumed event.
    where (select true from ranking_consumed_events c where c.event_id = d.event_id) is null
    order by w.recorded_xid, w.event_id
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
    cross join lateral jsonb_array_elements(${outboxLines('b.payload')}) as l(line)
    where b.order_status = 'CONFIRMED'
      and jsonb_typeof(l.line->'productId') = 'number'
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
  ), last as (
    select recorded_xid::text as xid, event_id from window_rows order by recorded_xid desc, event_id desc limit 1
  )
  select (select count(*) from window_rows)::int as scanned,
         (select count(*) from batch)::int as taken,
         (select count(*) from consumed)::int as consumed,
         (select count(*) from upserted)::int as sales_rows,
         (select xid from last) as last_xid,
         (select event_id from last) as last_event_id`;

/**
 * Moves the consumer's position W up to the least of this statement's snapshot xmin and
 * the smallest `recorded_xid` of an `order.confirmed` row at or above W that the snapshot
 * sees unconsumed; never down (`greatest`), so concurrent consumers only ever raise it to
 * a value each proved safe. Writes the position row if it is missing (starting from 0).
 * Returns the position, as text.
 */
const ADVANCE_POSITION = `
  with pos as (
    select coalesce((select scanned_below_xid from ranking_consumer_position where consumer = '${RANKING_CONSUMER}'), '0'::xid8) as w,
           pg_snapshot_xmin(pg_current_snapshot()) as horizon
  ), candidate as (
    select least(pos.horizon, coalesce((
             select min(d.recorded_xid) from data_platform_deliveries d
             where d.event_type = '${ORDER_CONFIRMED_EVENT}' and d.recorded_xid >= pos.w
               and (select true from ranking_consumed_events c where c.event_id = d.event_id) is null), pos.horizon)) as xid
    from pos
  )
  insert into ranking_consumer_position (consumer, scanned_below_xid, updated_at)
  select '${RANKING_CONSUMER}', xid, now() from candidate
  on conflict (consumer) do update
    set scanned_below_xid = greatest(ranking_consumer_position.scanned_below_xid, excluded.scanned_below_xid), updated_at = now()
  returning scanned_below_xid::text as position`;

/** Where a pass stands: the last row a batch took, as (recorded_xid as text, event id). */
export interface RankingCursor {
  xid: string;
  eventId: string;
}

/**
 * Reads the next `batchSize` outbox `order.confirmed` rows after `after` (else from the
 * consumer's position) in (recorded_xid, event_id) order and consumes those not consumed
 * yet, in one autocommitted statement (see {@link CONSUME_BATCH}): each
 * event is recorded once in `ranking_consumed_events` and its lines added to
 * `product_sales_daily` (units; revenue = units x unit price, in won). Rows another
 * consumer holds are skipped, not waited for.
 *
 * @returns the counts, and the cursor of the window's last row (null when it was empty).
 * @throws the database error as it is (nothing changed then); the caller retries later.
 */
export async function consumeRankingBatch(
  em: EntityManager,
  batchSize = DEFAULT_RANKING_BATCH_SIZE,
  after: RankingCursor | null = null,
): Promise<RankingBatchResult & { last: RankingCursor | null }> {
  const [row] = await em.execute<{ scanned: number; taken: number; consumed: number; sales_rows: number; last_xid: string | null; last_event_id: string | null }[]>(
    CONSUME_BATCH,
    [after?.xid ?? null, after?.eventId ?? '', batchSize],
    'all',
  );
  const last = row?.last_xid && row.last_event_id ? { xid: row.last_xid, eventId: row.last_event_id } : null;
  return { scanned: row?.scanned ?? 0, taken: row?.taken ?? 0, consumed: row?.consumed ?? 0, salesRows: row?.sales_rows ?? 0, last };
}

/**
 * Raises the consumer's position as far as is safe ({@link ADVANCE_POSITION}); returns it
 * (a transaction id, as text).
 *
 * @throws the database error as it is; the position stays where it was (still safe).
 */
export async function advanceRankingPosition(em: EntityManager): Promise<string> {
  const [row] = await em.execute<{ position: string }[]>(ADVANCE_POSITION, [], 'all');
  return row!.position;
}

/**
 * Consumes windows, each after the last row of the one before, until one reads fewer rows
 * than `batchSize` (the end of the outbox), then raises the position
 * ({@link advanceRankingPosition}), and returns the totals. A pass reads each row from
 * the position on once; rows it skipped (locked elsewhere) are read again by the next pass.
 *
 * @throws the database error of the failing batch; the batches before it stay committed.
 */
export async function drainRanking(orm: Orm, batchSize = DEFAULT_RANKING_BATCH_SIZE): Promise<RankingBatchResult> {
  const total: RankingBatchResult = { scanned: 0, taken: 0, consumed: 0, salesRows: 0 };
  let after: RankingCursor | null = null;
  for (;;) {
    const batch = await consumeRankingBatch(orm.em.fork(), batchSize, after);
    total.scanned += batch.scanned;
    total.taken += batch.taken;
    total.consumed += batch.consumed;
    total.salesRows += batch.salesRows;
    after = batch.last ?? after;
    if (batch.scanned < batchSize) break;
  }
  await advanceRankingPosition(orm.em.fork());
  return total;
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
