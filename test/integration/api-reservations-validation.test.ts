/**
 * The concert and reservation routes refuse bad input with a clear 4xx before anything
 * changes, and their read side shows the seat map. The API runs on the test database
 * with a Temporal client whose every workflow call is recorded and refused, so after all
 * refused requests no workflow call was made and the database is unchanged (seat
 * statuses, reservations, ledger). Ids without a running saga, with a real Temporal:
 * api-reservations-finished.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MAX_HOLD_SECONDS } from '../../common/index.ts';
import { PointLedgerEntry, Reservation } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import { createConcertFixture, type ConcertFixture } from '../helpers/concerts.ts';
import { balanceOf, createUser } from '../helpers/db.ts';
import { expectRefusedBy, problemExtensions, sendCall, withToken, type Call } from '../helpers/http.ts';
import { tokenFor } from '../helpers/auth.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';

const BODY_LIMIT_BYTES = 4096;
/** An id no fixture reaches (ids are serial and tests create few rows). */
const ABSENT_ID = 2_147_483_000;

let api: TestApi;
let orm: Orm;
let userId: number;
/** A token of `userId`, sent with every request. */
let token: string;
/** The concert fixture: performance A (seats a1..a4: AVAILABLE, AVAILABLE, HELD, RESERVED) and B (b1, b2). */
let fixture: ConcertFixture;
const temporalCalls: string[] = [];
let before: Snapshot;

interface Snapshot {
  reservations: number;
  ledgerRows: number;
  balance: number;
  seats: { id: number; status: string; reservation_id: string | null }[];
}

async function snapshot(): Promise<Snapshot> {
  const em = orm.em.fork();
  return {
    reservations: await em.count(Reservation, {}),
    ledgerRows: await em.count(PointLedgerEntry, {}),
    balance: await balanceOf(orm, userId),
    seats: await em.execute(
      'select id, status, reservation_id from seats where performance_id in (?, ?) order by id',
      [fixture.performanceA, fixture.performanceB],
    ),
  };
}

