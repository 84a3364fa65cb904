/**
 * The transactional outbox written by the pivots (activities/pivots.ts): a confirmed
 * order or reservation has exactly one outbox row (`data_platform_deliveries`), written
 * in the pivot's transaction with the event's exact payload; a retried pivot writes no
 * second row; a saga that never confirms writes none; and a saga started now ends at its
 * pivot, without the `notifyDataPlatform` activity (the relay delivers the event).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createActivities, type Activities } from '../../activities/index.ts';
import { orderWorkflowId, reservationWorkflowId, stepKey } from '../../common/ids.ts';
import { SAGA_ONE_UPSERT_PATCH } from '../../common/saga.ts';
import { payReservationUpdate, reservationCancelUpdate } from '../../common/reservations.ts';
import { createPerformance, createProduct, createUser } from '../helpers/db.ts';
import { holdSeats, reservationInput } from '../helpers/reservations.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

let stack: TestStack;
let acts: Activities;

beforeAll(async () => {
  stack = await startStack();
  acts = createActivities({ orm: stack.orm, dataPlatform: { send: async () => ({ status: 201, duplicate: false }) } });
});

afterAll(() => closeStack(stack));

/** An outbox row as the tests read it; `occurredAt` and `createdAt` as ISO text. */
interface OutboxRow {
  event_id: string;
  event_type: string;
  status: string;
  payload: Record<string, unknown>;
  occurred_at: string;
  created_at: string;
}

/** Every outbox row of saga `sagaId` (a workflow id). */
function outboxRowsOf(sagaId: string): Promise<OutboxRow[]> {
  return stack.orm.em.fork().execute<OutboxRow[]>(
    `select event_id, event_type, status, payload, occurred_at::text, created_at::text from data_platform_deliveries where saga_id = ? order by event_id`,
    [sagaId],
  );
}

/** The instant saga row `table`.`id` was confirmed, as text, to compare with the event's `occurred_at`. */
async function confirmedAt(table: 'orders' | 'reservations', id: string): Promise<string> {
  const [row] = await stack.orm.em.fork().execute<{ at: string }[]>(`select confirmed_at::text as at from ${table} where id = ?`, [id]);
  return row!.at;
}

