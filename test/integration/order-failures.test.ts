/**
 * The order saga when things go wrong beyond business rejections: a compensation that
 * fails for good, and a saga cancelled in the middle. Faults are injected through the
 * activity factory (no module mocking), only for the users a test names.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { orderWorkflowId } from '../../common/ids.ts';
import { orderIdFor } from '../../api/idempotency.ts';
import { balanceOf, createProduct, createUser, stockOf } from '../helpers/db.ts';
import { callApi, closeStack, refundFailsFor, startStack, type TestStack } from '../helpers/stack.ts';
import { cancellationSeen } from '../helpers/temporal.ts';

let stack: TestStack;
const brokenRefundUsers = new Set<number>();
const blockedPayments = new Map<number, { reached: () => void; release: Promise<void> }>();

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: (real) => ({
      ...refundFailsFor(brokenRefundUsers, real),
      async payWithPoints(input) {
        const block = blockedPayments.get(input.userId);
        if (block) {
          block.reached();
          await block.release;
        }
        return real.payWithPoints(input);
      },
    }),
  });
});

afterAll(() => closeStack(stack));

describe('order saga failures', () => {
  it('ends COMPENSATION_FAILED, visible through the API and the search attribute, when a compensation fails for good', async () => {
    const productId = await createProduct(stack.orm, 5, 1_000);
    const userId = await createUser(stack.orm, 1_000);
    brokenRefundUsers.add(userId);

    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] });

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('CompensationFailed');
    const orderId = res.body.order.orderId;
    const view = await callApi(stack, 'GET', `/orders/${orderId}`);
    expect(view.body).toMatchObject({ status: 'COMPENSATION_FAILED', reason: 'CompensationFailed' });
    expect(view.body.saga.compensations.map((c: { name: string; state: string }) => [c.name, c.state])).toEqual([
      ['refundPoints', 'failed'],
      ['releaseStock', 'completed'],
    ]);
    // The earlier compensation still ran: the stock is back.
    expect(await stockOf(stack.orm, productId)).toBe(5);
    const described = await stack.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe();
    expect(described.typedSearchAttributes.getAll().find((p) => p.key.name === 'SagaStatus')?.value).toBe('COMPENSATION_FAILED');
    expect(described.status.name).toBe('RUNNING');

    // Retrying while the cause persists fails again and keeps the order parked.
    const again = await callApi(stack, 'POST', `/orders/${orderId}/compensations/retry`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CompensationFailed');

    // The operator fixes the cause and retries: only the failed compensation runs again.
    brokenRefundUsers.delete(userId);
    const retried = await callApi(stack, 'POST', `/orders/${orderId}/compensations/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'CANCELLED' });
    expect(await balanceOf(stack.orm, userId)).toBe(1_000);
    expect(await stockOf(stack.orm, productId)).toBe(5);
    const saga = (await callApi(stack, 'GET', `/orders/${orderId}`)).body.saga;
    expect(saga.compensations.map((c: { name: string; state: string }) => [c.name, c.state])).toEqual([
      ['refundPoints', 'failed'],
      ['releaseStock', 'completed'],
      ['refundPoints', 'failed'],
      ['refundPoints', 'completed'],
    ]);
    await stack.env.client.workflow.getHandle(orderWorkflowId(orderId)).result();

    const notParked = await callApi(stack, 'POST', `/orders/${orderId}/compensations/retry`);
    expect(notParked.status).toBe(409);
    expect(notParked.body.code).toBe('NotCompensationFailed');
  });

  it('undoes every effect when the saga is cancelled in the middle, and ends CANCELLED', async () => {
    const productId = await createProduct(stack.orm, 5, 1_000);
    const userId = await createUser(stack.orm, 10_000);
    let reached!: () => void;
    let release!: () => void;
    const paymentReached = new Promise<void>((r) => (reached = r));
    blockedPayments.set(userId, { reached, release: new Promise<void>((r) => (release = r)) });

    const key = randomUUID();
    const orderId = orderIdFor(stack.config.idempotency.secret, userId, key);
    const answer = callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] }, { 'idempotency-key': key });
    await paymentReached;
    expect(await stockOf(stack.orm, productId)).toBe(3);
    const handle = stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
    await handle.cancel();
    // Release the payment only once the saga has seen the cancellation: it then compensates,
    // and the late payment attempt is refused (the refund left a tombstone).
    await cancellationSeen(handle);
    release();
    await handle.result();
    // With local activities the cancellation lands at a workflow-task heartbeat (~8 s),
    // so the answer may have been a 202 before the outcome was known.
    const cancelled = await answer;
    expect(cancelled.status === 202 || cancelled.body.code === 'Cancelled').toBe(true);

    const view = await callApi(stack, 'GET', `/orders/${orderId}`);
    expect(view.body).toMatchObject({ status: 'CANCELLED', reason: 'Cancelled' });
    expect(await stockOf(stack.orm, productId)).toBe(5);
    expect(await balanceOf(stack.orm, userId)).toBe(10_000);
  });
});
