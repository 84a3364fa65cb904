/**
 * Limits and ids scoped to the caller, through the HTTP API on the whole stack (issue 13,
 * items 4 and 5): the same Idempotency-Key from two users gives two orders and from one
 * user one (sent concurrently); the per-user hold caps refuse a hold past them with 409
 * `HoldLimitExceeded` before anything starts, and, when two requests race for the last
 * slot past the API's check, `createReservation` lets exactly one through; the per-caller
 * rate limit of writes answers 429 `RateLimited` with `Retry-After`, for that caller only
 * and for writes only.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { reservationWorkflowId } from '../../common/ids.ts';
import { reservationIdFor } from '../../api/idempotency.ts';
import { createPerformance, createProduct, createUser } from '../helpers/db.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

const MAX_HOLDS = 2;
const MAX_SEATS = 3;
const WRITES_PER_MINUTE = 6;

let stack: TestStack;
/** Users whose createReservation waits until two of theirs have arrived (the race test). */
const racing = new Map<number, { arrived: number; release: () => void; both: Promise<void> }>();

beforeAll(async () => {
  stack = await startStack({
    env: {
      RESERVATION_MAX_LIVE_HOLDS: String(MAX_HOLDS),
      RESERVATION_MAX_HELD_SEATS: String(MAX_SEATS),
      RATE_LIMIT_WRITES_PER_MINUTE: String(WRITES_PER_MINUTE),
      ORDER_OUTCOME_WAIT_MS: '30000',
    },
    activityOverrides: (real) => ({
      async createReservation(input) {
        const race = racing.get(input.userId);
        if (race) {
          race.arrived += 1;
          if (race.arrived === 2) race.release();
          await race.both;
        }
        return real.createReservation(input);
      },
    }),
  });
});

afterAll(async () => {
  await closeStack(stack);
});

function reserve(userId: number, performanceId: number, seatIds: number[], key: string = randomUUID()) {
  return callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds, holdSeconds: 600 }, { 'Idempotency-Key': key });
}

/**
 * `count` performances of `seats` seats each. A queue token admits one PENDING reservation
 * at a time, and a user has one live token per performance: a user's concurrent holds are
 * holds of different performances.
 */
async function performances(count: number, seats = 3): Promise<{ performanceId: number; seatIds: number[] }[]> {
  const made = [];
  for (let i = 0; i < count; i++) made.push(await createPerformance(stack.orm, seats));
  return made;
}

async function reservationRows(userId: number) {
  return stack.orm.em.fork().execute<{ id: string; status: string; reason: string | null }[]>(
    'select id, status, reason from reservations where user_id = ? order by created_at',
    [userId],
  );
}

describe('Idempotency-Keys scoped to the caller', () => {
  it('gives two users with the same key two orders, and one user sending it twice one', async () => {
    const productId = await createProduct(stack.orm, 10, 1000);
    const [alice, bob] = [await createUser(stack.orm, 10_000), await createUser(stack.orm, 10_000)];
    const key = `shared-${randomUUID()}`;
    const order = (userId: number) => callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] }, { 'Idempotency-Key': key });

    const [a1, b1, a2] = await Promise.all([order(alice), order(bob), order(alice)]);
    expect([a1.status, b1.status, a2.status]).toEqual([201, 201, 201]);
    expect(a1.body.orderId).not.toBe(b1.body.orderId);
    expect(a2.body.orderId).toBe(a1.body.orderId);
    const rows = await stack.orm.em.fork().execute<{ user_id: number }[]>('select user_id from orders where user_id in (?, ?)', [alice, bob]);
    expect(rows.map((r) => r.user_id).sort()).toEqual([alice, bob].sort());
  });
});

