/**
 * Concert routes (Reservations read model).
 *
 * - `GET /concerts`: 200 {@link ConcertList}, concerts ordered by id, each with
 *   its performances ordered by start time and the number of AVAILABLE seats of each.
 * - `GET /performances/:id/seats`: 200 {@link SeatMapView}, the seats ordered by section
 *   and number with their status (never who holds them); 400 for an id that is not a
 *   positive 32-bit integer; 404 `NotFound` for an unknown performance.
 *
 * A HELD seat whose hold has lapsed shows HELD until its saga releases it, though a new
 * reservation may already take it.
 */
import { Concert, Performance, Seat } from '../../db/entities/index.ts';
import type { ConcertList, PerformanceView, SeatMapView } from '../concerts/schemas.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { EntityIdParams } from '../validation.ts';

/** Registers `GET /concerts` and `GET /performances/:id/seats`. */
export function registerConcertRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, ConcertList>('/concerts', async (ctx) => {
    const em = deps.orm.em.fork();
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
    ctx.body = {
      concerts: concerts.map((c) => ({
        id: c.id,
        title: c.title,
        artist: c.artist,
        venue: c.venue,
        performances: byConcert.get(c.id) ?? [],
      })),
    };
  });

  router.get<object, object, SeatMapView>('/performances/:id/seats', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const em = deps.orm.em.fork();
    if ((await em.count(Performance, { id })) === 0) throw notFound(`performance ${id}`);
    const seats = await em.find(
      Seat,
      { performance: id },
      { fields: ['id', 'section', 'number', 'priceWon', 'status'], orderBy: { section: 'asc', number: 'asc', id: 'asc' } },
    );
    ctx.body = {
      performanceId: id,
      seats: seats.map((s) => ({ id: s.id, section: s.section, number: s.number, priceWon: s.priceWon, status: s.status })),
    };
  });
}