/** The ids of the patches a history's markers record (`core_patch`, a JSON payload `{ id, deprecated }`). */
function patchIds(events: { markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null }[]): string[] {
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

describe('the pivots write the outbox', () => {
  it('writes one PENDING-or-delivered order.confirmed row with the exact payload, in the confirming transaction', async () => {
    const [cheap, dear] = [await createProduct(stack.orm, 10, 1_000), await createProduct(stack.orm, 10, 2_500)];
    const userId = await createUser(stack.orm, 100_000);
    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId: dear, quantity: 2 }, { productId: cheap, quantity: 3 }] });
    expect(res.status).toBe(201);
    const { orderId } = res.body;
    const workflowId = orderWorkflowId(orderId);

    const rows = await outboxRowsOf(workflowId);
    expect(rows.map(({ event_id, event_type }) => ({ event_id, event_type }))).toEqual([{ event_id: `${workflowId}:confirmed`, event_type: 'order.confirmed' }]);
    const payload = {
      orderId,
      userId,
      subtotalWon: 8_000,
      discountWon: 0,
      couponId: null,
      totalWon: 8_000,
      lines: [
        { productId: cheap, quantity: 3, unitPriceWon: 1_000 },
        { productId: dear, quantity: 2, unitPriceWon: 2_500 },
      ].sort((a, b) => a.productId - b.productId),
    };
    expect(rows[0]!.payload).toEqual(payload);
    // now() of the pivot's transaction: the event occurred when the order was confirmed.
    expect(rows[0]!.occurred_at).toBe(await confirmedAt('orders', orderId));

    await pollUntil('the event at the data platform', () => stack.dataPlatform.events().some((e) => e.eventId === `${workflowId}:confirmed`));
    const received = stack.dataPlatform.events().filter((e) => e.eventId === `${workflowId}:confirmed`);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ type: 'order.confirmed', payload });
  });

  it('writes one reservation.confirmed row with the exact payload when the payment confirms', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 3, 10_000);
    const userId = await createUser(stack.orm, 50_000);
    const hold = await holdSeats(stack, reservationInput(userId, performanceId, seatIds.slice(0, 2), 60_000));
    const workflowId = reservationWorkflowId(hold.reservationId);
    expect(await outboxRowsOf(workflowId)).toEqual([]);

    await stack.env.client.workflow.getHandle(workflowId).executeUpdate(payReservationUpdate);

    const rows = await outboxRowsOf(workflowId);
    expect(rows.map(({ event_id, event_type }) => ({ event_id, event_type }))).toEqual([
      { event_id: `${workflowId}:confirmed`, event_type: 'reservation.confirmed' },
    ]);
    expect(rows[0]!.payload).toEqual({ reservationId: hold.reservationId, userId, performanceId, seatIds: seatIds.slice(0, 2), totalWon: 20_000 });
    expect(rows[0]!.occurred_at).toBe(await confirmedAt('reservations', hold.reservationId));
  });

  it('writes no second row when the pivot runs again, concurrently or after it committed', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const userId = await createUser(stack.orm, 10_000);
    const orderId = randomUUID();
    const workflowId = `outbox-test-${orderId}`;
    await acts.createOrder({ orderId, userId, items: [{ productId, quantity: 2 }], workflowId, requestHash: 'test' });
    await acts.reserveStock({ orderId, lines: [{ productId, quantity: 2 }] });
    await acts.payWithPoints({ userId, amountPoints: 2_000, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });

    const both = await Promise.all([acts.confirmOrder({ orderId }), acts.confirmOrder({ orderId })]);
    expect(both).toEqual([{ orderId, status: 'CONFIRMED' }, { orderId, status: 'CONFIRMED' }]);
    const [first] = await outboxRowsOf(workflowId);
    expect(first).toMatchObject({ event_id: `${workflowId}:confirmed`, event_type: 'order.confirmed' });

    expect(await acts.confirmOrder({ orderId })).toEqual({ orderId, status: 'CONFIRMED' });
    const after = await outboxRowsOf(workflowId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ event_id: first!.event_id, occurred_at: first!.occurred_at, created_at: first!.created_at, payload: first!.payload });
  });

  it('writes no row for sagas that never confirm', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const poor = await createUser(stack.orm, 999);
    const refused = await callApi(stack, 'POST', '/orders', { userId: poor, items: [{ productId, quantity: 1 }] });
    expect(refused.status).toBe(422);
    const orderSaga = orderWorkflowId(refused.body.order.orderId);
    await stack.env.client.workflow.getHandle(orderSaga).result();

    const { performanceId, seatIds } = await createPerformance(stack.orm, 1, 10_000);
    const hold = await holdSeats(stack, reservationInput(await createUser(stack.orm, 0), performanceId, seatIds, 60_000));
    const reservationSaga = reservationWorkflowId(hold.reservationId);
    await stack.env.client.workflow.getHandle(reservationSaga).executeUpdate(reservationCancelUpdate);
    expect(await stack.env.client.workflow.getHandle(reservationSaga).result()).toMatchObject({ status: 'CANCELLED' });

    expect(await outboxRowsOf(orderSaga)).toEqual([]);
    expect(await outboxRowsOf(reservationSaga)).toEqual([]);
  });
});

describe('a saga started now ends at its pivot', () => {
  it('runs a confirmed order in one workflow task, with the outbox patch marker and no notifyDataPlatform', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const userId = await createUser(stack.orm, 10_000);
    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] });
    expect(res.status).toBe(201);
    const handle = stack.env.client.workflow.getHandle(orderWorkflowId(res.body.orderId));
    expect(await handle.result()).toMatchObject({ status: 'CONFIRMED' });

    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
    expect(scheduled).not.toContain('notifyDataPlatform');
    // The outbox is part of the shape of patch SAGA_ONE_UPSERT_PATCH (outbox-after-pivot has no marker of its own from it on).
    expect(patchIds(events)).toContain(SAGA_ONE_UPSERT_PATCH);
    expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
    const view = await callApi(stack, 'GET', `/orders/${res.body.orderId}`);
    expect(view.body.saga).toMatchObject({ status: 'CONFIRMED', notification: 'OUTBOX' });
  });

  it('ends a confirmed reservation after its pivot, with no notifyDataPlatform', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1, 10_000);
    const userId = await createUser(stack.orm, 10_000);
    const hold = await holdSeats(stack, reservationInput(userId, performanceId, seatIds, 60_000));
    const handle = stack.env.client.workflow.getHandle(reservationWorkflowId(hold.reservationId));
    await handle.executeUpdate(payReservationUpdate);
    expect(await handle.result()).toEqual({ reservationId: hold.reservationId, status: 'CONFIRMED' });

    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
    expect(scheduled).toEqual(['createReservation', 'holdSeats', 'payWithPoints', 'confirmReservation']);
  });
});
