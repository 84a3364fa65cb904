/**
 * `GET /healthz`: 200 `{ status: 'ok', checks: { database: 'ok', temporal: 'ok' } }` when
 * PostgreSQL answers `select 1` and Temporal answers GetSystemInfo, each within 2 s;
 * otherwise 503 with `status: 'unavailable'` and the failing check marked `'unavailable'`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AppDeps, AppRouter } from '../context.ts';
import type { CheckState, HealthBody } from '../health/schemas.ts';
import { SHORT_CALL_DEADLINE_MS, withDeadline } from '../temporal.ts';

async function check(name: string, deps: AppDeps, probe: () => Promise<unknown>): Promise<CheckState> {
  try {
    await probe();
    return 'ok';
  } catch (err) {
    deps.logger.warn({ err, check: name }, 'health check failed');
    return 'unavailable';
  }
}

async function databaseProbe(deps: AppDeps): Promise<void> {
  const abort = new AbortController();
  const timeout = delay(SHORT_CALL_DEADLINE_MS, undefined, { signal: abort.signal }).then(() => {
    throw new Error(`database did not answer within ${SHORT_CALL_DEADLINE_MS} ms`);
  });
  try {
    await Promise.race([deps.orm.em.fork().execute('select 1'), timeout]);
  } finally {
    abort.abort();
    timeout.catch(() => undefined);
  }
}

/** Registers `GET /healthz`. */
export function registerHealthRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, HealthBody>('/healthz', async (ctx) => {
    const [database, temporal] = await Promise.all([
      check('database', deps, () => databaseProbe(deps)),
      check('temporal', deps, () =>
        withDeadline(deps.client, SHORT_CALL_DEADLINE_MS, () => deps.client.workflowService.getSystemInfo({})),
      ),
    ]);
    const healthy = database === 'ok' && temporal === 'ok';
    ctx.status = healthy ? 200 : 503;
    ctx.body = { status: healthy ? 'ok' : 'unavailable', checks: { database, temporal } };
  });
}
