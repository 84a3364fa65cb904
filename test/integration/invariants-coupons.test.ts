/**
 * The invariant checker's coupon checks, each against a planted violation (SQL behind the
 * activities' back, undone afterwards where the test goes on): a campaign's count that
 * disagrees with its coupons or exceeds its quantity; a USED coupon whose order is not
 * CONFIRMED or does not name it, and a coupon named by two CONFIRMED orders; a coupon
 * RESERVED by a CANCELLED order (a COMPENSATION_FAILED one: a note); redemptions that
 * disagree with their coupon. The healthy states around each plant pass. Scoped to this
 * suite's rows.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { Orm } from '../../db/orm.ts';
import type { CheckName, InvariantReport } from '../../invariants/index.ts';
import { createCampaign } from '../helpers/coupons.ts';
import { createProduct, createUser, openTestOrm } from '../helpers/db.ts';
import { notesOf, SagaRows, violationsOf } from '../helpers/saga-rows.ts';

let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  orm = await openTestOrm();
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await orm?.close();
});

const COUPON_CHECKS: CheckName[] = [
  'coupons-within-campaign-quantity',
  'used-coupons-belong-to-confirmed-orders',
  'reserved-coupons-belong-to-pending-orders',
  'coupon-redemptions-match-coupons',
];

/** The coupon checks' violations, by check (empty arrays when they pass). */
function couponViolations(report: InvariantReport) {
  return Object.fromEntries(COUPON_CHECKS.map((name) => [name, violationsOf(report, name)]));
}

const NONE = Object.fromEntries(COUPON_CHECKS.map((name) => [name, []]));

/** Issues a coupon of `campaignId` to `userId` as the issuing transaction does (count + 1); returns its id. */
async function issued(campaignId: number, userId: number): Promise<number> {
  const [row] = (await sagas.sql(
    `with counted as (update coupon_campaigns set issued_count = issued_count + 1 where id = ? returning id)
     insert into coupons (campaign_id, user_id, status, issued_at, updated_at) select id, ?, 'AVAILABLE', now(), now() from counted returning id`,
    [campaignId, userId],
  )) as { id: number }[];
  return row!.id;
}

/** Marks coupon `couponId` `status` by order `orderId` with that order's redemption, as the saga's steps leave them. */
async function heldBy(couponId: number, orderId: string, status: 'RESERVED' | 'USED'): Promise<void> {
  await sagas.sql(`update coupons set status = ?, order_id = ? where id = ?`, [status, orderId, couponId]);
  await sagas.sql(
    `insert into coupon_redemptions (order_id, coupon_id, status, subtotal_won, discount_won, created_at, updated_at) values (?, ?, ?, 1000, 0, now(), now())`,
    [orderId, couponId, status],
  );
  if (status === 'USED') await sagas.sql('update orders set coupon_id = ? where id = ?', [couponId, orderId]);
}

/** A user with a coupon of a fresh campaign of `quantity`, and a product to order. */
async function world(quantity = 10) {
  const userId = await createUser(orm, 100_000);
  const productId = await createProduct(orm, 100, 1_000);
  const campaignId = await createCampaign(orm, { quantity });
  const couponId = await issued(campaignId, userId);
  const check = () => sagas.check({ userIds: [userId], campaignIds: [campaignId] });
  return { userId, productId, campaignId, couponId, check };
}

describe('coupons-within-campaign-quantity', () => {
  it('finds a count that disagrees with the coupons, and coupons beyond the quantity', async () => {
    const w = await world(2);
    const other = await createUser(orm, 0);
    await issued(w.campaignId, other);
    expect(couponViolations(await w.check())).toEqual(NONE);

    await sagas.sql('update coupon_campaigns set issued_count = 1 where id = ?', [w.campaignId]);
    expect(violationsOf(await w.check(), 'coupons-within-campaign-quantity')).toEqual([
      expect.objectContaining({ ids: { campaignId: w.campaignId }, rule: 'a campaign\'s issued_count counts its coupons', found: '2 coupons, issued_count 1, quantity 2' }),
    ]);
    await sagas.sql('update coupon_campaigns set issued_count = 2 where id = ?', [w.campaignId]);

    await sagas.sql(`insert into coupons (campaign_id, user_id, status, issued_at, updated_at) values (?, ?, 'AVAILABLE', now(), now())`, [w.campaignId, await createUser(orm, 0)]);
    expect(violationsOf(await w.check(), 'coupons-within-campaign-quantity')).toEqual([
      expect.objectContaining({ ids: { campaignId: w.campaignId }, rule: 'a campaign issues at most its quantity', found: '3 coupons, issued_count 2, quantity 2' }),
    ]);
  });
});

