/**
 * Orders with a coupon end to end over HTTP (Koa API -> Temporal -> worker -> PostgreSQL,
 * the mock data platform over HTTP): the coupon step prices the order and the payment
 * charges the discounted total; the pivot turns the coupon USED; each coupon refusal
 * cancels the order (422) with its stock released and nothing charged; a failed payment
 * gives the coupon back. The order view, the list and the data-platform event carry the
 * pricing, also for orders without a coupon.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { orderWorkflowId } from '../../common/ids.ts';
import { balanceOf, createProduct, createUser, ledgerOf, stockOf } from '../helpers/db.ts';
import { couponFor, couponState, redemptionOf } from '../helpers/order-coupons.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(() => closeStack(stack));

/** Waits for the saga to end and the relay to deliver its event to the data platform. */
async function sagaResult(orderId: string): Promise<unknown> {
  const result = await stack.env.client.workflow.getHandle(orderWorkflowId(orderId)).result();
  await pollUntil(`the event of order ${orderId} at the data platform`, () => eventOf(orderId) !== undefined);
  return result;
}

function eventOf(orderId: string) {
  return stack.dataPlatform.events().find((e) => e.eventId === `${orderWorkflowId(orderId)}:confirmed`);
}

const names = (entries: { name: string }[]) => entries.map((e) => e.name);

/** A product of 10 units at `priceWon` and a user with `balance` points. */
async function buyer(priceWon: number, balance: number) {
  return { productId: await createProduct(stack.orm, 10, priceWon), userId: await createUser(stack.orm, balance) };
}

describe('POST /orders with a coupon', () => {
  it('answers 201 with the discount, charges the discounted total, and uses the coupon', async () => {
    const { productId, userId } = await buyer(4_000, 20_000);
    const couponId = await couponFor(stack.orm, userId, { discountType: 'PERCENT', discountValue: 20, maxDiscountWon: 1_500 });

    const res = await callApi(stack, 'POST', '/orders', { items: [{ productId, quantity: 2 }], couponId }, {}, { as: userId });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CONFIRMED', subtotalWon: 8_000, discountWon: 1_500, totalWon: 6_500, couponId });
    const { orderId } = res.body;
    expect(await balanceOf(stack.orm, userId)).toBe(13_500);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind !== 'TOP_UP')).toEqual([
      { kind: 'PAYMENT', amountPoints: 6_500, reference: orderWorkflowId(orderId) },
    ]);
    expect(await stockOf(stack.orm, productId)).toBe(8);
    expect(await couponState(stack.orm, couponId)).toEqual({ status: 'USED', orderId });
    expect(await redemptionOf(stack.orm, orderId)).toEqual({ status: 'USED', couponId, subtotalWon: 8_000, discountWon: 1_500 });

    await sagaResult(orderId);
    expect(eventOf(orderId)?.payload).toMatchObject({ orderId, userId, subtotalWon: 8_000, discountWon: 1_500, totalWon: 6_500, couponId });
    const view = await callApi(stack, 'GET', `/orders/${orderId}`);
    expect(view.body).toMatchObject({ subtotalWon: 8_000, discountWon: 1_500, totalWon: 6_500, couponId });
    expect(names(view.body.saga.steps)).toEqual(['createOrder', 'reserveStock', 'reserveCoupon', 'payWithPoints', 'confirmOrder']);
    const list = await callApi(stack, 'GET', `/users/${userId}/orders`);
    expect(list.body.items).toEqual([expect.objectContaining({ orderId, subtotalWon: 8_000, discountWon: 1_500, totalWon: 6_500, couponId })]);
  });

  it('shows an order without a coupon with subtotal = total, discount 0 and no coupon, in the view, the list and the event', async () => {
    const { productId, userId } = await buyer(1_000, 10_000);
    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 3 }] });

    expect(res.status).toBe(201);
    const pricing = { subtotalWon: 3_000, discountWon: 0, totalWon: 3_000, couponId: null };
    expect(res.body).toMatchObject(pricing);
    await sagaResult(res.body.orderId);
    expect(eventOf(res.body.orderId)?.payload).toMatchObject(pricing);
    expect((await callApi(stack, 'GET', `/orders/${res.body.orderId}`)).body).toMatchObject(pricing);
    expect((await callApi(stack, 'GET', `/users/${userId}/orders`)).body.items[0]).toMatchObject(pricing);
    expect(names((await callApi(stack, 'GET', `/orders/${res.body.orderId}`)).body.saga.steps)).not.toContain('reserveCoupon');
  });

  it('refuses the coupon of an order already confirmed with it: 422 CouponAlreadyUsed, nothing charged', async () => {
    const { productId, userId } = await buyer(1_000, 10_000);
    const couponId = await couponFor(stack.orm, userId);
    expect((await callApi(stack, 'POST', '/orders', { userId, couponId, items: [{ productId, quantity: 2 }] })).status).toBe(201);

    const again = await callApi(stack, 'POST', '/orders', { userId, couponId, items: [{ productId, quantity: 2 }] });
    expect(again.status).toBe(422);
    expect(again.body.code).toBe('CouponAlreadyUsed');
    expect(await balanceOf(stack.orm, userId)).toBe(9_000);
    expect(await stockOf(stack.orm, productId)).toBe(8);
  });

  it('answers the same Idempotency-Key with another coupon 422 IdempotencyKeyReused', async () => {
    const { productId, userId } = await buyer(1_000, 10_000);
    const couponId = await couponFor(stack.orm, userId);
    const key = randomUUID();
    const items = [{ productId, quantity: 1 }];
    expect((await callApi(stack, 'POST', '/orders', { userId, items, couponId }, { 'idempotency-key': key })).status).toBe(201);
    const replay = await callApi(stack, 'POST', '/orders', { userId, items, couponId }, { 'idempotency-key': key });
    expect(replay.status).toBe(201);
    const reused = await callApi(stack, 'POST', '/orders', { userId, items }, { 'idempotency-key': key });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IdempotencyKeyReused');
  });

  it.each([0, -1, 1.5, '7', null, 2 ** 31])('refuses couponId %p with 400 ValidationFailed, starting nothing', async (couponId) => {
    const { productId, userId } = await buyer(1_000, 10_000);
    const res = await callApi(stack, 'POST', '/orders', { userId, couponId, items: [{ productId, quantity: 1 }] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ValidationFailed');
    expect(await stockOf(stack.orm, productId)).toBe(10);
  });
});

