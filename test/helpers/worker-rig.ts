/**
 * The rig of the suites that crash or drain worker processes within one test: a Temporal
 * dev server, the test database, the API in this process (no worker: the test starts
 * worker processes with `startWorkerProcess(envFor(rig.config), ...)`), a plain pg client
 * to watch `pg_stat_activity` and a {@link RowLocker} on the account rows.
 */
import pg from 'pg';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { openTestOrm, testConfig } from './db.ts';
import { RowLocker } from './row-locks.ts';
import { startTestTemporal, uniqueTaskQueue } from './temporal.ts';

/** The parts of a {@link startWorkerRig}. */
export interface WorkerRig {
  env: TestWorkflowEnvironment;
  /** Namespace `default`, a fresh task queue, ORDER_OUTCOME_WAIT_MS 300 and the caller's environment. */
  config: AppConfig;
  orm: Orm;
  api: RunningApiServer;
  /** For `waitForBlocked`. */
  observer: pg.Client;
  /** Not holding anything yet; the test locks the rows its step waits on. */
  locker: RowLocker;
}

/**
 * Starts a {@link WorkerRig} whose task queue starts with `taskQueuePrefix` and whose
 * config also has `env`. Each part's close is pushed onto `cleanup` as soon as it exists,
 * so a suite's afterAll (running `cleanup` in reverse) closes whatever got started.
 */
export async function startWorkerRig(
  cleanup: (() => Promise<unknown>)[],
  taskQueuePrefix: string,
  env: Record<string, string> = {},
): Promise<WorkerRig> {
  const temporal = await startTestTemporal(testConfig());
  cleanup.push(() => temporal.teardown());
  const config = testConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    TASK_QUEUE: uniqueTaskQueue(taskQueuePrefix),
    ORDER_OUTCOME_WAIT_MS: '300',
    ...env,
  });
  const orm = await openTestOrm(config);
  cleanup.push(() => orm.close());
  const api = await startApiServer({ orm, client: temporal.client, config, logger: pino({ level: 'warn' }) }, { host: '127.0.0.1', port: 0 });
  cleanup.push(() => api.close());
  const observer = new pg.Client({ connectionString: config.database.url });
  await observer.connect();
  cleanup.push(() => observer.end());
  const locker = await RowLocker.open(config.database.url);
  cleanup.push(() => locker.close());
  return { env: temporal, config, orm, api, observer, locker };
}
