/**
 * Compensations that hit a deterministic database error, and the operator's retry of
 * both sagas over HTTP. The fault is real: the test plants a CHECK constraint that the
 * compensation's own statement violates (SQLSTATE 23514), and drops it to fix the cause.
 * - A compensation fails for good at its first attempt (no endless retry) and parks the
 *   saga COMPENSATION_FAILED, for order compensations run as local activities and
 *   reservation compensations run as normal ones (worker/database-failures.ts).
 * - `POST /reservations/:id/compensations/retry` retries a parked reservation like the
 *   orders' route (api/compensation-retry.ts).
 * - While a retry runs (its compensation held behind a row lock), a second retry is
 *   refused with 409 `CompensationRetryInProgress`, and exactly one retry runs.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { orderWorkflowId } from '../../common/ids.ts';
import { balanceOf, createPerformance, createProduct, createUser, seatStates, stockOf } from '../helpers/db.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

let stack: TestStack;
let observer: pg.Client;
/** Attempts of each compensation, by `<activity>:<saga id>`. */
const attempts = new Map<string, number>();
const count = (key: string) => attempts.set(key, (attempts.get(key) ?? 0) + 1);

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: (real) => ({
      async refundPoints(input) {
        count(`refundPoints:${input.sagaId}`);
        return real.refundPoints(input);
      },
      async releaseSeats(input) {
        count(`releaseSeats:${input.reservationId}`);
        return real.releaseSeats(input);
      },
    }),
  });
  observer = new pg.Client({ connectionString: stack.config.database.url });
  await observer.connect();
});

afterAll(async () => {
  await observer?.end();
  await closeStack(stack);
});

/** Adds CHECK constraint `check` to `table` (existing rows are not checked); returns what drops it. */
async function plantConstraint(table: string, check: string): Promise<() => Promise<void>> {
  const name = `test_fault_${randomUUID().replaceAll('-', '')}`;
  await observer.query(`alter table ${table} add constraint ${name} check (${check}) not valid`);
  return async () => {
    await observer.query(`alter table ${table} drop constraint if exists ${name}`);
  };
}

/** States of the saga's compensations named `name`, in the order they ran. */
function statesOf(saga: { compensations: { name: string; state: string }[] }, name: string): string[] {
  return saga.compensations.filter((c) => c.name === name).map((c) => c.state);
}

/** An order of a user without points: the payment is refused and refundPoints runs. */
async function orderThatRefunds(): Promise<{ userId: number; productId: number }> {
  return { userId: await createUser(stack.orm, 0), productId: await createProduct(stack.orm, 5, 1_000) };
}

/** Places the order; it parks COMPENSATION_FAILED at once: 409 with its view. */
async function parkedOrder(userId: number, productId: number): Promise<string> {
  const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] });
  expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'CompensationFailed' });
  return res.body.order.orderId;
}

describe('a compensation that hits a deterministic database error', () => {
  it('parks the order COMPENSATION_FAILED at its first attempt, and the operator retry finishes it once fixed', async () => {
    const { userId, productId } = await orderThatRefunds();
    const fix = await plantConstraint('point_ledger', `account_user_id <> ${userId} or kind <> 'REFUND'`);
    try {
      const orderId = await parkedOrder(userId, productId);
      const sagaId = `order-${orderId}`;
      expect(attempts.get(`refundPoints:${sagaId}`)).toBe(1);

      const view = (await callApi(stack, 'GET', `/orders/${orderId}`)).body;
      expect(view).toMatchObject({ status: 'COMPENSATION_FAILED', reason: 'CompensationFailed' });
      expect(view.saga.compensations.find((c: { name: string }) => c.name === 'refundPoints')).toMatchObject({
        state: 'failed',
        failureType: 'IntegrityConstraintViolation',
      });
      expect(statesOf(view.saga, 'releaseStock')).toEqual(['completed']);
      expect(await stockOf(stack.orm, productId)).toBe(5);
      const described = await stack.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe();
      expect(described.typedSearchAttributes.getAll().find((p) => p.key.name === 'SagaStatus')?.value).toBe('COMPENSATION_FAILED');

      await fix();
      const retried = await callApi(stack, 'POST', `/orders/${orderId}/compensations/retry`);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ status: 'CANCELLED', reason: 'InsufficientPoints' });
      expect(attempts.get(`refundPoints:${sagaId}`)).toBe(2);
      expect(await balanceOf(stack.orm, userId)).toBe(0);
    } finally {
      await fix();
    }
  });
});

