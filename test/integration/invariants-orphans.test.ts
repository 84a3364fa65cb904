/**
 * The invariant checker's orphan side, planted in SQL: a PENDING order or reservation past
 * its deadline is a violation of `pending-sagas-have-live-workflows` unless its workflow
 * runs (asked through `workflowStates`, here a fake; with Temporal: reconciliation.test.ts),
 * judged by age when the checker cannot ask; and the stray effects the reconciliation
 * reports (stock RESERVED by a CANCELLED order, a payment of no saga) are the existing
 * checks' violations. Scoped to this suite's rows.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { orderWorkflowId, stepKey } from '../../common/ids.ts';
import type { SagaWorkflowState } from '../../common/reconciliation.ts';
import type { Orm } from '../../db/orm.ts';
import { createPerformance, createProduct, createUser, openTestOrm } from '../helpers/db.ts';
import { expectOk, notesOf, SagaRows, violationsOf } from '../helpers/saga-rows.ts';

let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  orm = await openTestOrm();
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await orm?.close();
});

/** A fake Temporal: every workflow id is in `state`. */
function everyWorkflow(state: SagaWorkflowState) {
  return async (ids: string[]) => new Map(ids.map((id) => [id, state] as const));
}

describe('checkInvariants finds orphaned sagas', () => {
  it('a PENDING order an hour old is a violation by age, or by its closed workflow, and a note while its workflow runs', async () => {
    const productId = await createProduct(orm, 5, 1_000);
    const userId = await createUser(orm, 10_000);
    const order = await sagas.newOrder(userId, productId, 2);
    await sagas.acts.reserveStock({ orderId: order.orderId, lines: [{ productId, quantity: 2 }] });
    const scope = { orderIds: [order.orderId] };
    await expectOk(await sagas.check(scope, {}));

    await sagas.sql(`update orders set created_at = now() - interval '1 hour' where id = ?`, [order.orderId]);
    try {
      const byAge = await sagas.check(scope, {});
      expect(byAge.ok).toBe(false);
      expect(violationsOf(byAge, 'pending-sagas-have-live-workflows')).toEqual([
        expect.objectContaining({
          ids: { orderId: order.orderId, workflowId: order.workflowId },
          found: expect.stringContaining('workflow not checked: no Temporal client'),
        }),
      ]);
      expect(violationsOf(await sagas.check(scope, { workflowStates: everyWorkflow('MISSING') }), 'pending-sagas-have-live-workflows')).toEqual([
        expect.objectContaining({ ids: { orderId: order.orderId, workflowId: order.workflowId }, found: 'workflow MISSING' }),
      ]);
      const running = await sagas.check(scope, { workflowStates: everyWorkflow('RUNNING') });
      await expectOk(running);
      expect(notesOf(running, 'pending-sagas-have-live-workflows')).toEqual([
        expect.objectContaining({ kind: 'in-flight', ids: { orderId: order.orderId, workflowId: order.workflowId } }),
      ]);
      await expectOk(await sagas.check(scope, { orphanGraceMs: { order: 2 * 3_600_000 } }));
    } finally {
      await sagas.acts.releaseStock({ orderId: order.orderId, lines: [{ productId, quantity: 2 }] });
      await sagas.acts.cancelOrder({ orderId: order.orderId, reason: 'Cancelled', message: 'test cleanup' });
    }
    await expectOk(await sagas.check(scope, {}));
  });

  it('a PENDING reservation whose hold expired past the grace is a violation when its workflow is closed', async () => {
    const { performanceId, seatIds } = await createPerformance(orm, 2);
    const userId = await createUser(orm, 0);
    const held = await sagas.heldReservation(userId, performanceId, seatIds);
    const scope = { reservationIds: [held.reservationId] };
    await sagas.sql(`update reservations set hold_expires_at = now() - interval '1 minute' where id = ?`, [held.reservationId]);
    // Expired, but within the grace (default 5 minutes): the saga may still be closing it.
    await expectOk(await sagas.check(scope, { workflowStates: everyWorkflow('COMPLETED') }));

    await sagas.sql(`update reservations set hold_expires_at = now() - interval '1 hour' where id = ?`, [held.reservationId]);
    try {
      const report = await sagas.check(scope, { workflowStates: everyWorkflow('COMPLETED') });
      expect(violationsOf(report, 'pending-sagas-have-live-workflows')).toEqual([
        expect.objectContaining({ ids: { reservationId: held.reservationId, workflowId: held.workflowId }, found: 'workflow COMPLETED' }),
      ]);
      expect(report.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['pending-sagas-have-live-workflows']);
    } finally {
      await sagas.acts.releaseSeats({ reservationId: held.reservationId });
      await sagas.acts.closeReservation({ reservationId: held.reservationId, status: 'CANCELLED', reason: 'Cancelled', message: 'test cleanup' });
    }
    await expectOk(await sagas.check(scope, {}));
  });

  it('stock RESERVED again by a CANCELLED order, and a payment no saga references, are stray effects', async () => {
    const productId = await createProduct(orm, 5, 1_000);
    const userId = await createUser(orm, 10_000);
    const order = await sagas.outOfStockOrder(userId, productId, 10);
    const reference = orderWorkflowId(randomUUID());
    await sagas.sql(`update stock_reservations set status = 'RESERVED', quantity = 1 where order_id = ?`, [order.orderId]);
    await sagas.sql('update products set stock = stock - 1 where id = ?', [productId]);
    await sagas.acts.payWithPoints({ userId, amountPoints: 300, sagaId: reference, idempotencyKey: stepKey(reference, 'pay') });
    try {
      const report = await sagas.check({ userIds: [userId], productIds: [productId] }, {});
      expect(violationsOf(report, 'stock-lines-match-orders')).toEqual([
        expect.objectContaining({ ids: { orderId: order.orderId, productId }, found: 'order CANCELLED with 1 units RESERVED' }),
      ]);
      expect(violationsOf(report, 'payments-belong-to-live-or-confirmed-sagas')).toEqual([
        expect.objectContaining({ ids: expect.objectContaining({ reference, userId }), found: 'none (payment of 300, no refund)' }),
      ]);
      expect(violationsOf(report, 'stock-conservation')).toEqual([]);
    } finally {
      await sagas.sql(`update stock_reservations set status = 'RELEASED', quantity = 0 where order_id = ?`, [order.orderId]);
      await sagas.sql('update products set stock = stock + 1 where id = ?', [productId]);
      await sagas.acts.refundPoints({ userId, sagaId: reference, idempotencyKey: stepKey(reference, 'refund') });
    }
    await expectOk(await sagas.check({ userIds: [userId], productIds: [productId] }, {}));
  });
});
