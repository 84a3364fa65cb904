/**
 * The invariant checker against PostgreSQL: it passes on rows written by the real
 * activities (a confirmed, a cancelled and a running order; a confirmed, a held and an
 * expired reservation), and it detects violations planted behind the activities' back,
 * naming the rows involved. Every check is scoped to this suite's rows, since other
 * suites write to the same database (some of them plant anomalies on purpose).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Orm } from '../../db/orm.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import type { DataPlatformClient } from '../../activities/data-platform.ts';
import { confirmedEventId, orderWorkflowId, reservationWorkflowId, stepKey } from '../../common/ids.ts';
import {
  checkInvariants,
  formatInvariantReport,
  type CheckName,
  type InvariantOptions,
  type InvariantReport,
  type InvariantScope,
} from '../../db/invariants.ts';
import { balanceOf, createPerformance, createProduct, createUser, openTestOrm, stockOf } from '../helpers/db.ts';

let orm: Orm;
let acts: Activities;
/** Event ids the fake data platform received, in order. */
const received: string[] = [];
const recordingPlatform: DataPlatformClient = {
  async send(event) {
    received.push(event.eventId);
    return { status: 201, duplicate: false };
  },
};

beforeAll(async () => {
  orm = await openTestOrm();
  acts = createActivities({ orm, dataPlatform: recordingPlatform });
});

afterAll(async () => {
  await orm?.close();
});

function events(except: string[] = []) {
  return received.filter((id) => !except.includes(id)).map((eventId) => ({ eventId, attempts: 1 }));
}

async function check(scope: InvariantScope, options: Omit<InvariantOptions, 'scope'> = { receivedEvents: events() }): Promise<InvariantReport> {
  return checkInvariants(orm, { ...options, scope });
}

function violationsOf(report: InvariantReport, name: CheckName) {
  return report.checks.find((c) => c.name === name)!.violations;
}

function notesOf(report: InvariantReport, name: CheckName) {
  return report.checks.find((c) => c.name === name)!.notes;
}

async function expectOk(report: InvariantReport): Promise<void> {
  if (!report.ok) throw new Error(`invariants broken:\n${formatInvariantReport(report)}`);
}

async function isBusinessFailure(promise: Promise<unknown>, type: string): Promise<boolean> {
  try {
    await promise;
    return false;
  } catch (err) {
    return err instanceof ApplicationFailure && err.type === type;
  }
}

/** Creates a PENDING order of `quantity` units of `productId` at 1,000 won each. */
async function newOrder(userId: number, productId: number, quantity: number) {
  const orderId = randomUUID();
  const workflowId = orderWorkflowId(orderId);
  const order = await acts.createOrder({ orderId, userId, workflowId, requestHash: 'h', items: [{ productId, quantity }] });
  return { orderId, workflowId, userId, totalWon: order.totalWon };
}

type NewOrder = Awaited<ReturnType<typeof newOrder>>;

async function confirmedOrder(userId: number, productId: number, quantity: number): Promise<NewOrder> {
  const o = await newOrder(userId, productId, quantity);
  await acts.reserveStock({ orderId: o.orderId });
  await acts.payWithPoints({ userId, amountPoints: o.totalWon, sagaId: o.workflowId, idempotencyKey: stepKey(o.workflowId, 'pay') });
  await acts.confirmOrder({ orderId: o.orderId });
  await notify(o.workflowId);
  return o;
}

/** An order cancelled for OutOfStock: compensations ran as the saga runs them (release only). */
async function outOfStockOrder(userId: number, productId: number, quantity: number): Promise<NewOrder> {
  const o = await newOrder(userId, productId, quantity);
  expect(await isBusinessFailure(acts.reserveStock({ orderId: o.orderId }), 'OutOfStock')).toBe(true);
  await acts.releaseStock({ orderId: o.orderId });
  await acts.cancelOrder({ orderId: o.orderId, reason: 'OutOfStock', message: 'not enough stock' });
  return o;
}

/** An order cancelled for InsufficientPoints after its stock was reserved. */
async function unpaidOrder(userId: number, productId: number, quantity: number): Promise<NewOrder> {
  const o = await newOrder(userId, productId, quantity);
  await acts.reserveStock({ orderId: o.orderId });
  const pay = acts.payWithPoints({ userId, amountPoints: o.totalWon, sagaId: o.workflowId, idempotencyKey: stepKey(o.workflowId, 'pay') });
  expect(await isBusinessFailure(pay, 'InsufficientPoints')).toBe(true);
  await acts.refundPoints({ userId, sagaId: o.workflowId, idempotencyKey: stepKey(o.workflowId, 'refund') });
  await acts.releaseStock({ orderId: o.orderId });
  await acts.cancelOrder({ orderId: o.orderId, reason: 'InsufficientPoints', message: 'balance too low' });
  return o;
}