describe('used-coupons-belong-to-confirmed-orders', () => {
  it('passes a coupon USED by the CONFIRMED order that names it', async () => {
    const w = await world();
    const order = await sagas.confirmedOrder(w.userId, w.productId, 1);
    await heldBy(w.couponId, order.orderId, 'USED');
    expect(couponViolations(await w.check())).toEqual(NONE);
  });

  it('finds a USED coupon whose order does not name it, or is not CONFIRMED', async () => {
    const w = await world();
    const order = await sagas.confirmedOrder(w.userId, w.productId, 1);
    await heldBy(w.couponId, order.orderId, 'USED');
    await sagas.sql('update orders set coupon_id = null where id = ?', [order.orderId]);
    expect(violationsOf(await w.check(), 'used-coupons-belong-to-confirmed-orders')).toEqual([
      expect.objectContaining({ ids: { couponId: w.couponId, orderId: order.orderId }, found: 'order CONFIRMED with coupon none' }),
    ]);

    const pending = await sagas.newOrder(w.userId, w.productId, 1);
    await sagas.sql('update coupons set order_id = ? where id = ?', [pending.orderId, w.couponId]);
    await sagas.sql('update coupon_redemptions set order_id = ? where order_id = ?', [pending.orderId, order.orderId]);
    await sagas.sql('update orders set coupon_id = ? where id = ?', [w.couponId, pending.orderId]);
    expect(violationsOf(await w.check(), 'used-coupons-belong-to-confirmed-orders')).toEqual([
      expect.objectContaining({ ids: { couponId: w.couponId, orderId: pending.orderId }, found: `order PENDING with coupon ${w.couponId}` }),
    ]);
  });

  it('finds a coupon named by two CONFIRMED orders', async () => {
    const w = await world();
    const first = await sagas.confirmedOrder(w.userId, w.productId, 1);
    const second = await sagas.confirmedOrder(w.userId, w.productId, 1);
    await heldBy(w.couponId, first.orderId, 'USED');
    await sagas.sql('update orders set coupon_id = ? where id = ?', [w.couponId, second.orderId]);
    expect(violationsOf(await w.check(), 'used-coupons-belong-to-confirmed-orders')).toEqual([
      expect.objectContaining({ ids: { orderId: second.orderId, couponId: w.couponId }, found: `coupon USED by order ${first.orderId}` }),
    ]);
  });
});

describe('reserved-coupons-belong-to-pending-orders', () => {
  it('passes a coupon RESERVED by a PENDING order, finds one RESERVED by a CANCELLED order, notes a COMPENSATION_FAILED one', async () => {
    const w = await world();
    const order = await sagas.newOrder(w.userId, w.productId, 1);
    await heldBy(w.couponId, order.orderId, 'RESERVED');
    expect(couponViolations(await w.check())).toEqual(NONE);

    await sagas.sql(`update orders set status = 'CANCELLED' where id = ?`, [order.orderId]);
    expect(violationsOf(await w.check(), 'reserved-coupons-belong-to-pending-orders')).toEqual([
      expect.objectContaining({ ids: { couponId: w.couponId, orderId: order.orderId }, found: 'order CANCELLED' }),
    ]);

    await sagas.sql(`update orders set status = 'COMPENSATION_FAILED' where id = ?`, [order.orderId]);
    const parked = await w.check();
    expect(violationsOf(parked, 'reserved-coupons-belong-to-pending-orders')).toEqual([]);
    expect(notesOf(parked, 'reserved-coupons-belong-to-pending-orders')).toEqual([
      expect.objectContaining({ kind: 'needs-operator', ids: { couponId: w.couponId, orderId: order.orderId } }),
    ]);
  });
});

describe('coupon-redemptions-match-coupons', () => {
  it('finds a redemption whose coupon is not held by its order, a held coupon without redemption, and a RELEASED one still holding', async () => {
    const w = await world();
    const order = await sagas.newOrder(w.userId, w.productId, 1);
    await heldBy(w.couponId, order.orderId, 'RESERVED');

    await sagas.sql(`update coupons set status = 'AVAILABLE', order_id = null where id = ?`, [w.couponId]);
    expect(violationsOf(await w.check(), 'coupon-redemptions-match-coupons')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, couponId: w.couponId }, rule: 'a redemption agrees with its coupon', found: 'coupon AVAILABLE by order none' }),
    ]);

    await sagas.sql(`update coupon_redemptions set status = 'RELEASED' where order_id = ?`, [order.orderId]);
    expect(violationsOf(await w.check(), 'coupon-redemptions-match-coupons')).toEqual([]);

    await sagas.sql(`update coupons set status = 'RESERVED', order_id = ? where id = ?`, [order.orderId, w.couponId]);
    expect(violationsOf(await w.check(), 'coupon-redemptions-match-coupons')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, couponId: w.couponId }, expected: `coupon not held by order ${order.orderId}` }),
    ]);

    await sagas.sql('delete from coupon_redemptions where order_id = ?', [order.orderId]);
    expect(violationsOf(await w.check(), 'coupon-redemptions-match-coupons')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, couponId: w.couponId }, rule: 'a held coupon has its order\'s redemption' }),
    ]);
  });
});
