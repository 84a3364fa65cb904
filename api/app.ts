/**
 * The Koa application of the HTTP API, built from its dependencies (no listen: see
 * server.ts). Middleware order: HTTP metrics, error handler, request context (request id
 * and logger), reading a body sent to a GET/DELETE before its route acts, routes (JSON
 * body parsing only on the routes that take a body), allowed methods.
 *
 * Routes (bodies, statuses and problem codes: routes/*.ts and the OpenAPI document,
 * api/openapi/, which a test keeps equal to this router's routes):
 * - orders: `POST /orders`, `GET /orders/:id`, `GET /users/:id/orders`,
 *   `POST /orders/:id/compensations/retry` (operator);
 * - reservations: `POST /reservations`, `GET /reservations/:id`,
 *   `POST /reservations/:id/payment`, `DELETE /reservations/:id`;
 * - catalog: `GET /products`, `GET /products/:id`, `GET /concerts`,
 *   `GET /performances/:id/seats`;
 * - points: `GET /users/:id/points`, `GET /users/:id/points/ledger`,
 *   `POST /users/:id/points/top-ups`;
 * - service: `GET /healthz`, `GET /metrics` (Prometheus), `GET /openapi.json`, `GET /docs`
 *   and `GET /docs/:asset` (Swagger UI), `GET /problems/:code`.
 * Lists (`/products`, `/users/:id/orders`, `/users/:id/points/ledger`) page with `limit`
 * and `cursor` into `{ items, next }` (pagination.ts).
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import type { AppDeps, AppRouter, AppState } from './context.ts';
import { createApiMetrics, type ApiMetrics } from './metrics.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { httpMetrics } from './middleware/metrics.ts';
import { readIgnoredBody } from './middleware/ignored-body.ts';
import { requestContext } from './middleware/request-context.ts';
import { registerConcertRoutes } from './routes/concerts.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerMetricsRoutes } from './routes/metrics.ts';
import { registerOpenApiRoutes } from './routes/openapi.ts';
import { registerOrderRoutes } from './routes/orders.ts';
import { registerOrderOperationRoutes } from './routes/order-operations.ts';
import { registerPointRoutes } from './routes/points.ts';
import { registerProblemRoutes } from './routes/problems.ts';
import { registerProductRoutes } from './routes/products.ts';
import { registerReservationRoutes } from './routes/reservations.ts';

export type { AppDeps, AppState } from './context.ts';

/**
 * The router with every route of the API (no middleware). {@link createApp} mounts it; a
 * test compares its routes with the OpenAPI document's.
 */
export function createRouter(deps: AppDeps, metrics: ApiMetrics): AppRouter {
  const router = new Router<AppState>();
  registerHealthRoutes(router, deps);
  registerMetricsRoutes(router, metrics);
  registerOrderRoutes(router, deps);
  registerOrderOperationRoutes(router, deps);
  registerProductRoutes(router, deps);
  registerPointRoutes(router, deps);
  registerConcertRoutes(router, deps);
  registerReservationRoutes(router, deps);
  registerProblemRoutes(router);
  registerOpenApiRoutes(router);
  return router;
}

/** Builds the API application. It owns none of `deps`: the caller closes them. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>();
  // Behind a proxy the client address comes from X-Forwarded-For; the API trusts none by default.
  app.proxy = false;
  const metrics = createApiMetrics();
  const router = createRouter(deps, metrics);

  app.use(httpMetrics(metrics));
  app.use(errorHandler(deps.logger));
  app.use(requestContext(deps.logger));
  app.use(readIgnoredBody(deps.config.api.bodyLimitBytes));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