/** A reservation whose hold expired and whose releaseSeats violates a planted constraint: parked. */
async function parkedReservation(): Promise<{ reservationId: string; seatIds: number[]; fix: () => Promise<void> }> {
  const userId = await createUser(stack.orm, 0);
  const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
  const fix = await plantConstraint('seats', `id not in (${seatIds.join(', ')}) or status <> 'AVAILABLE'`);
  const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds, holdSeconds: 1 });
  expect(held.status).toBe(201);
  const { reservationId } = held.body;
  // The hold expires, releaseSeats violates the constraint once and the saga parks.
  await pollUntil('the reservation to park', async () => (await callApi(stack, 'GET', `/reservations/${reservationId}`)).body.status === 'COMPENSATION_FAILED');
  return { reservationId, seatIds, fix };
}

describe('POST /reservations/:id/compensations/retry', () => {
  it('finishes a parked reservation once the cause is fixed: EXPIRED, seats released', async () => {
    const { reservationId, seatIds, fix } = await parkedReservation();
    try {
      expect(attempts.get(`releaseSeats:${reservationId}`)).toBe(1);
      const view = (await callApi(stack, 'GET', `/reservations/${reservationId}`)).body;
      expect(view.saga.compensations.find((c: { name: string }) => c.name === 'releaseSeats')).toMatchObject({
        state: 'failed',
        failureType: 'IntegrityConstraintViolation',
      });
      expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['HELD', 'HELD']);

      const again = await callApi(stack, 'POST', `/reservations/${reservationId}/compensations/retry`);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'CompensationFailed', reservation: { reservationId, status: 'COMPENSATION_FAILED' } });

      await fix();
      const retried = await callApi(stack, 'POST', `/reservations/${reservationId}/compensations/retry`);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ reservationId, status: 'EXPIRED', reason: 'HoldExpired' });
      expect(statesOf(retried.body.saga, 'releaseSeats')).toEqual(['failed', 'failed', 'completed']);
      expect((await seatStates(stack.orm, seatIds)).map((s) => [s.status, s.reservationId])).toEqual([
        ['AVAILABLE', null],
        ['AVAILABLE', null],
      ]);

      const done = await callApi(stack, 'POST', `/reservations/${reservationId}/compensations/retry`);
      expect({ status: done.status, code: done.body.code }).toEqual({ status: 409, code: 'NotCompensationFailed' });
    } finally {
      await fix();
    }
  });

  it('refuses a reservation that is not parked (409), an unknown one (404) and a bad id (400)', async () => {
    const userId = await createUser(stack.orm, 0);
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1);
    const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds, holdSeconds: 600 });
    expect(held.status).toBe(201);

    const pending = await callApi(stack, 'POST', `/reservations/${held.body.reservationId}/compensations/retry`);
    expect({ status: pending.status, code: pending.body.code }).toEqual({ status: 409, code: 'NotCompensationFailed' });
    const unknown = await callApi(stack, 'POST', `/reservations/${randomUUID()}/compensations/retry`);
    expect({ status: unknown.status, code: unknown.body.code }).toEqual({ status: 404, code: 'NotFound' });
    const bad = await callApi(stack, 'POST', '/reservations/not-a-uuid/compensations/retry');
    expect({ status: bad.status, code: bad.body.code }).toEqual({ status: 400, code: 'ValidationFailed' });
  });
});

describe('the retry validator', () => {
  // On the reservation saga, whose compensations are normal activities: an order's local
  // activity occupies its workflow task, so a second Update is only validated at the
  // task's next heartbeat (~8 s), after the API's wait.
  it('refuses a second retry while one runs (409 CompensationRetryInProgress), and exactly one retry runs', async () => {
    const { reservationId, fix } = await parkedReservation();
    const locker = await RowLocker.open(stack.config.database.url);
    try {
      // Hold the retried releaseSeats behind a lock on the reservation row, its first lock.
      await locker.lock('reservations', [reservationId]);
      const first = callApi(stack, 'POST', `/reservations/${reservationId}/compensations/retry`);
      await waitForBlocked(observer, locker, { count: 1, query: /from reservations/ });

      const second = await callApi(stack, 'POST', `/reservations/${reservationId}/compensations/retry`);
      expect({ status: second.status, code: second.body.code }).toEqual({ status: 409, code: 'CompensationRetryInProgress' });

      await locker.release();
      // The cause is still there: the one retry fails again and answers its own result.
      const answered = await first;
      expect({ status: answered.status, code: answered.body.code }).toEqual({ status: 409, code: 'CompensationFailed' });

      await fix();
      const retried = await callApi(stack, 'POST', `/reservations/${reservationId}/compensations/retry`);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ status: 'EXPIRED' });
      // The original run, the one refused-again retry, the fixed one: no retry nobody asked for.
      expect(statesOf(retried.body.saga, 'releaseSeats')).toEqual(['failed', 'failed', 'completed']);
      expect(attempts.get(`releaseSeats:${reservationId}`)).toBe(3);
    } finally {
      await locker.close();
      await fix();
    }
  });
});
