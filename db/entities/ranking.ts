/**
 * The Ranking read model (docs: "popular products"): units and revenue sold per product
 * per day, kept by the ranking consumer of the outbox (db/ranking.ts,
 * worker/ranking-consumer.ts), and the outbox events it has consumed.
 */
import { defineEntity, p } from '@mikro-orm/core';

/**
 * Sales of product `productId` on UTC day `day` (`YYYY-MM-DD`): `units` sold and
 * `revenueWon` (units times their order-time unit price, in won, before any coupon
 * discount) over the CONFIRMED orders whose `order.confirmed` event occurred that day.
 * Changed only together with a {@link RankingConsumedEvent} row, in one transaction.
 */
export const ProductSalesDaily = defineEntity({
  name: 'ProductSalesDaily',
  tableName: 'product_sales_daily',
  checks: [{ name: 'product_sales_daily_non_negative', expression: 'units >= 0 and revenue_won >= 0' }],
  properties: {
    productId: p.integer().primary(),
    day: p.string().columnType('date').primary(),
    units: p.bigint('number'),
    revenueWon: p.bigint('number'),
  },
});

/**
 * An outbox event (`data_platform_deliveries.event_id`) the ranking consumer has counted,
 * at `consumedAt`: its primary key is what makes the count exactly once.
 */
export const RankingConsumedEvent = defineEntity({
  name: 'RankingConsumedEvent',
  tableName: 'ranking_consumed_events',
  properties: {
    eventId: p.string().length(250).primary(),
    consumedAt: p.datetime(),
  },
});

/**
 * Where the ranking consumer `consumer` stands: every `order.confirmed` outbox row whose
 * `recorded_xid` is below `scannedBelowXid` (a PostgreSQL xid8, as text) is consumed, so a
 * pass reads only the rows from there on (db/ranking.ts says why none is skipped).
 */
export const RankingConsumerPosition = defineEntity({
  name: 'RankingConsumerPosition',
  tableName: 'ranking_consumer_position',
  properties: {
    consumer: p.string().length(100).primary(),
    scannedBelowXid: p.string().columnType('xid8'),
    updatedAt: p.datetime(),
  },
});
