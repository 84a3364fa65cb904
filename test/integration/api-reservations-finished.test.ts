/**
 * The reservation routes for ids that have no running saga, with a real Temporal dev
 * server and no worker: an unknown id is 404 everywhere, and a finished reservation is
 * read, refused payment or "cancelled" from its row alone. Bad input refused before
 * Temporal: api-reservations-validation.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Orm } from '../../db/orm.ts';
import { createConcertFixture, type ConcertFixture } from '../helpers/concerts.ts';
import { startTestApiOnTemporal, type TestApiOnTemporal } from '../helpers/api.ts';
import { createUser } from '../helpers/db.ts';
import { expectRefusedBy, sendCall, withToken, type Call } from '../helpers/http.ts';
import { tokenFor } from '../helpers/auth.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';

let orm: Orm;
let live: TestApiOnTemporal;
let userId: number;
/** A token of `userId`, sent with every request. */
let token: string;
let fixture: ConcertFixture;

beforeAll(async () => {
  live = await startTestApiOnTemporal('reservations-api');
  orm = live.orm;
  userId = await createUser(orm, 500_000);
  token = await tokenFor(userId);
  fixture = await createConcertFixture(orm);
});

afterAll(async () => {
  await live?.close();
  expectNoContractViolations(live?.contract);
});

const send = (call: Call) => sendCall(live.url, withToken(token, call));
const expectRefused = (call: Call, status: number, code: string, path?: string) => expectRefusedBy(live.url, withToken(token, call), status, code, path);

/**
 * A finished reservation row (no saga) on performance B; returns its id. The seats stay
 * AVAILABLE: only the row matters to these routes.
 */
async function finishedReservation(status: 'CONFIRMED' | 'CANCELLED' | 'EXPIRED', reason: string | null = null): Promise<string> {
  const id = randomUUID();
  await orm.em.fork().execute(
    `insert into reservations (id, user_id, performance_id, seat_ids, status, total_won, hold_expires_at, reason, message,
       workflow_id, request_hash, created_at, updated_at, confirmed_at)
     values (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, now(), now(), ?)`,
    [
      id,
      userId,
      fixture.performanceB,
      JSON.stringify(fixture.seatsB),
      status,
      308_000,
      new Date(Date.now() - 60_000),
      reason,
      reason ? `ended: ${reason}` : null,
      `reservation-${id}`,
      'f'.repeat(64),
      status === 'CONFIRMED' ? new Date() : null,
    ],
  );
  return id;
}

/** A request without headers. */
const call = (path: string, method: string, json?: unknown): Call => ({ path, method, json });

describe('with Temporal but no running saga', () => {
  it('404 NotFound for an unknown reservation: read, payment (with or without an empty body), cancellation', async () => {
    const id = randomUUID();
    await expectRefused(call(`/reservations/${id}`, 'GET'), 404, 'NotFound');
    await expectRefused(call(`/reservations/${id}/payment`, 'POST'), 404, 'NotFound');
    await expectRefused(call(`/reservations/${id}/payment`, 'POST', {}), 404, 'NotFound');
    await expectRefused(call(`/reservations/${id}`, 'DELETE'), 404, 'NotFound');
  });

  it('reads a finished reservation from its row, with no saga progress', async () => {
    const id = await finishedReservation('EXPIRED', 'HoldExpired');
    const res = await send({ path: `/reservations/${id.toUpperCase()}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      reservationId: id,
      userId,
      performanceId: fixture.performanceB,
      status: 'EXPIRED',
      seatIds: fixture.seatsB,
      totalWon: 308_000,
      holdExpiresAt: expect.any(String),
      reason: 'HoldExpired',
      message: 'ended: HoldExpired',
      createdAt: expect.any(String),
      confirmedAt: null,
      payment: null,
      event: null,
      saga: null,
    });
  });

  it('refuses to pay a reservation that ended: 410 HoldExpired, 409 ReservationCancelled, 409 AlreadyConfirmed', async () => {
    const expired = await finishedReservation('EXPIRED', 'HoldExpired');
    const cancelled = await finishedReservation('CANCELLED', 'ReservationCancelled');
    const confirmed = await finishedReservation('CONFIRMED');
    for (const [id, status, code] of [
      [expired, 410, 'HoldExpired'],
      [cancelled, 409, 'ReservationCancelled'],
      [confirmed, 409, 'AlreadyConfirmed'],
    ] as const) {
      const error = await expectRefused(call(`/reservations/${id}/payment`, 'POST'), status, code);
      expect(error).toMatchObject({ reservationId: id });
    }
  });

  it('cancelling a reservation that ended is 200 with its view when CANCELLED or EXPIRED, 409 when CONFIRMED', async () => {
    for (const status of ['CANCELLED', 'EXPIRED'] as const) {
      const id = await finishedReservation(status, status === 'CANCELLED' ? 'ReservationCancelled' : 'HoldExpired');
      const res = await send(call(`/reservations/${id}`, 'DELETE'));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ reservationId: id, status, saga: null });
    }
    const confirmed = await finishedReservation('CONFIRMED');
    await expectRefused(call(`/reservations/${confirmed}`, 'DELETE'), 409, 'AlreadyConfirmed');
  });
});
