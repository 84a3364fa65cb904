/**
 * The Payments context against PostgreSQL and the real stack: the pay step writes the
 * saga's payment PAID in the transaction of its ledger debit, the refund marks it
 * REFUNDED in the transaction of its credit, both idempotent; a refund of a saga that
 * paid nothing writes no payment; and `GET /orders/:id`, `GET /reservations/:id` and the
 * answers of `POST /orders` and the reservation payment show the payment (or null).
 * The invariants over payments and the backfill: invariants-payments.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../../activities/index.ts';
import { authorizePayment, type PaymentMethodHandler } from '../../activities/payments.ts';
import { pointsMethod, type PointsResult } from '../../activities/points.ts';
import { inTransaction } from '../../activities/tx.ts';
import { orderWorkflowId, stepKey } from '../../common/ids.ts';
import { balanceOf, createPerformance, createProduct, createUser, ledgerOf } from '../helpers/db.ts';
import { failureType } from '../helpers/failures.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
/** The real activities, called directly on the test database. */
let a: Activities;
/** Users whose order's pivot fails after the payment (SagaAlreadyCompensated), so the saga refunds. */
const pivotFailsFor = new Set<number>();

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: (real) => ({
      async confirmOrder(input) {
        const [row] = await stack.orm.em.fork().execute<{ user_id: number }[]>('select user_id from orders where id = ?', [input.orderId]);
        if (row && pivotFailsFor.has(row.user_id)) throw ApplicationFailure.nonRetryable('pivot refused in test', 'SagaAlreadyCompensated');
        return real.confirmOrder(input);
      },
    }),
  });
  a = createActivities({ orm: stack.orm, dataPlatform: { send: async () => ({ status: 201, duplicate: false }) } });
});

afterAll(() => closeStack(stack));

interface PaymentRow {
  id: number;
  user_id: number;
  amount_won: number;
  method: string;
  status: string;
  created_at: unknown;
  updated_at: unknown;
  refunded_at: unknown;
}

async function paymentRows(sagaId: string): Promise<PaymentRow[]> {
  return stack.orm.em.fork().execute<PaymentRow[]>(
    'select id, user_id, amount_won, method, status, created_at, updated_at, refunded_at from payments where saga_id = ?',
    [sagaId],
  );
}

/** A fresh saga id of a user with `balance` points, and the pay and refund inputs of its saga. */
async function saga(balance: number, amountPoints: number) {
  const userId = await createUser(stack.orm, balance);
  const sagaId = orderWorkflowId(randomUUID());
  return {
    userId,
    sagaId,
    pay: { userId, amountPoints, sagaId, idempotencyKey: stepKey(sagaId, 'pay') },
    refund: { userId, sagaId, idempotencyKey: stepKey(sagaId, 'refund') },
  };
}

describe('the pay step and its refund write the payment', () => {
  it('writes the payment PAID with the ledger debit; a retried pay returns the existing payment', async () => {
    const s = await saga(10_000, 2_500);
    const first = await a.payWithPoints(s.pay);
    const [paid] = await paymentRows(s.sagaId);
    expect(paid).toMatchObject({ user_id: s.userId, amount_won: 2_500, method: 'POINTS', status: 'PAID', refunded_at: null });

    expect(await a.payWithPoints(s.pay)).toEqual(first);
    expect(await paymentRows(s.sagaId)).toEqual([paid]);
    expect(await balanceOf(stack.orm, s.userId)).toBe(7_500);
  });

  it('marks the payment REFUNDED with refunded_at by the refund; a retried refund changes nothing more', async () => {
    const s = await saga(10_000, 2_500);
    await a.payWithPoints(s.pay);
    await a.refundPoints(s.refund);
    const [refunded] = await paymentRows(s.sagaId);
    expect(refunded).toMatchObject({ amount_won: 2_500, status: 'REFUNDED' });
    expect(refunded!.refunded_at).not.toBeNull();

    await a.refundPoints(s.refund);
    expect(await paymentRows(s.sagaId)).toEqual([refunded]);
    expect(await balanceOf(stack.orm, s.userId)).toBe(10_000);
  });

  it('writes no payment for a refund of a saga that paid nothing, nor for a refused or late payment', async () => {
    const s = await saga(1_000, 2_500);
    expect(await failureType(a.payWithPoints(s.pay))).toBe('InsufficientPoints');
    expect(await paymentRows(s.sagaId)).toEqual([]);
    await a.refundPoints(s.refund);
    expect((await ledgerOf(stack.orm, s.userId)).filter((e) => e.kind === 'REFUND')).toEqual([{ kind: 'REFUND', amountPoints: 0, reference: s.sagaId }]);
    expect(await paymentRows(s.sagaId)).toEqual([]);
    expect(await failureType(a.payWithPoints(s.pay))).toBe('InsufficientPoints');
    expect(await paymentRows(s.sagaId)).toEqual([]);
  });

  it('commits the payment row and the ledger debit together: when the payment cannot be written, nothing is charged', async () => {
    const s = await saga(10_000, 2_500);
    // The points method as it is, but reporting an amount the payments table refuses (check amount_won >= 0).
    const broken: PaymentMethodHandler<PointsResult, PointsResult> = {
      ...pointsMethod,
      authorize: async (em, charge) => ({ ...(await pointsMethod.authorize(em, charge)), amountWon: -1 }),
    };
    const charge = { sagaId: s.sagaId, userId: s.userId, amountWon: 2_500, idempotencyKey: s.pay.idempotencyKey };
    await expect(inTransaction(stack.orm, (em) => authorizePayment(em, broken, charge))).rejects.toThrow(/payments_amount_non_negative/);
    expect(await balanceOf(stack.orm, s.userId)).toBe(10_000);
    expect((await ledgerOf(stack.orm, s.userId)).map((e) => e.kind)).toEqual(['TOP_UP']);
    expect(await paymentRows(s.sagaId)).toEqual([]);
  });
});

