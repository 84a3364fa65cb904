/**
 * The reservation flow over HTTP, as the README's curl shows it: hold, refused payment,
 * top-up, payment, cancellation and expiry, against the real stack.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { reservationWorkflowId } from '../../common/ids.ts';
import { balanceOf, createPerformance, createUser, seatStates } from '../helpers/db.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(() => closeStack(stack));

describe('reservations over HTTP', () => {
  it('holds seats, refuses a payment without points (hold kept), then confirms after a top-up', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 3, 10_000);
    const userId = await createUser(stack.orm, 5_000);

    const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds: seatIds.slice(0, 2), holdSeconds: 60 });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({ status: 'PENDING', totalWon: 20_000, seatIds: seatIds.slice(0, 2) });
    const id = held.body.reservationId;

    const other = await createUser(stack.orm, 0);
    const taken = await callApi(stack, 'POST', '/reservations', { userId: other, performanceId, seatIds: seatIds.slice(1, 3) });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'SeatUnavailable', seatIds: [seatIds[1]] });

    const refused = await callApi(stack, 'POST', `/reservations/${id}/payment`);
    expect(refused.status).toBe(402);
    expect(refused.body.code).toBe('InsufficientPoints');
    const map = await callApi(stack, 'GET', `/performances/${performanceId}/seats`);
    expect(map.body.seats.map((s: { status: string }) => s.status)).toEqual(['HELD', 'HELD', 'AVAILABLE']);

    const topUp = await callApi(stack, 'POST', `/users/${userId}/points/top-ups`, { amount: 15_000 });
    expect(topUp.status).toBe(201);
    const paid = await callApi(stack, 'POST', `/reservations/${id}/payment`);
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('CONFIRMED');
    expect(await balanceOf(stack.orm, userId)).toBe(0);

    const again = await callApi(stack, 'POST', `/reservations/${id}/payment`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AlreadyConfirmed');
    expect(await balanceOf(stack.orm, userId)).toBe(0);
  });

  it('cancels with DELETE (idempotently) and releases the seats', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const userId = await createUser(stack.orm, 0);
    const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds });
    const id = held.body.reservationId;

    // The cancel Update waits for the saga to close the reservation (within ORDER_OUTCOME_WAIT_MS).
    const cancelled = await callApi(stack, 'DELETE', `/reservations/${id}`);
    expect([cancelled.status, cancelled.body.status]).toEqual([200, 'CANCELLED']);
    await stack.env.client.workflow.getHandle(reservationWorkflowId(id)).result();

    const repeat = await callApi(stack, 'DELETE', `/reservations/${id}`);
    expect(repeat.status).toBe(200);
    expect(repeat.body.status).toBe('CANCELLED');
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['AVAILABLE', 'AVAILABLE']);
    const pay = await callApi(stack, 'POST', `/reservations/${id}/payment`);
    expect(pay.status).toBe(409);
    expect(pay.body.code).toBe('ReservationCancelled');
  });

  it('answers 410 to a payment after the hold expired, with the seats AVAILABLE', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1);
    const userId = await createUser(stack.orm, 100_000);
    const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds, holdSeconds: 2 });
    const id = held.body.reservationId;
    await stack.env.client.workflow.getHandle(reservationWorkflowId(id)).result();

    const late = await callApi(stack, 'POST', `/reservations/${id}/payment`);
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('HoldExpired');
    const view = await callApi(stack, 'GET', `/reservations/${id}`);
    expect(view.body).toMatchObject({ status: 'EXPIRED', reason: 'HoldExpired' });
    expect((await seatStates(stack.orm, seatIds))[0]!.status).toBe('AVAILABLE');
    expect(await balanceOf(stack.orm, userId)).toBe(100_000);
  });
});
