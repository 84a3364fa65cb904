/** The documented health route (handler: health/routes.ts). */
import { jsonAnswer, route, type DocumentedRoute } from '../openapi/operation.ts';
import { HealthSchema } from './schemas.ts';

/** The health route. */
export const healthRoutes: DocumentedRoute[] = [
  route('get', '/healthz', {
    access: 'public',
    operationId: 'getHealth',
    tag: 'Service',
    summary: 'Check that the API reaches PostgreSQL and Temporal',
    description: 'Each dependency must answer within 2 s. A failing check answers 503 with the same body shape.',
    answers: {
      200: jsonAnswer(HealthSchema, 'Every check is ok.'),
      503: jsonAnswer(HealthSchema, 'A dependency did not answer: `status` and the failing check are `unavailable`.'),
    },
  }),
];
