/**
 * The health of the API's dependencies: PostgreSQL answers `select 1` and Temporal answers
 * GetSystemInfo, each within {@link SHORT_CALL_DEADLINE_MS}.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AppDeps } from '../context.ts';
import { SHORT_CALL_DEADLINE_MS, withDeadline } from '../temporal.ts';
import type { CheckState, HealthBody } from './schemas.ts';

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

/**
 * Checks both dependencies at once (a failing one is logged) and reports them:
 * `status: 'ok'` when both are, else `'unavailable'` with the failing check marked so.
 */
export async function checkHealth(deps: AppDeps): Promise<HealthBody> {
  const [database, temporal] = await Promise.all([
    check('database', deps, () => databaseProbe(deps)),
    check('temporal', deps, () =>
      withDeadline(deps.client, SHORT_CALL_DEADLINE_MS, () => deps.client.workflowService.getSystemInfo({})),
    ),
  ]);
  const healthy = database === 'ok' && temporal === 'ok';
  return { status: healthy ? 'ok' : 'unavailable', checks: { database, temporal } };
}
