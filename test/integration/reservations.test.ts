/**
 * The seat reservation saga on a real Temporal dev server and PostgreSQL, driven through
 * the Temporal client as the API drives it (update-with-start, pay Update, cancel Signal).
 * Holds are short (2 s) where expiry is the subject.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { reservationWorkflowId } from '../../common/ids.ts';
import { payReservationUpdate, cancelReservationSignal, type HoldOutcome } from '../../common/reservations.ts';
import { createActivities } from '../../activities/index.ts';
import { balanceOf, createPerformance, createUser, ledgerOf, seatStates } from '../helpers/db.ts';
import { holdSeats, refusalType, reservationInput } from '../helpers/reservations.ts';
import { closeStack, startStack, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(() => closeStack(stack));

afterEach(() => {
  stack.dataPlatform.updateSettings({ down: false });
});

function reserve(userId: number, performanceId: number, seatIds: number[], holdMs = 60_000): Promise<HoldOutcome> {
  return holdSeats(stack, reservationInput(userId, performanceId, seatIds, holdMs));
}

function handleOf(reservationId: string) {
  return stack.env.client.workflow.getHandle(reservationWorkflowId(reservationId));
}

function pay(reservationId: string) {
  return handleOf(reservationId).executeUpdate(payReservationUpdate);
}

/** The events of `eventId` the data platform has received. */
function received(eventId: string) {
  return stack.dataPlatform.events().filter((e) => e.eventId === eventId);
}

function statuses(states: { status: string }[]): string[] {
  return states.map((s) => s.status);
}

describe('seat reservation saga', () => {
  it('holds, takes payment and confirms; the event reaches the data platform once', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 3, 10_000);
    const userId = await createUser(stack.orm, 50_000);

    const hold = await reserve(userId, performanceId, seatIds.slice(0, 2));
    expect(hold).toMatchObject({ status: 'PENDING', totalWon: 20_000 });
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['HELD', 'HELD', 'AVAILABLE']);

    const paid = await pay(hold.reservationId);
    expect(paid).toEqual({ reservationId: hold.reservationId, status: 'CONFIRMED', totalWon: 20_000, paidPoints: 20_000 });
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['RESERVED', 'RESERVED', 'AVAILABLE']);
    expect(await balanceOf(stack.orm, userId)).toBe(30_000);
    expect(await handleOf(hold.reservationId).result()).toEqual({ reservationId: hold.reservationId, status: 'CONFIRMED' });
    const eventId = `${reservationWorkflowId(hold.reservationId)}:confirmed`;
    await pollUntil('the event at the data platform', () => received(eventId).length > 0);
    expect(received(eventId)).toHaveLength(1);
  });

  it('lets exactly one of two racing holds on overlapping seats win; the loser holds nothing', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 3);
    const [alice, bob] = [await createUser(stack.orm, 0), await createUser(stack.orm, 0)];

    const [a, b] = await Promise.all([reserve(alice, performanceId, seatIds.slice(0, 2)), reserve(bob, performanceId, seatIds.slice(1, 3))]);

    const winners = [a, b].filter((h) => h.status === 'PENDING');
    const loser = [a, b].find((h) => h.status !== 'PENDING')!;
    expect(winners).toHaveLength(1);
    expect(loser).toMatchObject({ status: 'CANCELLED', reason: 'SeatUnavailable', unavailableSeatIds: [seatIds[1]] });
    const states = await seatStates(stack.orm, seatIds);
    expect(states.filter((s) => s.reservationId === loser.reservationId)).toEqual([]);
    expect(states.filter((s) => s.reservationId === winners[0]!.reservationId).map((s) => s.status)).toEqual(['HELD', 'HELD']);
  });

  it('expires an unpaid hold: seats AVAILABLE again, payment refused afterwards', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const userId = await createUser(stack.orm, 50_000);

    const hold = await reserve(userId, performanceId, seatIds, 2_000);
    expect(await handleOf(hold.reservationId).result()).toEqual({ reservationId: hold.reservationId, status: 'EXPIRED' });

    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await refusalType(pay(hold.reservationId))).toBeDefined();
    expect(await balanceOf(stack.orm, userId)).toBe(50_000);
  });

  it('cancels on the signal: seats released, nothing charged', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const userId = await createUser(stack.orm, 50_000);

    const hold = await reserve(userId, performanceId, seatIds);
    await handleOf(hold.reservationId).signal(cancelReservationSignal);

    expect(await handleOf(hold.reservationId).result()).toEqual({ reservationId: hold.reservationId, status: 'CANCELLED' });
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await balanceOf(stack.orm, userId)).toBe(50_000);
  });

  it('treats a cancellation of the workflow itself (an operator) like the cancel signal', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1);
    const userId = await createUser(stack.orm, 0);

    const hold = await reserve(userId, performanceId, seatIds);
    await handleOf(hold.reservationId).cancel();

    expect(await handleOf(hold.reservationId).result()).toEqual({ reservationId: hold.reservationId, status: 'CANCELLED' });
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['AVAILABLE']);
  });

  it('keeps the hold on insufficient points; after a top-up the payment confirms and charges once', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1, 10_000);
    const userId = await createUser(stack.orm, 4_000);

    const hold = await reserve(userId, performanceId, seatIds);
    expect(await refusalType(pay(hold.reservationId))).toBe('InsufficientPoints');
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['HELD']);

    await createActivities({ orm: stack.orm, dataPlatform: { send: async () => ({ status: 201, duplicate: false }) } }).topUpPoints({
      topUpId: randomUUID(),
      userId,
      amountPoints: 6_000,
    });
    expect((await pay(hold.reservationId)).status).toBe('CONFIRMED');
    expect(await balanceOf(stack.orm, userId)).toBe(0);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind === 'PAYMENT')).toHaveLength(1);
  });

  it('charges once for two concurrent payments', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2, 10_000);
    const userId = await createUser(stack.orm, 100_000);

    const hold = await reserve(userId, performanceId, seatIds);
    const results = await Promise.all([pay(hold.reservationId), pay(hold.reservationId)]);

    expect(results.map((r) => r.status)).toEqual(['CONFIRMED', 'CONFIRMED']);
    expect(await balanceOf(stack.orm, userId)).toBe(80_000);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind === 'PAYMENT')).toHaveLength(1);
  });

  it('releases the seats of a hold that expired while no worker ran, once a worker is back', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const userId = await createUser(stack.orm, 0);

    const hold = await reserve(userId, performanceId, seatIds, 2_000);
    await stack.stopWorker();
    await waitUntilPast(hold.holdExpiresAt);
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['HELD', 'HELD']);

    await stack.startWorker();
    expect(await handleOf(hold.reservationId).result()).toEqual({ reservationId: hold.reservationId, status: 'EXPIRED' });
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['AVAILABLE', 'AVAILABLE']);
  });

  it('confirms at once while the data platform is down and delivers the event once after recovery', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1, 10_000);
    const userId = await createUser(stack.orm, 10_000);
    stack.dataPlatform.updateSettings({ down: true });

    const hold = await reserve(userId, performanceId, seatIds);
    expect((await pay(hold.reservationId)).status).toBe('CONFIRMED');
    const eventId = `${reservationWorkflowId(hold.reservationId)}:confirmed`;
    // The saga ends at its pivot: the outbox keeps the event while the platform is down.
    expect(await handleOf(hold.reservationId).result()).toEqual({ reservationId: hold.reservationId, status: 'CONFIRMED' });
    await pollUntil('two delivery attempts', async () => (await deliveryAttempts(eventId)) >= 2);
    expect(received(eventId)).toEqual([]);

    stack.dataPlatform.updateSettings({ down: false });
    await pollUntil('the event at the data platform', () => received(eventId).length > 0);
    expect(received(eventId)).toHaveLength(1);
    expect(statuses(await seatStates(stack.orm, seatIds))).toEqual(['RESERVED']);
  });
});

