/** The documented concert routes (handlers: concerts/routes.ts). */
import { idParams, jsonAnswer, readRoute, route, type DocumentedRoute } from '../openapi/operation.ts';
import { ConcertListSchema, SeatMapViewSchema } from './schemas.ts';

/** The concert routes. */
export const concertRoutes: DocumentedRoute[] = [
  route('get', '/concerts', {
    access: 'public',
    operationId: 'listConcerts',
    tag: 'Concerts',
    summary: 'List concerts and their performances',
    description: 'Every concert by id, each with its performances by start time and the seats AVAILABLE now.',
    answers: { 200: jsonAnswer(ConcertListSchema, 'The concerts.') },
  }),

  readRoute('/performances/:id/seats', idParams('The performance id.'), {
    access: 'public',
    operationId: 'getSeatMap',
    tag: 'Concerts',
    summary: 'Read the seat map of a performance',
    description: 'Seats by section and number with their status. A HELD seat whose hold has lapsed shows HELD until its saga releases it.',
    schema: SeatMapViewSchema,
    answer: 'The seat map.',
  }),
];
