/**
 * The invariant checker's ranking checks (invariants/ranking.ts) against PostgreSQL: they
 * pass on the aggregate the consumer built from real CONFIRMED orders' outbox rows, and
 * they report violations planted behind the consumer's back (the aggregate changed, an
 * event counted twice, an event of a CANCELLED order, two events of one order, an event
 * with no outbox row), naming the rows involved. Each plant is undone and the checks pass
 * again. Scoped to this suite's products, since other suites share the database.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { Orm } from '../../db/orm.ts';
import { drainRanking } from '../../db/ranking.ts';
import { checkInvariants } from '../../invariants/index.ts';
import { createProduct, createUser, openTestOrm } from '../helpers/db.ts';
import { confirmOrderThroughActivities, isConsumed, salesOf, writePivotEvent, type ConfirmedOrder } from '../helpers/ranking.ts';
import { expectOk, SagaRows, violationsOf } from '../helpers/saga-rows.ts';
import { pollUntil } from '../helpers/waiting.ts';

let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  orm = await openTestOrm();
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await orm?.close();
});

/** Today in UTC, `YYYY-MM-DD`. */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A product and a CONFIRMED order of 3 units of it at 1,000 won, its event consumed. */
async function consumedOrder(): Promise<{ productId: number; userId: number; order: ConfirmedOrder }> {
  const productId = await createProduct(orm, 10, 1_000);
  const userId = await createUser(orm, 10_000);
  const order = await confirmOrderThroughActivities(sagas.acts, userId, [{ productId, quantity: 3 }]);
  await writePivotEvent(orm, order.orderId);
  await drainRanking(orm);
  expect(await isConsumed(orm, order.eventId)).toBe(true);
  return { productId, userId, order };
}

/** The ranking checks' report on `productId` (delivery not checked: no events given). */
function check(productId: number) {
  return checkInvariants(orm, { scope: { productIds: [productId] } });
}

