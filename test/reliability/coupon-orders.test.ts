/**
 * One coupon, twenty orders at once: a user posts 20 checkouts concurrently over HTTP,
 * each naming the same coupon, on the whole stack (Koa API, Temporal dev server, worker,
 * PostgreSQL, mock data platform). The coupon step locks the coupon row and marks it
 * RESERVED by the first order to get there (the semantic lock), so exactly one order is
 * CONFIRMED with the discount and the coupon USED by it; the other 19 are CANCELLED
 * `CouponAlreadyUsed` (422) with their stock given back and nothing charged; and every
 * invariant holds on the suite's rows.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { orderWorkflowId } from '../../common/ids.ts';
import type { OrderOutcome } from '../../common/orders.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { balanceOf, createProduct, createUser, ledgerOf, stockOf } from '../helpers/db.ts';
import { couponState, createCampaign, issueCoupon } from '../helpers/order-coupons.ts';
import { callApi, startStack, type TestStack } from '../helpers/stack.ts';

const ORDERS = 20;
const STOCK = 100;
const PRICE_WON = 3_000;
const DISCOUNT_WON = 1_000;
const BALANCE = 100_000;

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** The order id of a POST /orders answer: 201 and 202 bodies, or the cancelled order of an error. */
function orderIdOf(answer: { status: number; body: any }): string {
  if (answer.status === 201 || answer.status === 202) return answer.body.orderId;
  const id = answer.body?.order?.orderId;
  if (!id) throw new Error(`POST /orders answered ${answer.status} without an order: ${JSON.stringify(answer.body)}`);
  return id;
}

describe('one coupon, concurrent orders', () => {
  it('confirms exactly one of 20 concurrent orders with the coupon; the others are CouponAlreadyUsed with stock and points untouched', async () => {
    const productId = await createProduct(stack.orm, STOCK, PRICE_WON);
    const userId = await createUser(stack.orm, BALANCE);
    const campaignId = await createCampaign(stack.orm, { discountValue: DISCOUNT_WON, quantity: 1 });
    const couponId = await issueCoupon(stack.orm, campaignId, userId);

    const answers = await Promise.all(
      Array.from({ length: ORDERS }, () => callApi(stack, 'POST', '/orders', { userId, couponId, items: [{ productId, quantity: 1 }] })),
    );
    for (const a of answers) expect([201, 202, 422]).toContain(a.status);
    for (const a of answers.filter((x) => x.status === 422)) expect(a.body.code).toBe('CouponAlreadyUsed');

    const orderIds = answers.map(orderIdOf);
    expect(new Set(orderIds).size).toBe(ORDERS);
    const outcomes = await Promise.all(
      orderIds.map((id) => stack.env.client.workflow.getHandle(orderWorkflowId(id)).result() as Promise<OrderOutcome>),
    );
    const confirmed = outcomes.filter((o) => o.status === 'CONFIRMED');
    const cancelled = outcomes.filter((o) => o.status === 'CANCELLED');
    expect(confirmed).toHaveLength(1);
    expect(cancelled).toHaveLength(ORDERS - 1);
    expect(new Set(cancelled.map((o) => o.reason))).toEqual(new Set(['CouponAlreadyUsed']));
    const winner = confirmed[0]!.orderId;

    expect(await couponState(stack.orm, couponId)).toEqual({ status: 'USED', orderId: winner });
    const rows = await stack.orm.em.fork().execute<{ status: string; reason: string | null; coupon_id: number | null; total_won: number; n: number }[]>(
      `select status, cancellation_reason as reason, coupon_id, total_won, count(*)::int as n from orders
       where id in (select jsonb_array_elements_text(?::jsonb)::uuid) group by 1, 2, 3, 4 order by status`,
      [JSON.stringify(orderIds)],
    );
    expect(rows).toEqual([
      { status: 'CANCELLED', reason: 'CouponAlreadyUsed', coupon_id: null, total_won: PRICE_WON, n: ORDERS - 1 },
      { status: 'CONFIRMED', reason: null, coupon_id: couponId, total_won: PRICE_WON - DISCOUNT_WON, n: 1 },
    ]);
    // Only the winner's unit is sold; only the winner's discounted total is charged, once.
    expect(await stockOf(stack.orm, productId)).toBe(STOCK - 1);
    expect(await balanceOf(stack.orm, userId)).toBe(BALANCE - (PRICE_WON - DISCOUNT_WON));
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind !== 'TOP_UP')).toEqual([
      { kind: 'PAYMENT', amountPoints: PRICE_WON - DISCOUNT_WON, reference: orderWorkflowId(winner) },
    ]);

    const report = await checkInvariants(stack.orm, {
      scope: { productIds: [productId], userIds: [userId], orderIds, campaignIds: [campaignId] },
      receivedEvents: stack.dataPlatform.events(),
    });
    if (!report.ok) throw new Error(`invariants broken:\n${formatInvariantReport(report)}`);
  });
});
