/**
 * The reservation saga when a compensation fails for good: like an order, it parks in
 * COMPENSATION_FAILED (row, Query, search attribute), is counted in
 * `saga_compensation_failures` under its workflow type, and finishes its compensations
 * after the operator's `retryCompensations` Update once the cause is fixed. Faults are
 * injected through the activity factory, only for the reservations and users a test
 * names. The worker's metrics are read from a buffered Runtime meter, installed before
 * the stack so the worker uses it.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, MetricsBuffer, Runtime } from '@temporalio/worker';
import { reservationWorkflowId } from '../../common/ids.ts';
import {
  cancelReservationSignal,
  reservationProgressQuery,
  retryReservationCompensationsUpdate,
} from '../../common/reservations.ts';
import { createPerformance, createProduct, createUser, seatStates } from '../helpers/db.ts';
import { holdSeats, refusalType, reservationInput } from '../helpers/reservations.ts';
import { callApi, closeStack, refundFailsFor, startStack, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

const metrics = new MetricsBuffer();
let stack: TestStack;
const brokenReleases = new Set<string>();
const brokenRefundUsers = new Set<number>();

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { metrics: { buffer: metrics } } });
  stack = await startStack({
    activityOverrides: (real) => ({
      async releaseSeats(input) {
        if (brokenReleases.has(input.reservationId)) throw ApplicationFailure.nonRetryable('seat map is locked', 'SeatMapLocked');
        return real.releaseSeats(input);
      },
      ...refundFailsFor(brokenRefundUsers, real),
    }),
  });
});

afterAll(() => closeStack(stack));

/** Every `saga_compensation_failures` increment seen so far, by its `workflowType` label. */
const compensationFailures: Record<string, number> = {};

/** Waits until `workflowType` has `count` compensation failures counted, and returns what was counted. */
async function countedFailures(workflowType: string, count: number): Promise<number> {
  await pollUntil(`${count} compensation failures of ${workflowType}`, () => {
    for (const update of metrics.retrieveUpdates()) {
      if (update.metric.name !== 'saga_compensation_failures') continue;
      const label = String(update.attributes.workflowType);
      compensationFailures[label] = (compensationFailures[label] ?? 0) + update.value;
    }
    return (compensationFailures[workflowType] ?? 0) >= count;
  });
  return compensationFailures[workflowType]!;
}

async function reservationRow(reservationId: string): Promise<{ status: string; reason: string | null }> {
  const [row] = await stack.orm.em.fork().execute<{ status: string; reason: string | null }[]>('select status, reason from reservations where id = ?', [reservationId]);
  return row!;
}

describe('reservation saga failures', () => {
  it('parks in COMPENSATION_FAILED when a compensation fails for good, is counted, and completes after the operator retry', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const userId = await createUser(stack.orm, 0);
    const input = reservationInput(userId, performanceId, seatIds, 60_000);
    const handle = stack.env.client.workflow.getHandle(reservationWorkflowId(input.reservationId));
    brokenReleases.add(input.reservationId);

    expect(await holdSeats(stack, input)).toMatchObject({ status: 'PENDING' });
    // Not parked: the validator refuses the operator's retry before it reaches history.
    expect(await refusalType(handle.executeUpdate(retryReservationCompensationsUpdate))).toBe('NotCompensationFailed');

    await handle.signal(cancelReservationSignal);
    await pollUntil('the reservation to park', async () => (await handle.query(reservationProgressQuery)).status === 'COMPENSATION_FAILED');
    const parked = await handle.query(reservationProgressQuery);
    expect(parked.compensations.map((c) => [c.name, c.state, c.failureType])).toEqual([['releaseSeats', 'failed', 'SeatMapLocked']]);
    expect(parked.failure).toMatchObject({ type: 'ReservationCancelled' });
    expect(await reservationRow(input.reservationId)).toEqual({ status: 'COMPENSATION_FAILED', reason: 'CompensationFailed' });
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['HELD', 'HELD']);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.getAll().find((p) => p.key.name === 'SagaStatus')?.value).toBe('COMPENSATION_FAILED');
    expect(described.status.name).toBe('RUNNING');
    expect(await countedFailures('seatReservation', 1)).toBe(1);

    // Retrying while the cause persists fails again, is counted again, and stays parked.
    expect(await handle.executeUpdate(retryReservationCompensationsUpdate)).toEqual({ reservationId: input.reservationId, status: 'COMPENSATION_FAILED' });
    expect(await countedFailures('seatReservation', 2)).toBe(2);

    // The operator fixes the cause and retries: only the failed compensation runs again.
    brokenReleases.delete(input.reservationId);
    expect(await handle.executeUpdate(retryReservationCompensationsUpdate)).toEqual({ reservationId: input.reservationId, status: 'CANCELLED' });
    expect(await handle.result()).toEqual({ reservationId: input.reservationId, status: 'CANCELLED' });
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await reservationRow(input.reservationId)).toEqual({ status: 'CANCELLED', reason: 'ReservationCancelled' });
    const done = await handle.query(reservationProgressQuery);
    expect(done.compensations.map((c) => [c.name, c.state])).toEqual([
      ['releaseSeats', 'failed'],
      ['releaseSeats', 'failed'],
      ['releaseSeats', 'completed'],
    ]);
    expect((await handle.describe()).typedSearchAttributes.getAll().find((p) => p.key.name === 'SagaStatus')?.value).toBe('CANCELLED');
  });

  it('counts the compensation failures of orders under their own workflow type in the same metric', async () => {
    const productId = await createProduct(stack.orm, 5, 1_000);
    const userId = await createUser(stack.orm, 1_000);
    brokenRefundUsers.add(userId);
    const before = compensationFailures.seatReservation ?? 0;

    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] });

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('CompensationFailed');
    expect(await countedFailures('orderCheckout', 1)).toBe(1);
    expect(compensationFailures.seatReservation ?? 0).toBe(before);
    brokenRefundUsers.delete(userId);
    const retried = await callApi(stack, 'POST', `/orders/${res.body.order.orderId}/compensations/retry`);
    expect(retried.body).toMatchObject({ status: 'CANCELLED' });
  });
});
