/**
 * `GET /healthz`: 200 `{ status: 'ok', checks: { database: 'ok', temporal: 'ok' } }` when
 * PostgreSQL answers `select 1` and Temporal answers GetSystemInfo, each within 2 s;
 * otherwise 503 with `status: 'unavailable'` and the failing check marked `'unavailable'`.
 */
import type { AppDeps, AppRouter } from '../context.ts';
import type { HealthBody } from './schemas.ts';
import { checkHealth } from './views.ts';

/** Registers `GET /healthz`. */
export function registerHealthRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, HealthBody>('/healthz', async (ctx) => {
    const health = await checkHealth(deps);
    ctx.status = health.status === 'ok' ? 200 : 503;
    ctx.body = health;
  });
}
