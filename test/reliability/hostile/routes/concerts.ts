/**
 * Generators of the concert routes (api/concerts/routes.ts): GET /concerts, which takes
 * nothing, and GET /performances/:id/seats.
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import { notAnEntityId } from '../paths.ts';

/** The generators of GET /concerts and GET /performances/:id/seats. */
export function concertEndpoints(kit: EndpointKit): { concerts: EndpointGenerator; getSeats: EndpointGenerator } {
  const concerts = kit.make(
    'GET /concerts',
    [
      [
        fc
          .oneof(
            fc.constantFrom('/concerts/x', '/concerts%2F', '/concerts.json', '/concerts/1', '//concerts', '/concerts/..', '/concerts;x', '/concerts%00', '/concert'),
            notAnEntityId.map((id) => `/concerts/${id.segment}`),
          )
          .map((target) => ({ method: 'GET', target, headers: [], defects: [`path ${target.slice(0, 60)}`] })),
        4,
      ],
    ],
    fc.constant({ method: 'GET', target: '/concerts', headers: [], defects: [] }),
    kit.others('GET'),
  );
  const getSeats = kit.byEntityId('GET /performances/:id/seats', '/performances/:id/seats', [kit.fx.performanceA, kit.fx.performanceB]);
  return { concerts, getSeats };
}
