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
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { EntityIdParams } from '../validation.ts';
import type { ConcertList, SeatMapView } from './schemas.ts';
import { findSeatMap, listConcerts } from './views.ts';

/** Registers `GET /concerts` and `GET /performances/:id/seats`. */
export function registerConcertRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, ConcertList>('/concerts', async (ctx) => {
    ctx.body = await listConcerts(deps.orm);
  });

  router.get<object, object, SeatMapView>('/performances/:id/seats', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const seatMap = await findSeatMap(deps.orm, id);
    if (!seatMap) throw notFound(`performance ${id}`);
    ctx.body = seatMap;
  });
}