async function notify(workflowId: string, type = 'order.confirmed'): Promise<void> {
  await acts.notifyDataPlatform({
    sagaId: workflowId,
    event: { eventId: confirmedEventId(workflowId), type, occurredAt: new Date().toISOString(), payload: {} },
  });
}

/** Creates a reservation of `seatIds` and holds them for an hour. */
async function heldReservation(userId: number, performanceId: number, seatIds: number[]) {
  const reservationId = randomUUID();
  const workflowId = reservationWorkflowId(reservationId);
  const created = await acts.createReservation({
    reservationId,
    userId,
    performanceId,
    seatIds,
    holdExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    workflowId,
    requestHash: 'h',
  });
  await acts.holdSeats({ reservationId });
  return { reservationId, workflowId, userId, totalWon: created.totalWon };
}

async function confirmedReservation(userId: number, performanceId: number, seatIds: number[]) {
  const r = await heldReservation(userId, performanceId, seatIds);
  await acts.payWithPoints({ userId, amountPoints: r.totalWon, sagaId: r.workflowId, idempotencyKey: stepKey(r.workflowId, 'pay') });
  await acts.confirmReservation({ reservationId: r.reservationId });
  await notify(r.workflowId, 'reservation.confirmed');
  return r;
}

async function expiredReservation(userId: number, performanceId: number, seatIds: number[]) {
  const r = await heldReservation(userId, performanceId, seatIds);
  await acts.refundPoints({ userId, sagaId: r.workflowId, idempotencyKey: stepKey(r.workflowId, 'refund') });
  await acts.releaseSeats({ reservationId: r.reservationId });
  await acts.closeReservation({ reservationId: r.reservationId, status: 'EXPIRED', reason: 'HoldExpired', message: 'hold expired' });
  return r;
}

function sql(query: string, params: unknown[] = []): Promise<unknown[]> {
  return orm.em.fork().execute(query, params as never[]);
}

describe('checkInvariants on rows written by the activities', () => {
  it('passes on confirmed, cancelled and running orders and reservations, and checks every rule', async () => {
    const productId = await createProduct(orm, 10, 1_000);
    const [buyer, poor] = [await createUser(orm, 50_000), await createUser(orm, 500)];
    const { performanceId, seatIds } = await createPerformance(orm, 6, 10_000);

    await confirmedOrder(buyer, productId, 3);
    await outOfStockOrder(buyer, productId, 100);
    await unpaidOrder(poor, productId, 2);
    const running = await newOrder(buyer, productId, 1);
    await acts.reserveStock({ orderId: running.orderId });
    await confirmedReservation(buyer, performanceId, seatIds.slice(0, 2));
    await heldReservation(buyer, performanceId, seatIds.slice(2, 4));
    await expiredReservation(poor, performanceId, seatIds.slice(4, 6));

    expect(await stockOf(orm, productId)).toBe(6);
    expect(await balanceOf(orm, buyer)).toBe(50_000 - 3_000 - 20_000);
    const report = await check({ productIds: [productId], userIds: [buyer, poor], performanceIds: [performanceId] });
    await expectOk(report);
    expect(report.checks.map((c) => [c.name, c.passed, c.skipped])).toEqual([
      ['stock-conservation', true, undefined],
      ['stock-lines-match-orders', true, undefined],
      ['point-conservation', true, undefined],
      ['payments-belong-to-live-or-confirmed-sagas', true, undefined],
      ['closed-sagas-have-no-effects', true, undefined],
      ['confirmed-sagas-are-complete', true, undefined],
      ['seats-have-one-live-holder', true, undefined],
      ['data-platform-delivery', true, undefined],
    ]);
    expect(report.checks.flatMap((c) => c.notes)).toEqual([]);
  });

  it('skips only the delivery check when no events are given', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    await confirmedOrder(userId, productId, 1);
    const report = await check({ productIds: [productId] }, {});
    expect(report.ok).toBe(true);
    expect(report.checks.filter((c) => c.skipped).map((c) => c.name)).toEqual(['data-platform-delivery']);
  });
});

