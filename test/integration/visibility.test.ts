/**
 * Finding sagas the way an operator does in the Web UI or with `temporal workflow list
 * --query`: sagas ending in each state are found through the visibility API by the
 * custom search attributes the API gives at their start and the workflows upsert at their
 * end (or when they park).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { orderWorkflowId, reservationWorkflowId } from '../../common/ids.ts';
import { createPerformance, createProduct, createUser } from '../helpers/db.ts';
import { callApi, closeStack, refundFailsFor, startStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
const brokenRefundUsers = new Set<number>();

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: (real) => refundFailsFor(brokenRefundUsers, real),
  });
});

afterAll(() => closeStack(stack));

/** Workflow ids matching `query`, once visibility (eventually consistent) shows `expected` of them. */
async function listUntil(query: string, expected: number): Promise<string[]> {
  for (;;) {
    const ids: string[] = [];
    for await (const wf of stack.env.client.workflow.list({ query })) ids.push(wf.workflowId);
    if (ids.length >= expected) return ids.sort();
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('finding sagas by search attributes', () => {
  it('finds orders and reservations by status, user, failed step, compensations and hold expiry', async () => {
    const productId = await createProduct(stack.orm, 1, 1_000);
    const userId = await createUser(stack.orm, 1_500);
    const post = (quantity: number) => callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity }] });

    const confirmed = await post(1);
    const outOfStock = await post(1);
    brokenRefundUsers.add(userId);
    const poorUser = userId;
    const parkedProduct = await createProduct(stack.orm, 5, 1_000);
    const parked = await callApi(stack, 'POST', '/orders', { userId: poorUser, items: [{ productId: parkedProduct, quantity: 2 }] });
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1);
    const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds, holdSeconds: 600 });

    const idOf = (res: { body: { orderId?: string; order?: { orderId: string } } }) =>
      orderWorkflowId(res.body.orderId ?? res.body.order!.orderId);
    const user = `UserId="${userId}"`;

    expect(await listUntil(`${user} AND SagaStatus="CONFIRMED"`, 1)).toEqual([idOf(confirmed)]);
    expect(await listUntil(`${user} AND SagaStatus="CANCELLED" AND FailedStep="reserveStock"`, 1)).toEqual([idOf(outOfStock)]);
    expect(await listUntil(`${user} AND SagaStatus="COMPENSATION_FAILED"`, 1)).toEqual([idOf(parked)]);
    expect(await listUntil(`${user} AND FailedStep="payWithPoints" AND CompensatedSteps="releaseStock"`, 1)).toEqual([idOf(parked)]);
    expect(await listUntil(`${user} AND OrderId="${parked.body.order.orderId}"`, 1)).toEqual([idOf(parked)]);
    const holding = await listUntil(
      `${user} AND WorkflowType="seatReservation" AND SagaStatus="PENDING" AND HoldExpiresAt > "${new Date().toISOString()}"`,
      1,
    );
    expect(holding).toEqual([reservationWorkflowId(held.body.reservationId)]);
    // The holding saga upserted none of them: the start gave its ids, PENDING and the expiry.
    const events = (await stack.env.client.workflow.getHandle(holding[0]!).fetchHistory()).events ?? [];
    const upserted = events.flatMap((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}));
    expect(upserted).toEqual(['TemporalChangeVersion']);
  });
});
