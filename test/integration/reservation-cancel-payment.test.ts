/**
 * What DELETE and pay answer when they meet, and after a payment that failed for a reason
 * of ours, through the HTTP API on real parts:
 * - a cancellation while a payment runs is refused (409 `PaymentInProgress`) and changes
 *   nothing; the payment confirms;
 * - an accepted cancellation closes the reservation (200 CANCELLED, or 202 CANCELLING
 *   while the saga is still closing it) and every later payment is refused;
 * - a payment that failed for a reason that is not a business rejection is answered 503
 *   `SagaUnavailable` with `Retry-After`, the hold is kept, and paying again confirms and
 *   charges once.
 * The payment is held inside its transaction by a row lock on the user's point account;
 * the close of a cancellation by a row lock on the reservation. Payment faults come from
 * the activity factory, for the users a test names.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { reservationWorkflowId } from '../../common/ids.ts';
import { balanceOf, createPerformance, createUser, ledgerOf, seatStates } from '../helpers/db.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let observer: pg.Client;
/** Users whose next payment fails before it commits (`before`) or after it committed (`after`). */
const failingPayments = new Map<number, 'before' | 'after'>();

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: (real) => ({
      async payWithPoints(input) {
        const fault = failingPayments.get(input.userId);
        failingPayments.delete(input.userId);
        if (fault === 'before') throw ApplicationFailure.nonRetryable('connection to the database lost', 'ConnectionLost');
        const result = await real.payWithPoints(input);
        if (fault === 'after') throw ApplicationFailure.nonRetryable('the reply was lost after the retries ran out', 'ReplyLost');
        return result;
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

/** A held reservation of one 10,000-won seat for a new user with `balance` points. */
async function held(balance: number) {
  const { performanceId, seatIds } = await createPerformance(stack.orm, 1, 10_000);
  const userId = await createUser(stack.orm, balance);
  const res = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds });
  expect(res.status).toBe(201);
  return { id: res.body.reservationId as string, userId, seatIds };
}

async function rowStatus(id: string): Promise<string> {
  const [row] = await stack.orm.em.fork().execute<{ status: string }[]>('select status from reservations where id = ?', [id]);
  return row!.status;
}

async function payments(userId: number): Promise<number> {
  return (await ledgerOf(stack.orm, userId)).filter((e) => e.kind === 'PAYMENT').length;
}

describe('a cancellation meeting a payment', () => {
  it('is refused with 409 PaymentInProgress while the payment runs; nothing changes and the payment confirms', async () => {
    const { id, userId, seatIds } = await held(50_000);
    const account = await RowLocker.open(stack.config.database.url);
    try {
      await account.lock('point_accounts', [userId]);
      const paying = callApi(stack, 'POST', `/reservations/${id}/payment`);
      await waitForBlocked(observer, account, { count: 1, query: /point_accounts/ });

      const cancel = await callApi(stack, 'DELETE', `/reservations/${id}`);
      expect([cancel.status, cancel.body.code]).toEqual([409, 'PaymentInProgress']);
      expect(await rowStatus(id)).toBe('PENDING');
      expect((await seatStates(stack.orm, seatIds))[0]!.status).toBe('HELD');

      await account.release();
      const paid = await paying;
      expect([paid.status, paid.body.status]).toEqual([200, 'CONFIRMED']);
    } finally {
      await account.close();
    }
    expect(await rowStatus(id)).toBe('CONFIRMED');
    expect((await seatStates(stack.orm, seatIds))[0]!.status).toBe('RESERVED');
    expect(await balanceOf(stack.orm, userId)).toBe(40_000);
    expect(await payments(userId)).toBe(1);
    const late = await callApi(stack, 'DELETE', `/reservations/${id}`);
    expect([late.status, late.body.code]).toEqual([409, 'AlreadyConfirmed']);
  });

  it('once accepted, waits for the close (200 CANCELLED) and refuses every later payment; nothing is charged', async () => {
    const { id, userId, seatIds } = await held(50_000);

    const cancel = await callApi(stack, 'DELETE', `/reservations/${id}`);
    expect([cancel.status, cancel.body.status]).toEqual([200, 'CANCELLED']);
    expect(cancel.body).toMatchObject({ reservationId: id, reason: 'ReservationCancelled' });
    expect((await seatStates(stack.orm, seatIds))[0]!.status).toBe('AVAILABLE');

    const pay = await callApi(stack, 'POST', `/reservations/${id}/payment`);
    expect([pay.status, pay.body.code]).toEqual([409, 'ReservationCancelled']);
    expect(await balanceOf(stack.orm, userId)).toBe(50_000);
    expect(await payments(userId)).toBe(0);
  });

  it('answers 202 CANCELLING while the saga is still closing; a payment meanwhile is refused; it ends CANCELLED', async () => {
    const { id, userId, seatIds } = await held(50_000);
    const reservation = await RowLocker.open(stack.config.database.url);
    try {
      await reservation.lock('reservations', [id]);
      const cancel = await callApi(stack, 'DELETE', `/reservations/${id}`);
      expect([cancel.status, cancel.body.status]).toEqual([202, 'CANCELLING']);

      const pay = await callApi(stack, 'POST', `/reservations/${id}/payment`);
      expect([pay.status, pay.body.code]).toEqual([409, 'ReservationCancelled']);
    } finally {
      await reservation.close();
    }
    expect(await stack.env.client.workflow.getHandle(reservationWorkflowId(id)).result()).toEqual({ reservationId: id, status: 'CANCELLED' });
    expect((await seatStates(stack.orm, seatIds))[0]!.status).toBe('AVAILABLE');
    expect(await balanceOf(stack.orm, userId)).toBe(50_000);
  });
});

describe('a payment that failed for a reason of ours', () => {
  it.each(['before', 'after'] as const)(
    'failing %s its commit: 503 SagaUnavailable with Retry-After, the hold is kept, and paying again confirms and charges once',
    async (when) => {
      const { id, userId, seatIds } = await held(50_000);
      failingPayments.set(userId, when);

      const failed = await callApi(stack, 'POST', `/reservations/${id}/payment`);
      expect([failed.status, failed.body.code]).toEqual([503, 'SagaUnavailable']);
      expect(failed.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await rowStatus(id)).toBe('PENDING');
      expect((await seatStates(stack.orm, seatIds))[0]!.status).toBe('HELD');

      const paid = await callApi(stack, 'POST', `/reservations/${id}/payment`);
      expect([paid.status, paid.body.status]).toEqual([200, 'CONFIRMED']);
      expect(await balanceOf(stack.orm, userId)).toBe(40_000);
      expect(await payments(userId)).toBe(1);
    },
  );
});