describe('checkInvariants detects planted violations', () => {
  it('stock changed behind its back breaks stock conservation of that product only', async () => {
    const productId = await createProduct(orm, 10);
    const other = await createProduct(orm, 10);
    const userId = await createUser(orm, 10_000);
    await confirmedOrder(userId, productId, 2);
    await sql('update products set stock = stock + 1 where id = ?', [productId]);
    try {
      const report = await check({ productIds: [productId, other] });
      expect(report.ok).toBe(false);
      expect(violationsOf(report, 'stock-conservation')).toEqual([
        expect.objectContaining({ ids: { productId }, expected: 'initial_stock 10', found: expect.stringContaining('stock 9 + reserved 0 + committed 2') }),
      ]);
      expect((await check({ productIds: [other] })).ok).toBe(true);
    } finally {
      await sql('update products set stock = stock - 1 where id = ?', [productId]);
    }
    await expectOk(await check({ productIds: [productId] }));
  });

  it('a PAYMENT left on a CANCELLED order is an effect of a closed saga and a payment without a live saga', async () => {
    const productId = await createProduct(orm, 1);
    const userId = await createUser(orm, 10_000);
    const order = await outOfStockOrder(userId, productId, 2);
    await expectOk(await check({ userIds: [userId] }));
    // Planted with its balance change, so point conservation still holds: only the stray payment is wrong.
    await sql(
      `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
       values (?, 'PAYMENT', 2000, ?, ?, now())`,
      [userId, order.workflowId, stepKey(order.workflowId, 'pay')],
    );
    await sql('update point_accounts set balance_points = balance_points - 2000 where user_id = ?', [userId]);
    try {
      const report = await check({ userIds: [userId] });
      expect(report.ok).toBe(false);
      expect(violationsOf(report, 'closed-sagas-have-no-effects')).toEqual([
        expect.objectContaining({ ids: expect.objectContaining({ orderId: order.orderId, userId }), found: 'no refund' }),
      ]);
      expect(violationsOf(report, 'payments-belong-to-live-or-confirmed-sagas')).toEqual([
        expect.objectContaining({ ids: expect.objectContaining({ orderId: order.orderId, reference: order.workflowId }) }),
      ]);
      expect(violationsOf(report, 'point-conservation')).toEqual([]);
    } finally {
      await sql(`delete from point_ledger where reference = ? and kind = 'PAYMENT'`, [order.workflowId]);
      await sql('update point_accounts set balance_points = balance_points + 2000 where user_id = ?', [userId]);
    }
    await expectOk(await check({ userIds: [userId] }));
  });

  it('a balance changed behind its back breaks point conservation of that user', async () => {
    const userId = await createUser(orm, 10_000);
    await sql('update point_accounts set balance_points = balance_points + 5 where user_id = ?', [userId]);
    try {
      const report = await check({ userIds: [userId] });
      expect(violationsOf(report, 'point-conservation')).toEqual([
        expect.objectContaining({ ids: { userId }, found: 'balance 10005', expected: expect.stringContaining('balance 10000') }),
      ]);
    } finally {
      await sql('update point_accounts set balance_points = balance_points - 5 where user_id = ?', [userId]);
    }
  });

  it('a seat HELD by an EXPIRED reservation is reported with the seat and the reservation', async () => {
    const { performanceId, seatIds } = await createPerformance(orm, 3);
    const userId = await createUser(orm, 0);
    const expired = await expiredReservation(userId, performanceId, seatIds.slice(0, 2));
    await expectOk(await check({ performanceIds: [performanceId] }));
    await sql(
      `update seats set status = 'HELD', reservation_id = ?, hold_expires_at = now() + interval '1 hour' where id = ?`,
      [expired.reservationId, seatIds[1]],
    );
    try {
      const report = await check({ performanceIds: [performanceId] });
      expect(report.ok).toBe(false);
      expect(violationsOf(report, 'seats-have-one-live-holder')).toEqual([
        expect.objectContaining({ ids: { seatId: seatIds[1], reservationId: expired.reservationId }, found: 'reservation EXPIRED' }),
      ]);
      expect(violationsOf(report, 'closed-sagas-have-no-effects')).toEqual([
        expect.objectContaining({ ids: { reservationId: expired.reservationId, seatId: seatIds[1] } }),
      ]);
    } finally {
      await sql(`update seats set status = 'AVAILABLE', reservation_id = null, hold_expires_at = null where id = ?`, [seatIds[1]]);
    }
  });

  it('a CONFIRMED reservation whose seat was given back is incomplete', async () => {
    const { performanceId, seatIds } = await createPerformance(orm, 2);
    const userId = await createUser(orm, 100_000);
    const r = await confirmedReservation(userId, performanceId, seatIds);
    await sql(`update seats set status = 'AVAILABLE', reservation_id = null, hold_expires_at = null where id = ?`, [seatIds[0]]);
    const report = await check({ reservationIds: [r.reservationId] });
    expect(violationsOf(report, 'confirmed-sagas-are-complete')).toEqual([
      expect.objectContaining({ ids: { reservationId: r.reservationId, seatIds: [seatIds[0]] } }),
    ]);
    await sql(`update seats set status = 'RESERVED', reservation_id = ? where id = ?`, [r.reservationId, seatIds[0]]);
    await expectOk(await check({ reservationIds: [r.reservationId] }));
  });

  it('a CONFIRMED order whose event the data platform never received is missing, unless in flight', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    const order = await confirmedOrder(userId, productId, 1);
    const eventId = confirmedEventId(order.workflowId);

    const missing = await check({ orderIds: [order.orderId] }, { receivedEvents: events([eventId]) });
    expect(missing.ok).toBe(false);
    expect(violationsOf(missing, 'data-platform-delivery')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, eventId }, found: 'not received (delivery DELIVERED after 1 attempt)' }),
    ]);

    // A delivery still being retried is in flight, reported as a note when allowed.
    await sql(`update data_platform_deliveries set status = 'PENDING', delivered_at = null where event_id = ?`, [eventId]);
    const strict = await check({ orderIds: [order.orderId] }, { receivedEvents: events([eventId]) });
    expect(violationsOf(strict, 'data-platform-delivery')).toHaveLength(1);
    const lenient = await check({ orderIds: [order.orderId] }, { receivedEvents: events([eventId]), allowInFlight: true });
    expect(lenient.ok).toBe(true);
    expect(notesOf(lenient, 'data-platform-delivery')).toEqual([expect.objectContaining({ kind: 'in-flight', ids: { orderId: order.orderId, eventId } })]);
    await sql(`update data_platform_deliveries set status = 'DELIVERED', delivered_at = now() where event_id = ?`, [eventId]);

    const withIds = await check({ orderIds: [order.orderId] }, { deliveredEventIds: new Set([eventId]) });
    await expectOk(withIds);
  });

  it('an event received twice, or for a saga that is not CONFIRMED, is reported', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    const confirmed = await confirmedOrder(userId, productId, 1);
    const cancelled = await outOfStockOrder(userId, productId, 50);
    const twice = confirmedEventId(confirmed.workflowId);
    const stray = confirmedEventId(cancelled.workflowId);
    const report = await check(
      { userIds: [userId] },
      { receivedEvents: [...events(), { eventId: twice, attempts: 2 }, { eventId: stray, attempts: 1 }] },
    );
    expect(violationsOf(report, 'data-platform-delivery')).toEqual([
      expect.objectContaining({ ids: { orderId: confirmed.orderId, eventId: twice }, found: 'received 2 times' }),
      expect.objectContaining({ ids: { orderId: cancelled.orderId, eventId: stray }, found: 'order CANCELLED' }),
    ]);
  });

  it('stock left RESERVED by a COMPENSATION_FAILED order needs an operator but is not a violation', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    const order = await newOrder(userId, productId, 2);
    await acts.reserveStock({ orderId: order.orderId });
    await acts.markOrderCompensationFailed({ orderId: order.orderId, reason: 'CompensationFailed', message: 'release failed for good' });
    const report = await check({ productIds: [productId] });
    await expectOk(report);
    expect(notesOf(report, 'stock-lines-match-orders')).toEqual([
      expect.objectContaining({ kind: 'needs-operator', ids: { orderId: order.orderId, productId } }),
    ]);
    // The same units on a CANCELLED order are a leftover effect.
    await sql(`update orders set status = 'CANCELLED' where id = ?`, [order.orderId]);
    const cancelled = await check({ productIds: [productId] });
    expect(violationsOf(cancelled, 'stock-lines-match-orders')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, productId }, found: 'order CANCELLED with 2 units RESERVED' }),
    ]);
    expect(violationsOf(cancelled, 'closed-sagas-have-no-effects')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, productId } }),
    ]);
    await sql(`update orders set status = 'COMPENSATION_FAILED' where id = ?`, [order.orderId]);
  });
});
