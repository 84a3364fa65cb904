/**
 * Injected faults at each step of the order saga (through the activity factory, keyed by
 * order id, so other orders run normally):
 * - a business failure at each step in turn: the compensations of exactly the earlier
 *   steps run, in reverse, once each, and every row returns to its initial value;
 * - an ambiguous outcome: a step commits and its reply is lost; its retry is a no-op.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { orderIdFor } from '../../api/idempotency.ts';
import { balanceOf, createProduct, createUser, ledgerOf, stockOf } from '../helpers/db.ts';
import { OrderFaults } from '../helpers/order-faults.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

type StepName = 'createOrder' | 'reserveStock' | 'payWithPoints' | 'confirmOrder';
type Fault = { step: StepName; kind: 'business' | 'ambiguous' };

let stack: TestStack;
const injected = new OrderFaults();
const { faults, calls } = injected;

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: injected.overrides(['createOrder', 'reserveStock', 'releaseStock', 'payWithPoints', 'refundPoints', 'confirmOrder']),
  });
});

afterAll(() => closeStack(stack));

async function placeOrder(fault: Fault) {
  const productId = await createProduct(stack.orm, 10, 1_000);
  const userId = await createUser(stack.orm, 10_000);
  const key = randomUUID();
  const orderId = orderIdFor(stack.config.idempotency.secret, userId, key);
  faults.set(orderId, fault);
  const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] }, { 'idempotency-key': key });
  expect(res.headers.get('location')).toBe(`/orders/${orderId}`);
  return { res, orderId, productId, userId };
}

describe('a business failure at each step', () => {
  const cases: [StepName, string[]][] = [
    ['createOrder', []],
    ['reserveStock', ['releaseStock']],
    ['payWithPoints', ['refundPoints', 'releaseStock']],
    ['confirmOrder', ['refundPoints', 'releaseStock']],
  ];

  it.each(cases)('at %s runs exactly the earlier compensations, in reverse, once each', async (step, compensations) => {
    const { res, orderId, productId, userId } = await placeOrder({ step, kind: 'business' });

    // A failure type that is not a business rejection is a failure of ours: 500, never a 4xx.
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('UnexpectedError');
    expect(res.body.order.reason).toBe('InjectedFailure');
    const forward = ['createOrder', 'reserveStock', 'payWithPoints', 'confirmOrder'];
    const expectedCalls = [...forward.slice(0, forward.indexOf(step) + 1), ...compensations];
    expect(calls.get(orderId)).toEqual(expectedCalls);
    expect(await stockOf(stack.orm, productId)).toBe(10);
    expect(await balanceOf(stack.orm, userId)).toBe(10_000);
    const view = await callApi(stack, 'GET', `/orders/${orderId}`);
    expect(view.body.saga.compensations.map((c: { name: string }) => c.name)).toEqual(compensations);
    if (step !== 'createOrder') expect(view.body).toMatchObject({ status: 'CANCELLED', reason: 'InjectedFailure' });
  });
});

describe('an ambiguous step outcome', () => {
  it.each<StepName>(['createOrder', 'reserveStock', 'payWithPoints', 'confirmOrder'])(
    'at %s: the step committed, its reply was lost, and its retry changes nothing',
    async (step) => {
      const { res, orderId, productId, userId } = await placeOrder({ step, kind: 'ambiguous' });

      expect(res.status).toBe(201);
      expect(res.body.status).toBe('CONFIRMED');
      expect(calls.get(orderId)!.filter((c) => c === step)).toHaveLength(2);
      expect(await stockOf(stack.orm, productId)).toBe(8);
      expect(await balanceOf(stack.orm, userId)).toBe(8_000);
      expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind !== 'TOP_UP')).toEqual([
        { kind: 'PAYMENT', amountPoints: 2_000, reference: `order-${orderId}` },
      ]);
    },
  );
});
