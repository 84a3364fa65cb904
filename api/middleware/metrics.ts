/**
 * The API's Prometheus metrics: one prom-client registry per app (never the library's
 * global one, so several apps in one process, as in the tests, do not collide), with the
 * default Node process metrics and the HTTP request metrics (a counter and a duration
 * histogram per method, route pattern and status), and the middleware that records
 * them. Served by the metrics listener (metrics/listener.ts, `API_METRICS_ADDRESS`), never
 * on the public API port.
 */
import type { Middleware, ParameterizedContext } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppState } from '../context.ts';

/** Labels of the HTTP metrics: the method, the route pattern (never the raw URL) and the status code. */
export type HttpMetricLabel = 'method' | 'route' | 'status';

/** The `route` label of a request no route matched (unknown path, or unknown path and method). */
export const UNMATCHED_ROUTE = 'unmatched';

/** The registry and the HTTP metrics of one API app. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** `http_requests_total{method,route,status}`: requests answered. */
  readonly httpRequests: Counter<HttpMetricLabel>;
  /** `http_request_duration_seconds{method,route,status}`: time to produce the answer, in seconds. */
  readonly httpRequestDuration: Histogram<HttpMetricLabel>;
}

/**
 * Bucket bounds of `http_request_duration_seconds`: reads take milliseconds, while
 * `POST /orders` and `/reservations` wait up to ORDER_OUTCOME_WAIT_MS (5 s by default)
 * for the saga's outcome before answering 202.
 */
export const HTTP_DURATION_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10, 30];

/** Creates a registry with the default process metrics (`process_*`, `nodejs_*`) and the HTTP metrics. */
export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames: HttpMetricLabel[] = ['method', 'route', 'status'];
  const httpRequests = new Counter<HttpMetricLabel>({
    name: 'http_requests_total',
    help: 'HTTP requests answered by the API, by method, route pattern and status code',
    labelNames,
    registers: [registry],
  });
  const httpRequestDuration = new Histogram<HttpMetricLabel>({
    name: 'http_request_duration_seconds',
    help: 'Time the API took to produce an answer, in seconds, by method, route pattern and status code',
    labelNames,
    buckets: [...HTTP_DURATION_BUCKETS_SECONDS],
    registers: [registry],
  });
  return { registry, httpRequests, httpRequestDuration };
}

/** What @koa/router leaves on the context: the matched route pattern, and the layers whose path matched. */
interface RoutedContext {
  _matchedRoute?: string | RegExp;
  matched?: ReadonlyArray<{ path: string | RegExp; methods: readonly string[] }>;
}

/**
 * The route pattern of the request (`/orders/:id`), so that labels stay few whatever the
 * URLs: the route that handled it; for a known path with a method it does not allow
 * (405), the pattern of that path; otherwise {@link UNMATCHED_ROUTE}.
 */
export function routeLabel(ctx: ParameterizedContext<AppState>): string {
  const routed = ctx as unknown as RoutedContext;
  const pattern = routed._matchedRoute ?? routed.matched?.findLast((layer) => layer.methods.length > 0)?.path;
  return pattern === undefined ? UNMATCHED_ROUTE : String(pattern);
}

/**
 * Middleware, installed first so it sees the status the error handler set: counts each
 * request in `http_requests_total` and times it in `http_request_duration_seconds` (until
 * the answer is ready; streaming the body is not included). Two label lookups per request.
 */
export function httpMetrics(metrics: ApiMetrics): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    let failed = false;
    try {
      await next();
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // Only an error that escaped the error handler gets here with `failed`; Koa answers it 500.
      const labels = { method: ctx.method, route: routeLabel(ctx), status: String(failed ? 500 : ctx.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, (performance.now() - started) / 1000);
    }
  };
}
