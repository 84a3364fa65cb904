/** HTTP request metrics: a counter and a duration histogram per method, route pattern and status. */
import type { Middleware, ParameterizedContext } from 'koa';
import type { AppState } from '../context.ts';
import { UNMATCHED_ROUTE, type ApiMetrics } from '../metrics.ts';

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
