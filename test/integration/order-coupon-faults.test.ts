/**
 * Injected faults at the order saga's coupon step and the steps after it, for orders with
 * a coupon (the pattern of order-faults.test.ts: activity overrides keyed by order id, so
 * other orders run normally):
 * - a business failure at reserveCoupon, payWithPoints or confirmOrder: exactly the
 *   compensations of the earlier steps run, in reverse, once each, and stock, points and
 *   the coupon return to their initial state;
 * - an ambiguous outcome at reserveCoupon: it commits and its reply is lost; its retry is
 *   a lookup, and the order is confirmed with the discount once.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { orderIdFor } from '../../api/idempotency.ts';
import { balanceOf, createProduct, createUser, ledgerOf, stockOf } from '../helpers/db.ts';
import { couponFor, couponState, redemptionOf } from '../helpers/order-coupons.ts';
import { OrderFaults } from '../helpers/order-faults.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

type StepName = 'reserveCoupon' | 'payWithPoints' | 'confirmOrder';
type Fault = { step: StepName; kind: 'business' | 'ambiguous' };

let stack: TestStack;
const injected = new OrderFaults();
const { faults, calls } = injected;

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: injected.overrides(['createOrder', 'reserveStock', 'releaseStock', 'reserveCoupon', 'releaseCoupon', 'payWithPoints', 'refundPoints', 'confirmOrder']),
  });
});

afterAll(() => closeStack(stack));

/** An order of 2 units at 1,000 won with a FIXED 500-won coupon, `fault` injected. */
async function placeOrder(fault: Fault) {
  const productId = await createProduct(stack.orm, 10, 1_000);
  const userId = await createUser(stack.orm, 10_000);
  const couponId = await couponFor(stack.orm, userId, { discountValue: 500 });
  const key = randomUUID();
  const orderId = orderIdFor(stack.config.idempotency.secret, userId, key);
  faults.set(orderId, fault);
  const body = { userId, couponId, items: [{ productId, quantity: 2 }] };
  const res = await callApi(stack, 'POST', '/orders', body, { 'idempotency-key': key });
  expect(res.headers.get('location')).toBe(`/orders/${orderId}`);
  return { res, orderId, productId, userId, couponId };
}

const FORWARD = ['createOrder', 'reserveStock', 'reserveCoupon', 'payWithPoints', 'confirmOrder'];

describe('a business failure at the coupon step and after it', () => {
  const cases: [StepName, string[]][] = [
    ['reserveCoupon', ['releaseCoupon', 'releaseStock']],
    ['payWithPoints', ['refundPoints', 'releaseCoupon', 'releaseStock']],
    ['confirmOrder', ['refundPoints', 'releaseCoupon', 'releaseStock']],
  ];

  it.each(cases)('at %s runs exactly the earlier compensations, in reverse, once each', async (step, compensations) => {
    const { res, orderId, productId, userId, couponId } = await placeOrder({ step, kind: 'business' });

    expect(res.status).toBe(500);
    expect(res.body.order).toMatchObject({ status: 'CANCELLED', reason: 'InjectedFailure', couponId });
    expect(calls.get(orderId)).toEqual([...FORWARD.slice(0, FORWARD.indexOf(step) + 1), ...compensations]);
    expect(await stockOf(stack.orm, productId)).toBe(10);
    expect(await balanceOf(stack.orm, userId)).toBe(10_000);
    expect(await couponState(stack.orm, couponId)).toEqual({ status: 'AVAILABLE', orderId: null });
    expect((await redemptionOf(stack.orm, orderId))?.status).toBe('RELEASED');
    const view = await callApi(stack, 'GET', `/orders/${orderId}`);
    expect(view.body.saga.compensations.map((c: { name: string }) => c.name)).toEqual(compensations);
  });
});

describe('an ambiguous outcome of reserveCoupon', () => {
  it('committed, its reply lost: the retry is a lookup, and the order is confirmed with the discount once', async () => {
    const { res, orderId, productId, userId, couponId } = await placeOrder({ step: 'reserveCoupon', kind: 'ambiguous' });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CONFIRMED', subtotalWon: 2_000, discountWon: 500, totalWon: 1_500, couponId });
    expect(calls.get(orderId)!.filter((c) => c === 'reserveCoupon')).toHaveLength(2);
    expect(calls.get(orderId)).not.toContain('releaseCoupon');
    expect(await stockOf(stack.orm, productId)).toBe(8);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind !== 'TOP_UP')).toEqual([
      { kind: 'PAYMENT', amountPoints: 1_500, reference: `order-${orderId}` },
    ]);
    expect(await couponState(stack.orm, couponId)).toEqual({ status: 'USED', orderId });
    expect(await redemptionOf(stack.orm, orderId)).toEqual({ status: 'USED', couponId, subtotalWon: 2_000, discountWon: 500 });
  });
});
