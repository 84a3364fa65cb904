/**
 * The invariant checker against PostgreSQL, saga side: it detects seats held by closed
 * reservations, incomplete confirmed sagas, data-platform events missing, repeated or
 * stray, and tells an operator about effects a COMPENSATION_FAILED saga left, naming the
 * rows involved. Every check is scoped to this suite's rows, since other suites write to
 * the same database. Conservation and clean runs: invariants.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { confirmedEventId } from '../../common/ids.ts';
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

describe('checkInvariants detects planted saga-state violations', () => {
  it('a seat HELD by an EXPIRED reservation is reported with the seat and the reservation', async () => {
    const { performanceId, seatIds } = await createPerformance(orm, 3);
    const userId = await createUser(orm, 0);
    const expired = await sagas.expiredReservation(userId, performanceId, seatIds.slice(0, 2));
    await expectOk(await sagas.check({ performanceIds: [performanceId] }));
    await sagas.sql(
      `update seats set status = 'HELD', reservation_id = ?, hold_expires_at = now() + interval '1 hour' where id = ?`,
      [expired.reservationId, seatIds[1]],
    );
    try {
      const report = await sagas.check({ performanceIds: [performanceId] });
      expect(report.ok).toBe(false);
      expect(violationsOf(report, 'seats-have-one-live-holder')).toEqual([
        expect.objectContaining({ ids: { seatId: seatIds[1], reservationId: expired.reservationId }, found: 'reservation EXPIRED' }),
      ]);
      expect(violationsOf(report, 'closed-sagas-have-no-effects')).toEqual([
        expect.objectContaining({ ids: { reservationId: expired.reservationId, seatId: seatIds[1] } }),
      ]);
    } finally {
      await sagas.sql(`update seats set status = 'AVAILABLE', reservation_id = null, hold_expires_at = null where id = ?`, [seatIds[1]]);
    }
  });

  it('a CONFIRMED reservation whose seat was given back is incomplete', async () => {
    const { performanceId, seatIds } = await createPerformance(orm, 2);
    const userId = await createUser(orm, 100_000);
    const r = await sagas.confirmedReservation(userId, performanceId, seatIds);
    await sagas.sql(`update seats set status = 'AVAILABLE', reservation_id = null, hold_expires_at = null where id = ?`, [seatIds[0]]);
    const report = await sagas.check({ reservationIds: [r.reservationId] });
    expect(violationsOf(report, 'confirmed-sagas-are-complete')).toEqual([
      expect.objectContaining({ ids: { reservationId: r.reservationId, seatIds: [seatIds[0]] } }),
    ]);
    await sagas.sql(`update seats set status = 'RESERVED', reservation_id = ? where id = ?`, [r.reservationId, seatIds[0]]);
    await expectOk(await sagas.check({ reservationIds: [r.reservationId] }));
  });

  it('stock left RESERVED by a COMPENSATION_FAILED order needs an operator but is not a violation', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    const order = await sagas.newOrder(userId, productId, 2);
    await sagas.acts.reserveStock({ orderId: order.orderId });
    await sagas.acts.markOrderCompensationFailed({ orderId: order.orderId, reason: 'CompensationFailed', message: 'release failed for good' });
    const report = await sagas.check({ productIds: [productId] });
    await expectOk(report);
    expect(notesOf(report, 'stock-lines-match-orders')).toEqual([
      expect.objectContaining({ kind: 'needs-operator', ids: { orderId: order.orderId, productId } }),
    ]);
    // The same units on a CANCELLED order are a leftover effect.
    await sagas.sql(`update orders set status = 'CANCELLED' where id = ?`, [order.orderId]);
    const cancelled = await sagas.check({ productIds: [productId] });
    expect(violationsOf(cancelled, 'stock-lines-match-orders')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, productId }, found: 'order CANCELLED with 2 units RESERVED' }),
    ]);
    expect(violationsOf(cancelled, 'closed-sagas-have-no-effects')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, productId } }),
    ]);
    await sagas.sql(`update orders set status = 'COMPENSATION_FAILED' where id = ?`, [order.orderId]);
  });
});

describe('checkInvariants detects planted data-platform delivery violations', () => {
  it('a CONFIRMED order whose event the data platform never received is missing, unless in flight', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    const order = await sagas.confirmedOrder(userId, productId, 1);
    const eventId = confirmedEventId(order.workflowId);

    const missing = await sagas.check({ orderIds: [order.orderId] }, { receivedEvents: sagas.events([eventId]) });
    expect(missing.ok).toBe(false);
    expect(violationsOf(missing, 'data-platform-delivery')).toEqual([
      expect.objectContaining({ ids: { orderId: order.orderId, eventId }, found: 'not received (delivery DELIVERED after 1 attempt)' }),
    ]);

    // A delivery still being retried is in flight, reported as a note when allowed.
    await sagas.sql(`update data_platform_deliveries set status = 'PENDING', delivered_at = null where event_id = ?`, [eventId]);
    const strict = await sagas.check({ orderIds: [order.orderId] }, { receivedEvents: sagas.events([eventId]) });
    expect(violationsOf(strict, 'data-platform-delivery')).toHaveLength(1);
    const lenient = await sagas.check({ orderIds: [order.orderId] }, { receivedEvents: sagas.events([eventId]), allowInFlight: true });
    expect(lenient.ok).toBe(true);
    expect(notesOf(lenient, 'data-platform-delivery')).toEqual([expect.objectContaining({ kind: 'in-flight', ids: { orderId: order.orderId, eventId } })]);
    await sagas.sql(`update data_platform_deliveries set status = 'DELIVERED', delivered_at = now() where event_id = ?`, [eventId]);

    const withIds = await sagas.check({ orderIds: [order.orderId] }, { deliveredEventIds: new Set([eventId]) });
    await expectOk(withIds);
  });

  it('an event received twice, or for a saga that is not CONFIRMED, is reported', async () => {
    const productId = await createProduct(orm, 5);
    const userId = await createUser(orm, 10_000);
    const confirmed = await sagas.confirmedOrder(userId, productId, 1);
    const cancelled = await sagas.outOfStockOrder(userId, productId, 50);
    const twice = confirmedEventId(confirmed.workflowId);
    const stray = confirmedEventId(cancelled.workflowId);
    const report = await sagas.check(
      { userIds: [userId] },
      { receivedEvents: [...sagas.events(), { eventId: twice, attempts: 2 }, { eventId: stray, attempts: 1 }] },
    );
    expect(violationsOf(report, 'data-platform-delivery')).toEqual([
      expect.objectContaining({ ids: { orderId: confirmed.orderId, eventId: twice }, found: 'received 2 times' }),
      expect.objectContaining({ ids: { orderId: cancelled.orderId, eventId: stray }, found: 'order CANCELLED' }),
    ]);
  });
});
