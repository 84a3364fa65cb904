/**
 * The Reservations read model of concerts: every concert with its performances and the
 * seats AVAILABLE at each, and the seat map of one performance. A HELD seat whose hold
 * has lapsed shows HELD until its saga releases it, though a new reservation may already
 * take it.
 */
import { Concert, Performance, Seat } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { ConcertList, PerformanceView, SeatMapView } from './schemas.ts';

/** Concerts ordered by id, each with its performances ordered by start time and the number of AVAILABLE seats of each. */
export async function listConcerts(orm: Orm): Promise<ConcertList> {
  const em = orm.em.fork();
  const concerts = await em.find(Concert, {}, { orderBy: { id: 'asc' } });
  const performances = await em.find(Performance, {}, { orderBy: { startsAt: 'asc', id: 'asc' } });
  const counts = await em.execute<{ performance_id: number; available: string }[]>(
    `select performance_id, count(*) as available from seats where status = 'AVAILABLE' group by performance_id`,
  );
  const available = new Map(counts.map((row) => [row.performance_id, Number(row.available)]));
  const byConcert = new Map<number, PerformanceView[]>();
  for (const p of performances) {
    const list = byConcert.get(p.concert.id) ?? [];
    list.push({ id: p.id, startsAt: p.startsAt.toISOString(), availableSeats: available.get(p.id) ?? 0 });
    byConcert.set(p.concert.id, list);
  }
  return {
    concerts: concerts.map((c) => ({
      id: c.id,
      title: c.title,
      artist: c.artist,
      venue: c.venue,
      performances: byConcert.get(c.id) ?? [],
    })),
  };
}

/**
 * The seats of performance `performanceId` ordered by section and number, with their
 * status (never who holds them); null when there is no such performance.
 */
export async function findSeatMap(orm: Orm, performanceId: number): Promise<SeatMapView | null> {
  const em = orm.em.fork();
  if ((await em.count(Performance, { id: performanceId })) === 0) return null;
  const seats = await em.find(
    Seat,
    { performance: performanceId },
    { fields: ['id', 'section', 'number', 'priceWon', 'status'], orderBy: { section: 'asc', number: 'asc', id: 'asc' } },
  );
  return {
    performanceId,
    seats: seats.map((s) => ({ id: s.id, section: s.section, number: s.number, priceWon: s.priceWon, status: s.status })),
  };
}
