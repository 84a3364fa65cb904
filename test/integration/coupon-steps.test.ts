/**
 * The order saga's coupon steps against PostgreSQL, called directly
 * (activities/coupons.ts): the pricing of each discount type, the business refusals that
 * change nothing, idempotency per order, the compensation and its tombstone, and the
 * pivot's coupon check (activities/pivots.ts).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Orm } from '../../db/orm.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import { discountOf } from '../../activities/coupons.ts';
import type { DataPlatformClient } from '../../activities/data-platform.ts';
import { createProduct, createUser, openTestOrm } from '../helpers/db.ts';
import { failureType } from '../helpers/failures.ts';
import { couponFor, couponState, redemptionOf } from '../helpers/order-coupons.ts';

let orm: Orm;
let acts: Activities;
const acceptingPlatform: DataPlatformClient = {
  async send() {
    return { status: 201, duplicate: false };
  },
};

beforeAll(async () => {
  orm = await openTestOrm();
  acts = createActivities({ orm, dataPlatform: acceptingPlatform });
});

afterAll(async () => {
  await orm?.close();
});

describe('discountOf', () => {
  it('takes FIXED up to the subtotal and PERCENT rounded down, capped, never above the subtotal', () => {
    expect(discountOf({ discount_type: 'FIXED', discount_value: 3_000, max_discount_won: null }, 10_000)).toBe(3_000);
    expect(discountOf({ discount_type: 'FIXED', discount_value: 3_000, max_discount_won: null }, 2_000)).toBe(2_000);
    expect(discountOf({ discount_type: 'PERCENT', discount_value: 15, max_discount_won: null }, 9_999)).toBe(1_499);
    expect(discountOf({ discount_type: 'PERCENT', discount_value: 50, max_discount_won: 2_000 }, 10_000)).toBe(2_000);
    expect(discountOf({ discount_type: 'PERCENT', discount_value: 100, max_discount_won: null }, 7_000)).toBe(7_000);
    expect(discountOf({ discount_type: 'PERCENT', discount_value: 10, max_discount_won: null }, 999_999_999_999)).toBe(99_999_999_999);
  });
});

describe('reserveCoupon', () => {
  it('reserves the coupon for the order, records the redemption and prices the order; a retry returns the same', async () => {
    const userId = await createUser(orm, 0);
    const couponId = await couponFor(orm, userId, { discountType: 'PERCENT', discountValue: 10, maxDiscountWon: 1_500 });
    const orderId = randomUUID();

    const priced = await acts.reserveCoupon({ orderId, userId, couponId, subtotalWon: 20_000 });
    expect(priced).toEqual({ orderId, couponId, subtotalWon: 20_000, discountWon: 1_500, totalWon: 18_500 });
    expect(await couponState(orm, couponId)).toEqual({ status: 'RESERVED', orderId });
    expect(await redemptionOf(orm, orderId)).toEqual({ status: 'RESERVED', couponId, subtotalWon: 20_000, discountWon: 1_500 });

    expect(await acts.reserveCoupon({ orderId, userId, couponId, subtotalWon: 20_000 })).toEqual(priced);
    expect(await couponState(orm, couponId)).toEqual({ status: 'RESERVED', orderId });
  });

  it.each([
    ['CouponNotFound', 'a coupon that does not exist'],
    ['CouponNotOwned', "another user's coupon"],
    ['CouponAlreadyUsed', 'a coupon reserved by another order'],
    ['CouponExpired', 'a coupon whose campaign has ended'],
    ['CouponExpired', 'a coupon whose campaign has not begun'],
    ['CouponMinimumNotMet', 'a subtotal below the minimum'],
  ])('refuses with %s %s, changing nothing', async (type, situation) => {
    const userId = await createUser(orm, 0);
    const other = await createUser(orm, 0);
    const terms =
      situation.includes('ended') ? { opensInS: -7_200, closesInS: -3_600 }
      : situation.includes('begun') ? { opensInS: 3_600, closesInS: 7_200 }
      : situation.includes('minimum') ? { minOrderWon: 50_000 }
      : {};
    let couponId = await couponFor(orm, situation.includes('another user') ? other : userId, terms);
    if (situation.includes('does not exist')) couponId = 2_000_000_000;
    const holder = randomUUID();
    if (situation.includes('another order')) await acts.reserveCoupon({ orderId: holder, userId, couponId, subtotalWon: 10_000 });
    const before = situation.includes('does not exist') ? null : await couponState(orm, couponId);
    const orderId = randomUUID();

    expect(await failureType(acts.reserveCoupon({ orderId, userId, couponId, subtotalWon: 10_000 }))).toBe(type);
    expect(await redemptionOf(orm, orderId)).toBeNull();
    if (before) expect(await couponState(orm, couponId)).toEqual(before);
  });

  it('refuses a USED coupon with CouponAlreadyUsed', async () => {
    const userId = await createUser(orm, 0);
    const couponId = await couponFor(orm, userId);
    await orm.em.fork().execute(`update coupons set status = 'USED', order_id = ? where id = ?`, [randomUUID(), couponId]);
    expect(await failureType(acts.reserveCoupon({ orderId: randomUUID(), userId, couponId, subtotalWon: 10_000 }))).toBe('CouponAlreadyUsed');
  });
});

describe('releaseCoupon', () => {
  it('gives a coupon reserved by the order back (AVAILABLE, redemption RELEASED); again, a no-op', async () => {
    const userId = await createUser(orm, 0);
    const couponId = await couponFor(orm, userId);
    const orderId = randomUUID();
    await acts.reserveCoupon({ orderId, userId, couponId, subtotalWon: 10_000 });

    expect(await acts.releaseCoupon({ orderId, couponId })).toEqual({ orderId, couponId, released: true });
    expect(await couponState(orm, couponId)).toEqual({ status: 'AVAILABLE', orderId: null });
    expect((await redemptionOf(orm, orderId))?.status).toBe('RELEASED');
    expect(await acts.releaseCoupon({ orderId, couponId })).toEqual({ orderId, couponId, released: false });
    // The coupon serves another order now.
    const next = randomUUID();
    expect((await acts.reserveCoupon({ orderId: next, userId, couponId, subtotalWon: 10_000 })).discountWon).toBe(1_000);
  });

  it('before any reservation writes a tombstone: a late reserveCoupon of the order is refused, the coupon untouched', async () => {
    const userId = await createUser(orm, 0);
    const couponId = await couponFor(orm, userId);
    const orderId = randomUUID();

    expect(await acts.releaseCoupon({ orderId, couponId })).toEqual({ orderId, couponId, released: false });
    expect(await redemptionOf(orm, orderId)).toEqual({ status: 'RELEASED', couponId, subtotalWon: 0, discountWon: 0 });
    expect(await failureType(acts.reserveCoupon({ orderId, userId, couponId, subtotalWon: 10_000 }))).toBe('SagaAlreadyCompensated');
    expect(await couponState(orm, couponId)).toEqual({ status: 'AVAILABLE', orderId: null });
  });

  it("never gives back a coupon another order reserved", async () => {
    const userId = await createUser(orm, 0);
    const couponId = await couponFor(orm, userId);
    const holder = randomUUID();
    await acts.reserveCoupon({ orderId: holder, userId, couponId, subtotalWon: 10_000 });
    const refused = randomUUID();
    expect(await failureType(acts.reserveCoupon({ orderId: refused, userId, couponId, subtotalWon: 10_000 }))).toBe('CouponAlreadyUsed');

    await acts.releaseCoupon({ orderId: refused, couponId });
    expect(await couponState(orm, couponId)).toEqual({ status: 'RESERVED', orderId: holder });
  });
});

describe('the pivot with a coupon', () => {
  /** A PENDING order of one line at `subtotalWon`, its stock and coupon reserved, the discounted total paid. */
  async function pendingOrder(userId: number, couponId: number, subtotalWon: number) {
    const productId = await createProduct(orm, 5, subtotalWon);
    const orderId = randomUUID();
    const workflowId = `order-${orderId}`;
    await acts.createOrder({ orderId, userId, items: [{ productId, quantity: 1 }], workflowId, requestHash: 'test' });
    const lines = [{ productId, quantity: 1 }];
    await acts.reserveStock({ orderId, lines });
    const priced = await acts.reserveCoupon({ orderId, userId, couponId, subtotalWon });
    await acts.payWithPoints({ userId, amountPoints: priced.totalWon, sagaId: workflowId, idempotencyKey: `${workflowId}:pay` });
    return { orderId, lines };
  }

  it('turns coupon and redemption USED and prices the order in the same transaction', async () => {
    const userId = await createUser(orm, 10_000);
    const couponId = await couponFor(orm, userId, { discountValue: 2_500 });
    const { orderId } = await pendingOrder(userId, couponId, 8_000);

    await acts.confirmOrder({ orderId, couponId });
    expect(await couponState(orm, couponId)).toEqual({ status: 'USED', orderId });
    expect((await redemptionOf(orm, orderId))?.status).toBe('USED');
    const [row] = await orm.em.fork().execute<{ status: string; subtotal_won: number; discount_won: number; coupon_id: number; total_won: number }[]>(
      'select status, subtotal_won, discount_won, coupon_id, total_won from orders where id = ?',
      [orderId],
    );
    expect(row).toEqual({ status: 'CONFIRMED', subtotal_won: 8_000, discount_won: 2_500, coupon_id: couponId, total_won: 5_500 });
    // A compensation arriving after the pivot gives nothing back.
    expect(await acts.releaseCoupon({ orderId, couponId })).toEqual({ orderId, couponId, released: false });
    expect(await couponState(orm, couponId)).toEqual({ status: 'USED', orderId });
  });

  it('refuses (SagaAlreadyCompensated) when the coupon was released first, confirming nothing', async () => {
    const userId = await createUser(orm, 10_000);
    const couponId = await couponFor(orm, userId);
    const { orderId } = await pendingOrder(userId, couponId, 8_000);
    await acts.releaseCoupon({ orderId, couponId });

    expect(await failureType(acts.confirmOrder({ orderId, couponId }))).toBe('SagaAlreadyCompensated');
    const [row] = await orm.em.fork().execute<{ status: string }[]>('select status from orders where id = ?', [orderId]);
    expect(row?.status).toBe('PENDING');
    expect(await couponState(orm, couponId)).toEqual({ status: 'AVAILABLE', orderId: null });
  });
});
