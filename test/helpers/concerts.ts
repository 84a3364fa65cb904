/**
 * Concert fixtures written with SQL: a uniquely titled concert, two performances and
 * seats in chosen states, and finished reservation rows without a saga.
 */
import { randomUUID } from 'node:crypto';
import type { Orm } from '../../db/orm.ts';

/** The concert fixture: performance A (seats a1..a4: AVAILABLE, AVAILABLE, HELD, RESERVED) and B (b1, b2). */
export interface ConcertFixture {
  concertId: number;
  title: string;
  performanceA: number;
  performanceB: number;
  /** Seats of A, by label: S-1, S-2 AVAILABLE; R-1 HELD; R-2 RESERVED. */
  seatsA: { r1: number; r2: number; s1: number; s2: number };
  seatsB: number[];
}

async function insertId(orm: Orm, sql: string, params: unknown[]): Promise<number> {
  const [row] = await orm.em.fork().execute<{ id: number }[]>(`${sql} returning id`, params);
  return row!.id;
}

/** Inserts a seat; a HELD or RESERVED one names a reservation that does not exist. */
function insertSeat(orm: Orm, performanceId: number, section: string, number: number, priceWon: number, status = 'AVAILABLE'): Promise<number> {
  return insertId(
    orm,
    `insert into seats (performance_id, section, number, price_won, status, reservation_id, hold_expires_at) values (?, ?, ?, ?, ?, ?, ?)`,
    [
      performanceId,
      section,
      number,
      priceWon,
      status,
      status === 'AVAILABLE' ? null : randomUUID(),
      status === 'HELD' ? new Date(Date.now() + 3_600_000) : null,
    ],
  );
}

/**
 * A concert with a uniquely titled row, two performances (A starts before B) and seats
 * written with SQL; the HELD and RESERVED seats name a reservation that does not exist.
 */
export async function createConcertFixture(orm: Orm): Promise<ConcertFixture> {
  const title = `Test concert ${randomUUID()}`;
  const concertId = await insertId(orm, 'insert into concerts (title, artist, venue) values (?, ?, ?)', [title, 'Test artist', 'Test hall']);
  const performance = (startsAt: string) =>
    insertId(orm, 'insert into performances (concert_id, starts_at) values (?, ?)', [concertId, startsAt]);
  const performanceB = await performance('2027-05-02T19:00:00Z');
  const performanceA = await performance('2027-05-01T19:00:00Z');
  // Inserted out of label order, so the seat map's ordering is tested.
  const s2 = await insertSeat(orm, performanceA, 'S', 2, 99_000);
  const r2 = await insertSeat(orm, performanceA, 'R', 2, 154_000, 'RESERVED');
  const s1 = await insertSeat(orm, performanceA, 'S', 1, 99_000);
  const r1 = await insertSeat(orm, performanceA, 'R', 1, 154_000, 'HELD');
  const seatsB = [await insertSeat(orm, performanceB, 'R', 1, 154_000), await insertSeat(orm, performanceB, 'R', 2, 154_000)];
  return { concertId, title, performanceA, performanceB, seatsA: { r1, r2, s1, s2 }, seatsB };
}
