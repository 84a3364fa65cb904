/**
 * The invariant checker against PostgreSQL, conservation side: it passes on rows written
 * by the real activities (a confirmed, a cancelled and a running order; a confirmed, a
 * held and an expired reservation), and it detects stock, point and payment violations
 * planted behind the activities' back, naming the rows involved. Every check is scoped to
 * this suite's rows, since other suites write to the same database (some of them plant
 * anomalies on purpose). Saga states and delivery: invariants-sagas.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { stepKey } from '../../common/ids.ts';
import type { Orm } from '../../db/orm.ts';
import { balanceOf, createPerformance, createProduct, createUser, openTestOrm, stockOf } from '../helpers/db.ts';
import { expectOk, SagaRows, violationsOf } from '../helpers/saga-rows.ts';

let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  orm = await openTestOrm();
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await orm?.close();
});

describe('checkInvariants on rows written by the activities', () => {
  it('passes on confirmed, cancelled and running orders and reservations, and checks every rule', async () => {
    const productId = await createProduct(orm, 10, 1_000);
    const [buyer, poor] = [await createUser(orm, 50_000), await createUser(orm, 500)];
    const { performanceId, seatIds } = await createPerformance(orm, 6, 10_000);

    await sagas.confirmedOrder(buyer, productId, 3);
    await sagas.outOfStockOrder(buyer, productId, 100);
    await sagas.unpaidOrder(poor, productId, 2);
    const running = await sagas.newOrder(buyer, productId, 1);
    await sagas.acts.reserveStock({ orderId: running.orderId });
    await sagas.confirmedReservation(buyer, performanceId, seatIds.slice(0, 2));
    await sagas.heldReservation(buyer, performanceId, seatIds.slice(2, 4));
    await sagas.expiredReservation(poor, performanceId, seatIds.slice(4, 6));

    expect(await stockOf(orm, productId)).toBe(6);
    expect(await balanceOf(orm, buyer)).toBe(50_000 - 3_000 - 20_000);
    const report = await sagas.check({ productIds: [productId], userIds: [buyer, poor], performanceIds: [performanceId] });
    await expectOk(report);
    expect(report.checks.map((c) => [c.name, c.passed, c.skipped])).toEqual([
      ['stock-conservation', true, undefined],
      ['stock-lines-match-orders', true, undefined],
      ['point-conservation', true, undefined],
      ['payments-belong-to-live-or-confirmed-sagas', true, undefined],
      ['payments-match-ledger', true, undefined],
      ['closed-sagas-have-no-effects', true, undefined],
      ['confirmed-sagas-are-complete', true, undefined],
      ['seats-have-one-live-holder', true, undefined],
      ['coupons-within-campaign-quantity', true, undefined],
      ['used-coupons-belong-to-confirmed-orders', true, undefined],
      ['reserved-coupons-belong-to-pending-orders', true, undefined],
      ['coupon-redemptions-match-coupons', true, undefined],
      ['queue-tokens-within-active-limit', true, 'no active limit given (queue.activeLimit)'],
      ['queue-tokens-admitted-in-ticket-order', true, undefined],
      ['queue-counters-count-waiting', true, undefined],
      ['queue-tokens-active-within-deadline', true, undefined],
      ['confirmed-reservations-expire-their-tokens', true, undefined],
      ['pending-sagas-have-live-workflows', true, undefined],
      ['data-platform-delivery', true, undefined],
      ['ranking-matches-confirmed-orders', true, undefined],
      ['ranking-events-belong-to-confirmed-orders', true, undefined],
    ]);
    expect(report.checks.flatMap((c) => c.notes)).toEqual([]);
  });

  it('skips only the delivery check when no events are given (and the queue cap without a limit)', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    await sagas.confirmedOrder(userId, productId, 1);
    const report = await sagas.check({ productIds: [productId] }, {});
    expect(report.ok).toBe(true);
    expect(report.checks.filter((c) => c.skipped).map((c) => c.name)).toEqual(['queue-tokens-within-active-limit', 'data-platform-delivery']);
  });
});

describe('checkInvariants detects planted violations', () => {
  it('stock changed behind its back breaks stock conservation of that product only', async () => {
    const productId = await createProduct(orm, 10);
    const other = await createProduct(orm, 10);
    const userId = await createUser(orm, 10_000);
    await sagas.confirmedOrder(userId, productId, 2);
    await sagas.sql('update products set stock = stock + 1 where id = ?', [productId]);
    try {
      const report = await sagas.check({ productIds: [productId, other] });
      expect(report.ok).toBe(false);
      expect(violationsOf(report, 'stock-conservation')).toEqual([
        expect.objectContaining({ ids: { productId }, expected: 'initial_stock 10', found: expect.stringContaining('stock 9 + reserved 0 + committed 2') }),
      ]);
      expect((await sagas.check({ productIds: [other] })).ok).toBe(true);
    } finally {
      await sagas.sql('update products set stock = stock - 1 where id = ?', [productId]);
    }
    await expectOk(await sagas.check({ productIds: [productId] }));
  });

  it('a PAYMENT left on a CANCELLED order is an effect of a closed saga and a payment without a live saga', async () => {
    const productId = await createProduct(orm, 1);
    const userId = await createUser(orm, 10_000);
    const order = await sagas.outOfStockOrder(userId, productId, 2);
    await expectOk(await sagas.check({ userIds: [userId] }));
    // Planted with its balance change, so point conservation still holds: only the stray payment is wrong.
    await sagas.sql(
      `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
       values (?, 'PAYMENT', 2000, ?, ?, now())`,
      [userId, order.workflowId, stepKey(order.workflowId, 'pay')],
    );
    await sagas.sql('update point_accounts set balance_points = balance_points - 2000 where user_id = ?', [userId]);
    try {
      const report = await sagas.check({ userIds: [userId] });
      expect(report.ok).toBe(false);
      expect(violationsOf(report, 'closed-sagas-have-no-effects')).toEqual([
        expect.objectContaining({ ids: expect.objectContaining({ orderId: order.orderId, userId }), found: 'no refund' }),
      ]);
      expect(violationsOf(report, 'payments-belong-to-live-or-confirmed-sagas')).toEqual([
        expect.objectContaining({ ids: expect.objectContaining({ orderId: order.orderId, reference: order.workflowId }) }),
      ]);
      expect(violationsOf(report, 'point-conservation')).toEqual([]);
    } finally {
      await sagas.sql(`delete from point_ledger where reference = ? and kind = 'PAYMENT'`, [order.workflowId]);
      await sagas.sql('update point_accounts set balance_points = balance_points + 2000 where user_id = ?', [userId]);
    }
    await expectOk(await sagas.check({ userIds: [userId] }));
  });

  it('a balance changed behind its back breaks point conservation of that user', async () => {
    const userId = await createUser(orm, 10_000);
    await sagas.sql('update point_accounts set balance_points = balance_points + 5 where user_id = ?', [userId]);
    try {
      const report = await sagas.check({ userIds: [userId] });
      expect(violationsOf(report, 'point-conservation')).toEqual([
        expect.objectContaining({ ids: { userId }, found: 'balance 10005', expected: expect.stringContaining('balance 10000') }),
      ]);
    } finally {
      await sagas.sql('update point_accounts set balance_points = balance_points - 5 where user_id = ?', [userId]);
    }
  });
});
