/**
 * Response schemas of the concert routes (`GET /concerts`, `GET /performances/:id/seats`);
 * the body types are inferred from them.
 */
import { z } from 'zod';
import { SEAT_STATUSES } from '../../db/entities/index.ts';
import { Instant } from '../schemas.ts';
import { entityId } from '../validation.ts';

/** A performance: `startsAt` ISO 8601 UTC, `availableSeats` the seats AVAILABLE now. */
export const PerformanceViewSchema = z
  .object({
    id: entityId,
    startsAt: Instant,
    availableSeats: z.number().int().nonnegative().meta({ description: 'Seats AVAILABLE now (a lapsed hold counts as HELD until its saga releases it).' }),
  })
  .meta({ id: 'Performance', description: 'One performance of a concert.' });

/** A performance as the API shows it. */
export type PerformanceView = z.output<typeof PerformanceViewSchema>;

/** A concert and its performances (by start time). */
export const ConcertViewSchema = z
  .object({
    id: entityId,
    title: z.string(),
    artist: z.string(),
    venue: z.string(),
    performances: z.array(PerformanceViewSchema),
  })
  .meta({ id: 'Concert', description: 'A concert and its performances, by start time.' });

/** A concert as the API shows it. */
export type ConcertView = z.output<typeof ConcertViewSchema>;

/** Body of `GET /concerts`: every concert, by id. */
export const ConcertListSchema = z
  .object({ concerts: z.array(ConcertViewSchema) })
  .meta({ id: 'ConcertList', description: 'Every concert, by id, with its performances.' });

/** Body of `GET /concerts`. */
export type ConcertList = z.output<typeof ConcertListSchema>;

/** One seat of a seat map: price in won, status AVAILABLE, HELD or RESERVED. */
export const SeatViewSchema = z
  .object({
    id: entityId,
    section: z.string(),
    number: z.number().int(),
    priceWon: z.number().int().nonnegative().meta({ description: 'Price of the seat, in won.' }),
    status: z.enum(SEAT_STATUSES).meta({ description: 'AVAILABLE, HELD (by a reservation waiting for payment) or RESERVED (sold).' }),
  })
  .meta({ id: 'Seat', description: 'One seat of a performance; who holds it is never shown.' });

/** The seat map of one performance. */
export const SeatMapViewSchema = z
  .object({ performanceId: entityId, seats: z.array(SeatViewSchema) })
  .meta({ id: 'SeatMap', description: 'The seats of one performance, by section and number.' });

/** Body of `GET /performances/:id/seats`. */
export type SeatMapView = z.output<typeof SeatMapViewSchema>;
