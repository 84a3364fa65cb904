/** The documented metrics route (handler: metrics/routes.ts). */
import { z } from 'zod';
import { route, textAnswer, type DocumentedRoute } from '../openapi/operation.ts';

/** The metrics route. */
export const metricsRoutes: DocumentedRoute[] = [
  route('get', '/metrics', {
    operationId: 'getMetrics',
    tag: 'Service',
    summary: 'Prometheus metrics of the API process',
    description: 'The default process metrics, `http_requests_total` and `http_request_duration_seconds` (labels `method`, `route`, `status`).',
    answers: {
      200: textAnswer('text/plain', 'The Prometheus text exposition format, version 0.0.4.', z.string()),
    },
  }),
];