describe('the order and reservation views show the payment', () => {
  it('shows a confirmed order\'s payment PAID, in the 201 answer and in GET /orders/:id', async () => {
    const productId = await createProduct(stack.orm, 10, 1_500);
    const userId = await createUser(stack.orm, 10_000);
    const res = await callApi(stack, 'POST', '/orders', { items: [{ productId, quantity: 2 }] }, {}, { as: userId });
    expect(res.status).toBe(201);
    const payment = { method: 'POINTS', status: 'PAID', amountWon: 3_000, paidAt: expect.stringMatching(/Z$/), refundedAt: null };
    expect(res.body.payment).toEqual(payment);
    const view = await callApi(stack, 'GET', `/orders/${res.body.orderId}`);
    expect(view.body).toMatchObject({ status: 'CONFIRMED', totalWon: 3_000, payment });
    expect(view.body.payment.paidAt).toBe(res.body.payment.paidAt);
  });

  it('shows null for an order that paid nothing, and REFUNDED for one refunded after its payment', async () => {
    const productId = await createProduct(stack.orm, 10, 1_500);
    const poor = await createUser(stack.orm, 1_000);
    const unpaid = await callApi(stack, 'POST', '/orders', { items: [{ productId, quantity: 1 }] }, {}, { as: poor });
    expect(unpaid.body).toMatchObject({ code: 'InsufficientPoints', order: { status: 'CANCELLED', payment: null } });
    expect((await callApi(stack, 'GET', `/orders/${unpaid.body.order.orderId}`)).body.payment).toBeNull();

    const userId = await createUser(stack.orm, 10_000);
    pivotFailsFor.add(userId);
    const refunded = await callApi(stack, 'POST', '/orders', { items: [{ productId, quantity: 1 }] }, {}, { as: userId });
    expect(refunded.body).toMatchObject({ code: 'SagaAlreadyCompensated', order: { status: 'CANCELLED' } });
    const view = await callApi(stack, 'GET', `/orders/${refunded.body.order.orderId}`);
    expect(view.body.payment).toEqual({
      method: 'POINTS',
      status: 'REFUNDED',
      amountWon: 1_500,
      paidAt: expect.stringMatching(/Z$/),
      refundedAt: expect.stringMatching(/Z$/),
    });
    expect(Date.parse(view.body.payment.refundedAt)).toBeGreaterThanOrEqual(Date.parse(view.body.payment.paidAt));
    expect(await balanceOf(stack.orm, userId)).toBe(10_000);
  });

  it('shows a held reservation without payment, and its payment PAID once paid', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2, 7_000);
    const userId = await createUser(stack.orm, 20_000);
    const held = await callApi(stack, 'POST', '/reservations', { performanceId, seatIds, holdSeconds: 60 }, {}, { as: userId });
    expect(held.status).toBe(201);
    const id = held.body.reservationId;
    expect((await callApi(stack, 'GET', `/reservations/${id}`)).body).toMatchObject({ status: 'PENDING', payment: null });

    const paid = await callApi(stack, 'POST', `/reservations/${id}/payment`);
    expect(paid.status).toBe(200);
    const payment = { method: 'POINTS', status: 'PAID', amountWon: 14_000, paidAt: expect.stringMatching(/Z$/), refundedAt: null };
    expect(paid.body).toMatchObject({ status: 'CONFIRMED', payment });
    expect((await callApi(stack, 'GET', `/reservations/${id}`)).body).toMatchObject({ status: 'CONFIRMED', payment });
  });
});