describe('expired holds taken over before their release', () => {
  it('lets a new reservation hold seats whose hold expired; the late release leaves it alone', async () => {
    const acts = createActivities({ orm: stack.orm, dataPlatform: { send: async () => ({ status: 201, duplicate: false }) } });
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const userId = await createUser(stack.orm, 0);
    const base = { userId, performanceId, seatIds, requestHash: 'test' };
    const old = randomUUID();
    const next = randomUUID();
    await acts.createReservation({ ...base, reservationId: old, workflowId: reservationWorkflowId(old), holdExpiresAt: new Date(Date.now() - 1_000).toISOString() });
    await acts.holdSeats({ reservationId: old });
    await acts.createReservation({ ...base, reservationId: next, workflowId: reservationWorkflowId(next), holdExpiresAt: new Date(Date.now() + 60_000).toISOString() });

    await acts.holdSeats({ reservationId: next });
    const late = await acts.releaseSeats({ reservationId: old });

    expect(late.releasedSeatIds).toEqual([]);
    expect(await seatStates(stack.orm, seatIds)).toEqual(seatIds.map((id) => ({ id, status: 'HELD', reservationId: next })));
  });
});

async function waitUntilPast(iso: string): Promise<void> {
  // The subject here is the passage of time itself: wait until the hold's expiry is past.
  const ms = new Date(iso).getTime() - Date.now() + 200;
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

async function deliveryAttempts(eventId: string): Promise<number> {
  const rows = await stack.orm.em.fork().execute<{ attempts: number }[]>('select attempts from data_platform_deliveries where event_id = ?', [eventId]);
  return rows[0]?.attempts ?? 0;
}
