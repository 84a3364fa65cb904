/** The documented concert routes (handlers: concerts/routes.ts). */
import { idParams, jsonAnswer, route, type DocumentedRoute } from '../openapi/operation.ts';
import { ConcertListSchema, SeatMapViewSchema } from './schemas.ts';

/** The concert routes. */
export const concertRoutes: DocumentedRoute[] = [
  route('get', '/concerts', {
    operationId: 'listConcerts',
    tag: 'Concerts',
    summary: 'List concerts and their performances',
    description: 'Every concert by id, each with its performances by start time and the seats AVAILABLE now.',
    answers: { 200: jsonAnswer(ConcertListSchema, 'The concerts.') },
  }),

  route('get', '/performances/:id/seats', {
    operationId: 'getSeatMap',
    tag: 'Concerts',
    summary: 'Read the seat map of a performance',
    description: 'Seats by section and number with their status. A HELD seat whose hold has lapsed shows HELD until its saga releases it.',
    params: { path: idParams('The performance id.') },
    answers: { 200: jsonAnswer(SeatMapViewSchema, 'The seat map.') },
    problems: { 400: ['ValidationFailed'], 404: ['NotFound'] },
  }),
];
