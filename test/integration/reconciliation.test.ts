/**
 * The reconciliation workflow (`reconcileSagas`) against a real Temporal dev server and
 * PostgreSQL: orphans planted in SQL (a PENDING order with stock reserved and a payment
 * whose workflow never existed; a PENDING reservation with seats HELD and paid past its
 * hold, without a workflow; a reservation whose workflow was terminated while PENDING) are
 * closed through the sagas' compensations, counted in `saga_reconciliation_repairs`, and a
 * second run does nothing; a running saga's PENDING row is left alone; stray effects are
 * reported. The worker's metrics are read from a buffered Runtime meter, installed before
 * the stack. The Schedule and the worker's start-up: reconciliation-schedule.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DefaultLogger, MetricsBuffer, Runtime } from '@temporalio/worker';
import { RECONCILIATION_WORKFLOW, reservationWorkflowId, stepKey } from '../../common/ids.ts';
import type { ReconciliationInput, ReconciliationResult } from '../../common/reconciliation.ts';
import { cancelReservationSignal } from '../../common/reservations.ts';
import { sagaWorkflowStates } from '../../activities/reconciliation.ts';
import { balanceOf, createPerformance, createProduct, createUser, seatStates, stockOf } from '../helpers/db.ts';
import { holdSeats, reservationInput } from '../helpers/reservations.ts';
import { expectOk, SagaRows, violationsOf, notesOf } from '../helpers/saga-rows.ts';
import { closeStack, startStack, type TestStack } from '../helpers/stack.ts';
import { couponFor, couponState, redemptionOf } from '../helpers/order-coupons.ts';
import { pollUntil } from '../helpers/waiting.ts';

const metrics = new MetricsBuffer();
let stack: TestStack;
let sagas: SagaRows;

/** Orphans are rows past 30 minutes; the plants are an hour old, other suites' rows younger. */
const INPUT: ReconciliationInput = { orderGraceMs: 1_800_000, reservationGraceMs: 1_800_000, batchSize: 1_000 };

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { metrics: { buffer: metrics } } });
  stack = await startStack();
  sagas = new SagaRows(stack.orm);
});

afterAll(() => closeStack(stack));

/** Runs `reconcileSagas` once on the stack's worker and returns its result. */
function reconcile(input: ReconciliationInput = INPUT): Promise<ReconciliationResult> {
  return stack.env.client.workflow.execute(RECONCILIATION_WORKFLOW, {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: `reconcile-test-${randomUUID()}`,
    args: [input],
  });
}

/** Sums of the `saga_reconciliation_repairs` increments by `kind`, and the last `saga_stray_effects` by `kind`. */
const repairsCounted: Record<string, number> = {};
const straysGauge: Record<string, number> = {};
function readMetrics(): void {
  for (const update of metrics.retrieveUpdates()) {
    const kind = String(update.attributes.kind);
    if (update.metric.name === 'saga_reconciliation_repairs') repairsCounted[kind] = (repairsCounted[kind] ?? 0) + update.value;
    if (update.metric.name === 'saga_stray_effects') straysGauge[kind] = update.value;
  }
}

async function row(table: 'orders' | 'reservations', id: string): Promise<{ status: string; reason: string | null; message: string | null }> {
  const reason = table === 'orders' ? 'cancellation_reason as reason, cancellation_message as message' : 'reason, message';
  const [found] = (await sagas.sql(`select status, ${reason} from ${table} where id = ?`, [id])) as { status: string; reason: string | null; message: string | null }[];
  return found!;
}

function backdateOrder(orderId: string): Promise<unknown> {
  return sagas.sql(`update orders set created_at = now() - interval '1 hour' where id = ?`, [orderId]);
}

async function backdateHold(reservationId: string): Promise<void> {
  await sagas.sql(`update reservations set hold_expires_at = now() - interval '1 hour' where id = ?`, [reservationId]);
  await sagas.sql(`update seats set hold_expires_at = now() - interval '1 hour' where reservation_id = ? and status = 'HELD'`, [reservationId]);
}

