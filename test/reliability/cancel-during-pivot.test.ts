/**
 * Cancelling a saga's workflow while its pivot step (confirmOrder / confirmReservation)
 * is running must not leave a confirmed sale whose payment was refunded: the pivot runs
 * to its end in a non-cancellable scope and, once it committed, the business result
 * stands. The pivot is held on a row lock so the cancellation lands while it runs.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pg from 'pg';
import { orderWorkflowId, reservationWorkflowId } from '../../common/ids.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { createPerformance, createProduct, createUser } from '../helpers/db.ts';
import { callApi, startStack, type TestStack } from '../helpers/stack.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';
import { cancellationSeen } from '../helpers/temporal.ts';

let stack: TestStack;
let observer: pg.Client;

beforeAll(async () => {
  stack = await startStack({ env: { ORDER_OUTCOME_WAIT_MS: '300' } });
  observer = new pg.Client({ connectionString: stack.config.database.url });
  await observer.connect();
});

afterAll(async () => {
  await observer?.end();
  await stack?.close();
});


describe('cancelling a saga during its pivot step', () => {
  it('an order whose confirmation is under way ends CONFIRMED, charged once, not refunded', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const userId = await createUser(stack.orm, 10_000);
    const account = await RowLocker.open(stack.config.database.url);
    const order = await RowLocker.open(stack.config.database.url);
    try {
      await account.lock('point_accounts', [userId]);
      const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] });
      const orderId: string = res.body.orderId;
      await waitForBlocked(observer, account, { count: 1, query: /point_accounts/ });
      await order.lock('orders', [orderId]);
      await account.release();
      await waitForBlocked(observer, order, { count: 1, query: /from orders/ });

      const handle = stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
      await handle.cancel();
      await cancellationSeen(handle);
      await order.release();

      expect(await handle.result()).toMatchObject({ status: 'CONFIRMED' });
      const view = await callApi(stack, 'GET', `/orders/${orderId}`);
      expect(view.body.status).toBe('CONFIRMED');
      const report = await checkInvariants(stack.orm, { scope: { userIds: [userId], productIds: [productId] } });
      expect({ ok: report.ok, report: report.ok ? '' : formatInvariantReport(report) }).toEqual({ ok: true, report: '' });
    } finally {
      await account.close();
      await order.close();
    }
  });

  it('a reservation whose confirmation is under way ends CONFIRMED with its seats RESERVED', async () => {
    const userId = await createUser(stack.orm, 100_000);
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds });
    const id: string = held.body.reservationId;
    const account = await RowLocker.open(stack.config.database.url);
    const reservation = await RowLocker.open(stack.config.database.url);
    try {
      await account.lock('point_accounts', [userId]);
      const pay = callApi(stack, 'POST', `/reservations/${id}/payment`);
      await waitForBlocked(observer, account, { count: 1, query: /point_accounts/ });
      await reservation.lock('reservations', [id]);
      await account.release();
      await waitForBlocked(observer, reservation, { count: 1, query: /from reservations/ });

      const handle = stack.env.client.workflow.getHandle(reservationWorkflowId(id));
      await handle.cancel();
      await cancellationSeen(handle);
      await reservation.release();

      expect([200, 202]).toContain((await pay).status);
      expect(await handle.result()).toEqual({ reservationId: id, status: 'CONFIRMED' });
      const seats = await observer.query('select status from seats where id = any($1) order by id', [seatIds]);
      expect(seats.rows.map((r) => r.status)).toEqual(['RESERVED', 'RESERVED']);
      const report = await checkInvariants(stack.orm, { scope: { userIds: [userId], performanceIds: [performanceId] } });
      expect({ ok: report.ok, report: report.ok ? '' : formatInvariantReport(report) }).toEqual({ ok: true, report: '' });
    } finally {
      await account.close();
      await reservation.close();
    }
  });
});