describe('a coupon the saga refuses cancels the order: 422, stock released, nothing charged, the coupon untouched', () => {
  it.each([
    ['CouponNotFound', 'missing'],
    ['CouponNotOwned', 'other'],
    ['CouponAlreadyUsed', 'used'],
    ['CouponExpired', 'expired'],
    ['CouponMinimumNotMet', 'minimum'],
  ] as const)('%s', async (code, situation) => {
    const { productId, userId } = await buyer(1_000, 10_000);
    const owner = situation === 'other' ? await createUser(stack.orm, 0) : userId;
    const terms = situation === 'expired' ? { opensInS: -7_200, closesInS: -60 } : situation === 'minimum' ? { minOrderWon: 5_000 } : {};
    const couponId = situation === 'missing' ? 2_000_000_000 : await couponFor(stack.orm, owner, terms);
    if (situation === 'used') await stack.orm.em.fork().execute(`update coupons set status = 'USED', order_id = ? where id = ?`, [randomUUID(), couponId]);
    const before = situation === 'missing' ? null : await couponState(stack.orm, couponId);

    const res = await callApi(stack, 'POST', '/orders', { userId, couponId, items: [{ productId, quantity: 2 }] });

    expect(res.status).toBe(422);
    expect(res.body.code).toBe(code);
    expect(res.body.order).toMatchObject({ status: 'CANCELLED', reason: code, couponId, subtotalWon: 2_000, discountWon: 0, totalWon: 2_000 });
    expect(await stockOf(stack.orm, productId)).toBe(10);
    expect(await balanceOf(stack.orm, userId)).toBe(10_000);
    if (before) expect(await couponState(stack.orm, couponId)).toEqual(before);
    // The compensation ran before anything was reserved: its tombstone.
    expect(await redemptionOf(stack.orm, res.body.order.orderId)).toEqual({ status: 'RELEASED', couponId, subtotalWon: 0, discountWon: 0 });
    const view = await callApi(stack, 'GET', `/orders/${res.body.order.orderId}`, undefined, {}, { as: userId });
    expect(names(view.body.saga.compensations)).toEqual(['releaseCoupon', 'releaseStock']);
  });

  it('a payment refused after the coupon was reserved gives the coupon back: 422 InsufficientPoints', async () => {
    const { productId, userId } = await buyer(5_000, 3_000);
    const couponId = await couponFor(stack.orm, userId, { discountValue: 1_000 });

    const res = await callApi(stack, 'POST', '/orders', { userId, couponId, items: [{ productId, quantity: 1 }] });

    expect(res.status).toBe(422);
    expect(res.body.code).toBe('InsufficientPoints');
    const { orderId } = res.body.order;
    expect(await couponState(stack.orm, couponId)).toEqual({ status: 'AVAILABLE', orderId: null });
    expect(await redemptionOf(stack.orm, orderId)).toEqual({ status: 'RELEASED', couponId, subtotalWon: 5_000, discountWon: 1_000 });
    expect(await stockOf(stack.orm, productId)).toBe(10);
    expect(await balanceOf(stack.orm, userId)).toBe(3_000);
    const view = await callApi(stack, 'GET', `/orders/${orderId}`);
    expect(names(view.body.saga.compensations)).toEqual(['refundPoints', 'releaseCoupon', 'releaseStock']);
    expect(view.body).toMatchObject({ status: 'CANCELLED', couponId, discountWon: 0, totalWon: 5_000 });
  });
});