function pay(userId: number, workflowId: string, amountPoints: number) {
  return sagas.acts.payWithPoints({ userId, amountPoints, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
}

describe('reconcileSagas', () => {
  it('closes orphaned orders and reservations through their compensations, counts them, and a second run does nothing', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const buyer = await createUser(stack.orm, 100_000);
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2, 10_000);
    // An order whose createOrder, reserveStock and payWithPoints committed, and whose workflow never existed.
    const order = await sagas.newOrder(buyer, productId, 3);
    await sagas.acts.reserveStock({ orderId: order.orderId, lines: [{ productId, quantity: 3 }] });
    await pay(buyer, order.workflowId, order.totalWon);
    await backdateOrder(order.orderId);
    // A young PENDING order without a workflow: within its grace, so not an orphan yet.
    const young = await sagas.newOrder(buyer, productId, 1);
    // A reservation that held its seats and was paid, an hour past its hold, without a workflow.
    const held = await sagas.heldReservation(buyer, performanceId, seatIds);
    await pay(buyer, held.workflowId, held.totalWon);
    await backdateHold(held.reservationId);
    expect(await stockOf(stack.orm, productId)).toBe(7);
    expect(await balanceOf(stack.orm, buyer)).toBe(100_000 - 3_000 - 20_000);
    readMetrics();
    const countedBefore = { ...repairsCounted };

    const first = await reconcile();

    expect(first.failed).toEqual([]);
    expect(first.repaired).toEqual(expect.arrayContaining([
      { kind: 'order', id: order.orderId, workflowId: order.workflowId, workflowState: 'MISSING', refundedPoints: 3_000, releasedStockLines: [{ productId, quantity: 3 }] },
      { kind: 'reservation', id: held.reservationId, workflowId: held.workflowId, workflowState: 'MISSING', refundedPoints: 20_000, releasedSeatIds: seatIds },
    ]));
    expect(first.repaired.map((r) => r.id)).not.toContain(young.orderId);
    expect(await row('orders', order.orderId)).toEqual({ status: 'CANCELLED', reason: 'Cancelled', message: 'Closed by the reconciliation: its workflow is missing' });
    expect(await row('orders', young.orderId)).toMatchObject({ status: 'PENDING' });
    expect(await row('reservations', held.reservationId)).toMatchObject({ status: 'CANCELLED', reason: 'Cancelled' });
    expect(await stockOf(stack.orm, productId)).toBe(10);
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await balanceOf(stack.orm, buyer)).toBe(100_000);
    await expectOk(await sagas.check({ orderIds: [order.orderId], reservationIds: [held.reservationId] }, {}));
    const counted = (kind: string) => (repairsCounted[kind] ?? 0) - (countedBefore[kind] ?? 0);
    await pollUntil('the repairs counted', () => {
      readMetrics();
      return counted('order') + counted('reservation') >= first.repaired.length;
    });
    expect(counted('order')).toBeGreaterThanOrEqual(1);
    expect(counted('reservation')).toBeGreaterThanOrEqual(1);
    expect(counted('order') + counted('reservation')).toBe(first.repaired.length);

    const second = await reconcile();

    const ours = [order.orderId, held.reservationId, young.orderId];
    expect(second.repaired.filter((r) => ours.includes(r.id))).toEqual([]);
    expect(second.failed).toEqual([]);
    expect(await balanceOf(stack.orm, buyer)).toBe(100_000);
    expect(await stockOf(stack.orm, productId)).toBe(10);
    expect(await sagas.sql(`select kind, amount_points from point_ledger where reference = ? order by id`, [order.workflowId])).toEqual([
      { kind: 'PAYMENT', amount_points: 3_000 },
      { kind: 'REFUND', amount_points: 3_000 },
    ]);
    await sagas.acts.cancelOrder({ orderId: young.orderId, reason: 'Cancelled', message: 'test cleanup' });
  });

  it('gives back the coupon an orphaned order reserved, before its stock, and closes the order', async () => {
    const productId = await createProduct(stack.orm, 10, 10_000);
    const buyer = await createUser(stack.orm, 100_000);
    const couponId = await couponFor(stack.orm, buyer);
    // createOrder, reserveStock and reserveCoupon committed; the workflow never existed.
    const order = await sagas.newOrder(buyer, productId, 2);
    await sagas.acts.reserveStock({ orderId: order.orderId, lines: [{ productId, quantity: 2 }] });
    await sagas.acts.reserveCoupon({ orderId: order.orderId, userId: buyer, couponId, subtotalWon: order.totalWon });
    await backdateOrder(order.orderId);
    expect(await couponState(stack.orm, couponId)).toEqual({ status: 'RESERVED', orderId: order.orderId });

    const run = await reconcile();

    expect(run.failed).toEqual([]);
    expect(run.repaired.map((r) => r.id)).toContain(order.orderId);
    expect(await couponState(stack.orm, couponId)).toEqual({ status: 'AVAILABLE', orderId: null });
    expect(await redemptionOf(stack.orm, order.orderId)).toMatchObject({ status: 'RELEASED' });
    expect(await row('orders', order.orderId)).toMatchObject({ status: 'CANCELLED', reason: 'Cancelled' });
    expect(await stockOf(stack.orm, productId)).toBe(10);
    await expectOk(await sagas.check({ orderIds: [order.orderId] }, {}));
  });

  it('closes a reservation whose workflow was terminated while PENDING, and leaves a running saga\'s row alone', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 4, 10_000);
    const userId = await createUser(stack.orm, 0);
    const dead = reservationInput(userId, performanceId, seatIds.slice(0, 2), 600_000);
    const live = reservationInput(userId, performanceId, seatIds.slice(2), 600_000);
    expect(await holdSeats(stack, dead)).toMatchObject({ status: 'PENDING' });
    expect(await holdSeats(stack, live)).toMatchObject({ status: 'PENDING' });
    const deadHandle = stack.env.client.workflow.getHandle(reservationWorkflowId(dead.reservationId));
    const liveHandle = stack.env.client.workflow.getHandle(reservationWorkflowId(live.reservationId));
    await deadHandle.terminate('test: the saga is gone while its row is PENDING');
    // Both rows look an hour past their hold; only the dead one has no workflow to close it.
    await backdateHold(dead.reservationId);
    await backdateHold(live.reservationId);
    const scope = { reservationIds: [dead.reservationId, live.reservationId] };
    const lookup = (ids: string[]) => sagaWorkflowStates(stack.env.client, ids);
    const before = await sagas.check(scope, { workflowStates: lookup });
    expect(violationsOf(before, 'pending-sagas-have-live-workflows')).toEqual([
      expect.objectContaining({ ids: { reservationId: dead.reservationId, workflowId: deadHandle.workflowId }, found: 'workflow TERMINATED' }),
    ]);

    const result = await reconcile();

    expect(result.repaired.filter((r) => r.id === dead.reservationId || r.id === live.reservationId)).toEqual([
      { kind: 'reservation', id: dead.reservationId, workflowId: deadHandle.workflowId, workflowState: 'TERMINATED', refundedPoints: 0, releasedSeatIds: seatIds.slice(0, 2) },
    ]);
    expect(result.running).toContain(liveHandle.workflowId);
    expect(await row('reservations', dead.reservationId)).toEqual({
      status: 'CANCELLED', reason: 'Cancelled', message: 'Closed by the reconciliation: its workflow is TERMINATED',
    });
    expect(await row('reservations', live.reservationId)).toMatchObject({ status: 'PENDING' });
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['AVAILABLE', 'AVAILABLE', 'HELD', 'HELD']);
    const after = await sagas.check(scope, { workflowStates: lookup });
    await expectOk(after);
    expect(notesOf(after, 'pending-sagas-have-live-workflows')).toEqual([
      expect.objectContaining({ kind: 'in-flight', ids: { reservationId: live.reservationId, workflowId: liveHandle.workflowId } }),
    ]);

    await liveHandle.signal(cancelReservationSignal);
    expect(await liveHandle.result()).toEqual({ reservationId: live.reservationId, status: 'CANCELLED' });
  });

  it('reports stock, seats and payments no live saga explains, and changes none of them', async () => {
    const productId = await createProduct(stack.orm, 5, 1_000);
    const userId = await createUser(stack.orm, 50_000);
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1, 10_000);
    const order = await sagas.unpaidOrder(await createUser(stack.orm, 500), productId, 2);
    const expired = await sagas.expiredReservation(userId, performanceId, seatIds);
    // Effects behind the sagas' back: stock RESERVED again, the seat HELD again, a payment without refund.
    await sagas.sql(`update stock_reservations set status = 'RESERVED' where order_id = ?`, [order.orderId]);
    await sagas.sql(`update seats set status = 'HELD', reservation_id = ?, hold_expires_at = now() where id = ?`, [expired.reservationId, seatIds[0]]);
    const stray = `order-${randomUUID()}`;
    await pay(userId, stray, 700);
    try {
      const result = await reconcile();

      expect(result.strays.stockLines.items).toContainEqual({ orderId: order.orderId, productId, quantity: 2, orderStatus: 'CANCELLED' });
      expect(result.strays.heldSeats.items).toContainEqual({ seatId: seatIds[0], reservationId: expired.reservationId, reservationStatus: 'EXPIRED' });
      expect(result.strays.payments.items).toContainEqual(expect.objectContaining({ reference: stray, amountPoints: 700, sagaStatus: null }));
      expect(result.repaired.map((r) => r.id)).not.toContain(order.orderId);
      expect(await row('orders', order.orderId)).toMatchObject({ status: 'CANCELLED' });
      expect((await seatStates(stack.orm, seatIds))[0]!.status).toBe('HELD');
      await pollUntil('the stray effects gauged', () => {
        readMetrics();
        return straysGauge.stock_line === result.strays.stockLines.count;
      });
      expect(straysGauge).toEqual({
        stock_line: result.strays.stockLines.count,
        held_seat: result.strays.heldSeats.count,
        payment: result.strays.payments.count,
      });
      expect(result.strays.stockLines.count).toBeGreaterThanOrEqual(1);
    } finally {
      await sagas.sql(`update stock_reservations set status = 'RELEASED' where order_id = ?`, [order.orderId]);
      await sagas.sql(`update seats set status = 'AVAILABLE', reservation_id = null, hold_expires_at = null where id = ?`, [seatIds[0]]);
      await sagas.acts.refundPoints({ userId, sagaId: stray, idempotencyKey: stepKey(stray, 'refund') });
    }
  });
});