describe('the hold caps', () => {
  it('refuses a hold past the live-hold cap with 409 at once; nothing starts', async () => {
    const userId = await createUser(stack.orm, 0);
    const shows = await performances(MAX_HOLDS + 1, 1);
    for (const { performanceId, seatIds } of shows.slice(0, MAX_HOLDS)) expect((await reserve(userId, performanceId, seatIds)).status).toBe(201);

    const key = randomUUID();
    const over = await reserve(userId, shows[MAX_HOLDS]!.performanceId, shows[MAX_HOLDS]!.seatIds, key);
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ code: 'HoldLimitExceeded', userId, liveHolds: MAX_HOLDS, heldSeats: 2, requestedSeats: 1, maxLiveHolds: MAX_HOLDS, maxHeldSeats: MAX_SEATS });
    expect(await reservationRows(userId)).toHaveLength(MAX_HOLDS);
    const handle = stack.env.client.workflow.getHandle(reservationWorkflowId(reservationIdFor(stack.config.idempotency.secret, userId, key)));
    await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('refuses a hold that would take the held seats past the cap, and counts a cancelled hold no more', async () => {
    const userId = await createUser(stack.orm, 0);
    const [a, b] = await performances(2);
    const first = await reserve(userId, a!.performanceId, a!.seatIds.slice(0, 2));
    expect(first.status).toBe(201);
    const over = await reserve(userId, b!.performanceId, b!.seatIds.slice(0, 2));
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ code: 'HoldLimitExceeded', liveHolds: 1, heldSeats: 2, requestedSeats: 2 });

    expect((await callApi(stack, 'DELETE', `/reservations/${first.body.reservationId}`, undefined, {}, { as: userId })).status).toBe(200);
    expect((await reserve(userId, b!.performanceId, b!.seatIds)).status).toBe(201);
  });

  it('answers a repeated request of a hold at the cap with its hold, not a refusal', async () => {
    const userId = await createUser(stack.orm, 0);
    const [a, b] = await performances(2);
    const key = randomUUID();
    const first = await reserve(userId, a!.performanceId, [a!.seatIds[0]!], key);
    expect((await reserve(userId, b!.performanceId, [b!.seatIds[0]!])).status).toBe(201);
    // At the cap, and the first hold's token admits it: the repeat is answered from the reservation.
    const again = await reserve(userId, a!.performanceId, [a!.seatIds[0]!], key);
    expect([again.status, again.body.reservationId]).toEqual([201, first.body.reservationId]);
  });

  it('lets exactly one of two requests racing for the last slot past the API check hold seats', async () => {
    const userId = await createUser(stack.orm, 0);
    const [a, b, c] = await performances(3);
    expect((await reserve(userId, a!.performanceId, [a!.seatIds[0]!])).status).toBe(201);
    let release!: () => void;
    const both = new Promise<void>((resolve) => (release = resolve));
    racing.set(userId, { arrived: 0, release, both });

    // Both pass the API's check: neither saga has written its row before both activities run.
    const answers = await Promise.all([reserve(userId, b!.performanceId, [b!.seatIds[0]!]), reserve(userId, c!.performanceId, [c!.seatIds[0]!])]);
    racing.delete(userId);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    const refused = answers.find((a) => a.status === 409)!;
    expect(refused.body).toMatchObject({ code: 'HoldLimitExceeded', reservationId: expect.any(String) });
    const rows = await reservationRows(userId);
    expect(rows.filter((r) => r.status === 'PENDING')).toHaveLength(MAX_HOLDS);
    // Refused by the saga's first step (the reservation id in the answer says so): no row was written, the saga ended CANCELLED.
    expect(rows.find((r) => r.id === refused.body.reservationId)).toBeUndefined();
    const saga = stack.env.client.workflow.getHandle(reservationWorkflowId(refused.body.reservationId));
    expect(await saga.result()).toEqual({ reservationId: refused.body.reservationId, status: 'CANCELLED' });
  });
});

describe('the rate limit of writes', () => {
  it('answers the write past the limit 429 with Retry-After; other callers and reads go on', async () => {
    const [userId, other] = [await createUser(stack.orm, 0), await createUser(stack.orm, 0)];
    const cancel = (as: number) => callApi(stack, 'DELETE', `/reservations/${randomUUID()}`, undefined, {}, { as });
    for (let i = 0; i < WRITES_PER_MINUTE; i++) {
      const answer = await cancel(userId);
      expect(answer.status).toBe(404);
      expect(answer.headers.get('ratelimit-remaining')).toBe(String(WRITES_PER_MINUTE - i - 1));
    }

    const limited = await cancel(userId);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ code: 'RateLimited', status: 429, limit: WRITES_PER_MINUTE });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('ratelimit-limit')).toBe(String(WRITES_PER_MINUTE));
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    // A refused write does nothing: a top-up past the limit credits no points.
    const topUp = await callApi(stack, 'POST', `/users/${userId}/points/top-ups`, { amount: 100 }, {}, { as: userId });
    expect(topUp.status).toBe(429);
    expect((await callApi(stack, 'GET', `/users/${userId}/points`, undefined, {}, { as: userId })).body.balancePoints).toBe(0);

    expect((await cancel(other)).status).toBe(404);
  });
});
