/**
 * The Koa application of the HTTP API, built from its dependencies (no listen: see
 * server.ts). Middleware order: HTTP metrics, error handler, request context (request id
 * and logger), reading a body sent to a GET/DELETE before its route acts, routes (each
 * route: its access guard, on writes the per-caller rate limit (middleware/rate-limit.ts),
 * JSON body parsing on the routes that take a body, the handler), allowed methods.
 *
 * Routes, one folder per resource (api/<resource>/routes.ts registers them; bodies,
 * statuses and problem codes there and in the OpenAPI document, whose operations each
 * resource lists in its openapi.ts and which a test keeps equal to this router's routes):
 * - orders: `POST /orders`, `GET /orders/:id`, `GET /users/:id/orders`,
 *   `POST /orders/:id/compensations/retry` (operator);
 * - reservations: `POST /reservations`, `GET /reservations/:id`,
 *   `POST /reservations/:id/payment`, `DELETE /reservations/:id`;
 * - catalog: `GET /products`, `GET /products/popular` (the ranking), `GET /products/:id`, `GET /concerts`,
 *   `GET /performances/:id/seats`;
 * - points: `GET /users/:id/points`, `GET /users/:id/points/ledger`,
 *   `POST /users/:id/points/top-ups`;
 * - coupons: `GET /coupon-campaigns`, `POST /coupon-campaigns/:id/issues`,
 *   `GET /users/:id/coupons`;
 * - waiting queue: `POST /queue/tokens`, `GET /queue/tokens/:id`, `DELETE /queue/tokens/:id`;
 * - service: `GET /healthz`, `GET /openapi.json`, `GET /docs` and `GET /docs/:asset`
 *   (Swagger UI), `GET /problems/:code`. Prometheus metrics are not on this router: the
 *   server serves the app's registry on a listener of its own (metrics/listener.ts).
 * Lists (`/products`, `/users/:id/orders`, `/users/:id/points/ledger`) page with `limit`
 * and `cursor` into `{ items, next }` (pagination.ts).
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import type { AppDeps, AppRouter, AppState } from './context.ts';
import { guardEveryRoute, registerAuthRoutes } from './auth/routes.ts';
import { registerConcertRoutes } from './concerts/routes.ts';
import { registerCouponRoutes } from './coupons/routes.ts';
import { registerDocsRoutes } from './docs/routes.ts';
import { registerHealthRoutes } from './health/routes.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { DOCUMENTED_ROUTES } from './openapi/document.ts';
import { readIgnoredBody } from './middleware/ignored-body.ts';
import { limitWriteRoutes, writeRateLimit } from './middleware/rate-limit.ts';
import { createApiMetrics, httpMetrics, type ApiMetrics } from './middleware/metrics.ts';
import { requestContext } from './middleware/request-context.ts';
import { registerOrderRoutes } from './orders/routes.ts';
import { registerPointRoutes } from './points/routes.ts';
import { registerProblemRoutes } from './problems/routes.ts';
import { registerProductRoutes } from './products/routes.ts';
import { registerQueueRoutes } from './queue/routes.ts';
import { registerReservationRoutes } from './reservations/routes.ts';

export type { AppDeps, AppState } from './context.ts';

/**
 * The router with every route of the API (no middleware). {@link createApp} mounts it; a
 * test compares its routes with the OpenAPI document's.
 */
export function createRouter(deps: AppDeps): AppRouter {
  const router = new Router<AppState>();
  registerHealthRoutes(router, deps);
  registerOrderRoutes(router, deps);
  registerProductRoutes(router, deps);
  registerPointRoutes(router, deps);
  registerCouponRoutes(router, deps);
  registerConcertRoutes(router, deps);
  registerReservationRoutes(router, deps);
  registerQueueRoutes(router, deps);
  registerProblemRoutes(router);
  registerDocsRoutes(router);
  registerAuthRoutes(router, deps);
  // Last: every route gets the guard of the access its documented operation declares.
  guardEveryRoute(router, deps, DOCUMENTED_ROUTES.map((r) => ({ method: r.method.toUpperCase(), path: r.path, access: r.access })));
  // Right after each write route's guard, so writes are counted per authenticated caller.
  limitWriteRoutes(router, writeRateLimit(deps.config.rateLimit));
  return router;
}

/**
 * Builds the API application, recording its HTTP metrics in `metrics` (the server serves
 * that registry on its metrics listener). It owns none of `deps`: the caller closes them.
 */
export function createApp(deps: AppDeps, metrics: ApiMetrics = createApiMetrics()): Koa<AppState> {
  const app = new Koa<AppState>();
  // Behind a proxy the client address comes from X-Forwarded-For; the API trusts none by default.
  app.proxy = false;
  const router = createRouter(deps);
  if (deps.config.env === 'development' && deps.config.idempotency.developmentDefault) {
    deps.logger.warn('IDEMPOTENCY_SECRET is unset: ids derived from Idempotency-Keys use the public development secret, so anyone can compute them; set it outside development');
  }

  app.use(httpMetrics(metrics));
  app.use(errorHandler(deps.logger));
  app.use(requestContext(deps.logger));
  app.use(readIgnoredBody(deps.config.api.bodyLimitBytes));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