beforeAll(async () => {
  api = await startTestApi({ env: { API_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) }, refusedCalls: temporalCalls });
  orm = api.orm;
  userId = await createUser(orm, 500_000);
  token = await tokenFor(userId);
  fixture = await createConcertFixture(orm);
  before = await snapshot();
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

const send = (call: Call) => sendCall(api.url, withToken(token, call));
const expectRefused = (call: Call, status: number, code: string, path?: string) => expectRefusedBy(api.url, withToken(token, call), status, code, path);

function reserve(json: Record<string, unknown>, headers?: Record<string, string>): Call {
  return { path: '/reservations', json: { userId, performanceId: fixture.performanceA, seatIds: [fixture.seatsA.s1], ...json }, headers };
}

describe('GET /concerts and GET /performances/:id/seats', () => {
  it('lists the concert with its performances by start time and their AVAILABLE seat counts', async () => {
    const res = await send({ path: '/concerts' });
    expect(res.status).toBe(200);
    const concert = res.body.concerts.find((c: { id: number }) => c.id === fixture.concertId);
    expect(concert).toEqual({
      id: fixture.concertId,
      title: fixture.title,
      artist: 'Test artist',
      venue: 'Test hall',
      performances: [
        { id: fixture.performanceA, startsAt: '2027-05-01T19:00:00.000Z', availableSeats: 2 },
        { id: fixture.performanceB, startsAt: '2027-05-02T19:00:00.000Z', availableSeats: 2 },
      ],
    });
    const ids = res.body.concerts.map((c: { id: number }) => c.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('shows the seat map by section and number, with statuses but never who holds a seat', async () => {
    const res = await send({ path: `/performances/${fixture.performanceA}/seats` });
    expect(res.status).toBe(200);
    const { r1, r2, s1, s2 } = fixture.seatsA;
    expect(res.body).toEqual({
      performanceId: fixture.performanceA,
      seats: [
        { id: r1, section: 'R', number: 1, priceWon: 154_000, status: 'HELD' },
        { id: r2, section: 'R', number: 2, priceWon: 154_000, status: 'RESERVED' },
        { id: s1, section: 'S', number: 1, priceWon: 99_000, status: 'AVAILABLE' },
        { id: s2, section: 'S', number: 2, priceWon: 99_000, status: 'AVAILABLE' },
      ],
    });
  });

  it('404 NotFound for an unknown performance', async () => {
    const error = await expectRefused({ path: `/performances/${ABSENT_ID}/seats` }, 404, 'NotFound');
    expect(problemExtensions(error)).toEqual({});
  });

  it.each([['abc'], ['0'], ['-1'], ['1.5'], ['007'], ['2147483648']])('400 ValidationFailed for GET /performances/%s/seats', async (id) => {
    await expectRefused({ path: `/performances/${id}/seats` }, 400, 'ValidationFailed', 'id');
  });
});

const seats = (seatIds: unknown) => reserve({ seatIds });

/** Bodies of `POST /reservations` that fail validation: name, request, the path of the issue. */
const BAD_RESERVATION_BODIES: [string, () => Call, string][] = [
  ['a missing performanceId', () => ({ path: '/reservations', json: { userId, seatIds: [fixture.seatsA.s1] } }), 'performanceId'],
  ['missing seatIds', () => ({ path: '/reservations', json: { userId, performanceId: fixture.performanceA } }), 'seatIds'],
  ['an empty object', () => ({ path: '/reservations', json: {} }), 'performanceId'],
  ['a JSON array body', () => ({ path: '/reservations', json: [] }), ''],
  ['a string userId', () => reserve({ userId: String(userId) }), 'userId'],
  ['a zero userId', () => reserve({ userId: 0 }), 'userId'],
  ['a userId past 2^31-1', () => reserve({ userId: 2 ** 31 }), 'userId'],
  ['a fractional performanceId', () => reserve({ performanceId: 1.5 }), 'performanceId'],
  ['a null performanceId', () => reserve({ performanceId: null }), 'performanceId'],
  ['no seats', () => seats([]), 'seatIds'],
  ['11 seats', () => seats(Array.from({ length: 11 }, (_, i) => i + 1)), 'seatIds'],
  ['seatIds that are not an array', () => seats(fixture.seatsA.s1), 'seatIds'],
  ['a string seat id', () => seats([String(fixture.seatsA.s1)]), 'seatIds.0'],
  ['a zero seat id', () => seats([0]), 'seatIds.0'],
  ['a negative seat id', () => seats([fixture.seatsA.s1, -4]), 'seatIds.1'],
  ['a fractional seat id', () => seats([2.5]), 'seatIds.0'],
  ['a seat id of 2**53', () => seats([2 ** 53]), 'seatIds.0'],
  ['a duplicate seat id', () => seats([fixture.seatsA.s1, fixture.seatsA.s2, fixture.seatsA.s1]), 'seatIds.2'],
  ['a zero holdSeconds', () => reserve({ holdSeconds: 0 }), 'holdSeconds'],
  ['a negative holdSeconds', () => reserve({ holdSeconds: -60 }), 'holdSeconds'],
  ['a holdSeconds past the maximum', () => reserve({ holdSeconds: MAX_HOLD_SECONDS + 1 }), 'holdSeconds'],
  ['a fractional holdSeconds', () => reserve({ holdSeconds: 30.5 }), 'holdSeconds'],
  ['a string holdSeconds', () => reserve({ holdSeconds: '60' }), 'holdSeconds'],
  ['a null holdSeconds', () => reserve({ holdSeconds: null }), 'holdSeconds'],
  ['an unknown field', () => reserve({ priceWon: 1 }), 'priceWon'],
];

describe('POST /reservations refuses bad input before starting anything', () => {
  it.each(BAD_RESERVATION_BODIES)('400 ValidationFailed for %s', async (_name, call, path) => {
    await expectRefused(call(), 400, 'ValidationFailed', path);
  });

  it('403 Forbidden for a userId that is not the caller\'s, checked before the references', async () => {
    await expectRefused(reserve({ userId: ABSENT_ID, performanceId: ABSENT_ID }), 403, 'Forbidden');
  });

  it('422 UnknownPerformance for a performance that does not exist', async () => {
    const error = await expectRefused(reserve({ performanceId: ABSENT_ID }), 422, 'UnknownPerformance');
    expect(problemExtensions(error)).toEqual({ performanceId: ABSENT_ID });
  });

  it('422 UnknownSeat naming seats that do not exist or belong to another performance', async () => {
    const { s1, s2 } = fixture.seatsA;
    const b1 = fixture.seatsB[0]!;
    const error = await expectRefused(reserve({ seatIds: [s2, ABSENT_ID, b1, s1] }), 422, 'UnknownSeat');
    expect(problemExtensions(error)).toEqual({ seatIds: [b1, ABSENT_ID].sort((a, b) => a - b) });
    const other = await expectRefused(reserve({ performanceId: fixture.performanceB, seatIds: [s1] }), 422, 'UnknownSeat');
    expect(problemExtensions(other)).toEqual({ seatIds: [s1] });
  });

  it('413 PayloadTooLarge past the body limit', async () => {
    await expectRefused(reserve({ padding: 'x'.repeat(BODY_LIMIT_BYTES) }), 413, 'PayloadTooLarge');
  });

  it.each([
    ['truncated JSON', '{"userId": 1, "seatIds": ['],
    ['a bare string', '"hello"'],
    ['null', 'null'],
    ['trailing garbage', '{"userId": 1} x'],
  ])('400 MalformedJson for %s', async (_name, raw) => {
    await expectRefused({ path: '/reservations', raw }, 400, 'MalformedJson');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded'])('415 UnsupportedMediaType for %s', async (contentType) => {
    await expectRefused({ path: '/reservations', raw: `userId=${userId}`, contentType }, 415, 'UnsupportedMediaType');
  });

  it.each([
    ['with a space', 'my key'],
    ['too long', 'k'.repeat(201)],
    ['empty', ''],
    ['with a slash', 'a/b'],
  ])('400 ValidationFailed for an Idempotency-Key %s', async (_name, key) => {
    await expectRefused(reserve({}, { 'Idempotency-Key': key }), 400, 'ValidationFailed', 'Idempotency-Key');
  });
});

describe('payment, cancellation and reads refuse bad ids and bodies', () => {
  const id = randomUUID();

  it.each([['not-a-uuid'], ['123'], [`${id}x`]])('400 ValidationFailed for the reservation id %s', async (badId) => {
    await expectRefused({ path: `/reservations/${badId}` }, 400, 'ValidationFailed', 'id');
    await expectRefused({ path: `/reservations/${badId}`, method: 'DELETE' }, 400, 'ValidationFailed', 'id');
    await expectRefused({ path: `/reservations/${badId}/payment`, method: 'POST' }, 400, 'ValidationFailed', 'id');
  });

  it('400 ValidationFailed for a payment body with fields, or that is not an object', async () => {
    await expectRefused({ path: `/reservations/${id}/payment`, json: { amount: 1000 } }, 400, 'ValidationFailed', 'amount');
    await expectRefused({ path: `/reservations/${id}/payment`, json: [] }, 400, 'ValidationFailed', '');
  });

  it('415 and 400 for non-JSON and malformed payment bodies', async () => {
    await expectRefused({ path: `/reservations/${id}/payment`, raw: 'pay=1', contentType: 'text/plain' }, 415, 'UnsupportedMediaType');
    await expectRefused({ path: `/reservations/${id}/payment`, raw: '{"pay":' }, 400, 'MalformedJson');
  });

  it('405 MethodNotAllowed for methods the reservation routes do not have', async () => {
    await expectRefused({ path: '/reservations', method: 'GET' }, 405, 'MethodNotAllowed');
    await expectRefused({ path: `/reservations/${id}`, json: {}, method: 'PUT' }, 405, 'MethodNotAllowed');
    await expectRefused({ path: `/reservations/${id}/payment`, method: 'GET' }, 405, 'MethodNotAllowed');
    await expectRefused({ path: '/concerts', json: {}, method: 'POST' }, 405, 'MethodNotAllowed');
  });
});

describe('after all refused requests', () => {
  it('made no Temporal call and changed nothing in the database', async () => {
    expect(temporalCalls).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});