describe('the ranking checks', () => {
  it('pass on the aggregate the consumer built from CONFIRMED orders, and run', async () => {
    const { productId } = await consumedOrder();
    expect(await salesOf(orm, [productId])).toEqual([{ productId, day: today(), units: 3, revenueWon: 3_000 }]);
    const report = await check(productId);
    await expectOk(report);
    const ranking = report.checks.filter((c) => c.name.startsWith('ranking-'));
    expect(ranking.map((c) => [c.name, c.passed, c.skipped])).toEqual([
      ['ranking-matches-confirmed-orders', true, undefined],
      ['ranking-events-belong-to-confirmed-orders', true, undefined],
    ]);
  });

  it('report units changed behind the consumer\'s back, for that product and day', async () => {
    const { productId } = await consumedOrder();
    await sagas.sql('update product_sales_daily set units = units + 1 where product_id = ?', [productId]);
    try {
      const report = await check(productId);
      expect(violationsOf(report, 'ranking-matches-confirmed-orders')).toEqual([
        expect.objectContaining({ ids: { productId, day: today() }, expected: '3 units, 3000 won', found: '4 units, 3000 won' }),
      ]);
      expect(violationsOf(report, 'ranking-events-belong-to-confirmed-orders')).toEqual([]);
    } finally {
      await sagas.sql('update product_sales_daily set units = units - 1 where product_id = ?', [productId]);
    }
    await expectOk(await check(productId));
  });

  it('report an event counted twice (its consumed mark lost and the event consumed again)', async () => {
    const { productId, order } = await consumedOrder();
    await sagas.sql('delete from ranking_consumed_events where event_id = ?', [order.eventId]);
    // The consumer's position passed the event: it reads it again only from an older position.
    await sagas.sql(`update ranking_consumer_position set scanned_below_xid = '0'`);
    await drainRanking(orm);
    try {
      expect(violationsOf(await check(productId), 'ranking-matches-confirmed-orders')).toEqual([
        expect.objectContaining({ ids: { productId, day: today() }, expected: '3 units, 3000 won', found: '6 units, 6000 won' }),
      ]);
    } finally {
      await sagas.sql('update product_sales_daily set units = units - 3, revenue_won = revenue_won - 3000 where product_id = ?', [productId]);
    }
    await expectOk(await check(productId));
  });

  it('report an event not consumed that the consumer position has passed (it would never count)', async () => {
    const { productId, order } = await consumedOrder();
    // The position passes the event once no transaction older than it is running anywhere.
    await pollUntil('the consumer position past the event', async () => {
      await drainRanking(orm);
      const [row] = (await sagas.sql(
        `select p.scanned_below_xid > d.recorded_xid as passed from ranking_consumer_position p, data_platform_deliveries d
         where p.consumer = 'ranking' and d.event_id = ?`,
        [order.eventId],
      )) as { passed: boolean }[];
      return row?.passed === true;
    }, { timeoutMs: 30_000 });
    await sagas.sql('delete from ranking_consumed_events where event_id = ?', [order.eventId]);
    try {
      expect(violationsOf(await check(productId), 'ranking-events-belong-to-confirmed-orders')).toEqual([
        expect.objectContaining({ ids: { eventId: order.eventId, orderId: order.orderId }, found: expect.stringMatching(/^not consumed, below position \d+$/) }),
      ]);
    } finally {
      await sagas.sql('insert into ranking_consumed_events (event_id, consumed_at) values (?, now())', [order.eventId]);
    }
    await expectOk(await check(productId));
  });

  it('report a consumed event of a CANCELLED order, which the consumer counted nothing for', async () => {
    const { productId, userId } = await consumedOrder();
    const cancelled = await sagas.outOfStockOrder(userId, productId, 50);
    const eventId = await writePivotEvent(orm, cancelled.orderId);
    await drainRanking(orm);
    try {
      const report = await check(productId);
      expect(violationsOf(report, 'ranking-events-belong-to-confirmed-orders')).toEqual([
        expect.objectContaining({ ids: { eventId, orderId: cancelled.orderId }, expected: 'order CONFIRMED', found: 'order CANCELLED' }),
      ]);
      expect(violationsOf(report, 'ranking-matches-confirmed-orders')).toEqual([]);
      expect(await salesOf(orm, [productId])).toEqual([{ productId, day: today(), units: 3, revenueWon: 3_000 }]);
    } finally {
      await sagas.sql('delete from ranking_consumed_events where event_id = ?', [eventId]);
      await sagas.sql('delete from data_platform_deliveries where event_id = ?', [eventId]);
    }
    await expectOk(await check(productId));
  });

  it('report two consumed events of one order, and the units they counted twice', async () => {
    const { productId, order } = await consumedOrder();
    const again = await writePivotEvent(orm, order.orderId, undefined, `${order.workflowId}:confirmed-again`);
    await drainRanking(orm);
    try {
      const report = await check(productId);
      expect(violationsOf(report, 'ranking-events-belong-to-confirmed-orders')).toEqual(
        [order.eventId, again].sort().map((eventId) =>
          expect.objectContaining({ ids: { eventId, orderId: order.orderId }, found: '2 consumed events of the order' }),
        ),
      );
      expect(violationsOf(report, 'ranking-matches-confirmed-orders')).toEqual([
        expect.objectContaining({ ids: { productId, day: today() }, found: '6 units, 6000 won' }),
      ]);
    } finally {
      await sagas.sql('delete from ranking_consumed_events where event_id = ?', [again]);
      await sagas.sql('delete from data_platform_deliveries where event_id = ?', [again]);
      await sagas.sql('update product_sales_daily set units = units - 3, revenue_won = revenue_won - 3000 where product_id = ?', [productId]);
    }
    await expectOk(await check(productId));
  });

  it('report a consumed event that has no outbox row (unscoped)', async () => {
    const eventId = `order-absent-${Date.now()}:confirmed`;
    await sagas.sql('insert into ranking_consumed_events (event_id, consumed_at) values (?, now())', [eventId]);
    try {
      const report = await checkInvariants(orm);
      const mine = violationsOf(report, 'ranking-events-belong-to-confirmed-orders').filter((v) => v.ids.eventId === eventId);
      expect(mine).toEqual([expect.objectContaining({ ids: { eventId }, expected: 'an outbox row', found: 'no outbox row' })]);
    } finally {
      await sagas.sql('delete from ranking_consumed_events where event_id = ?', [eventId]);
    }
  });
});
