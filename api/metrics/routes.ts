/** `GET /metrics`: the API's Prometheus metrics. */
import type { AppRouter } from '../context.ts';
import type { ApiMetrics } from '../middleware/metrics.ts';

/**
 * Registers `GET /metrics`: 200 with the registry of {@link ApiMetrics} in the Prometheus
 * text format (`text/plain; version=0.0.4`): the default process metrics,
 * `http_requests_total` and `http_request_duration_seconds`. No input, no errors of its own.
 */
export function registerMetricsRoutes(router: AppRouter, metrics: ApiMetrics): void {
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
