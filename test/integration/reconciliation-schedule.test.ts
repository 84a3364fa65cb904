/**
 * The reconciliation Schedule (worker/schedule.ts) on a real Temporal dev server: it is
 * created once, left as it is when nothing changed, updated when the interval changes, and
 * deleted by RECONCILIATION_INTERVAL_MS=0; the worker process (`node worker/main.ts`)
 * creates it at start-up, and triggering it runs `reconcileSagas` on that worker. The
 * interval is an hour, so no firing comes as a surprise.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RECONCILIATION_SCHEDULE_ID, RECONCILIATION_WORKFLOW } from '../../common/ids.ts';
import type { ReconciliationResult } from '../../common/reconciliation.ts';
import type { AppConfig } from '../../config/index.ts';
import { ensureReconciliationSchedule } from '../../worker/schedule.ts';
import { testConfig } from '../helpers/db.ts';
import type { Part } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { pollUntil } from '../helpers/waiting.ts';

const HOUR_MS = 3_600_000;
let env: TestWorkflowEnvironment;
let worker: Part | undefined;

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

/** The test config on this suite's server, with `settings` (e.g. RECONCILIATION_INTERVAL_MS). */
function configWith(taskQueue: string, settings: Record<string, string> = {}): AppConfig {
  return testConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', TASK_QUEUE: taskQueue, ...settings });
}

function schedule() {
  return env.client.schedule.getHandle(RECONCILIATION_SCHEDULE_ID);
}

async function scheduleGone(): Promise<boolean> {
  try {
    await schedule().describe();
    return false;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return true;
    throw err;
  }
}

describe('the reconciliation Schedule', () => {
  it('is created once, updated when its settings change, and deleted when turned off', async () => {
    const taskQueue = uniqueTaskQueue('reconcile');
    const hourly = configWith(taskQueue, { RECONCILIATION_INTERVAL_MS: String(HOUR_MS) });

    expect(await ensureReconciliationSchedule(env.client, hourly)).toBe('created');
    expect(await ensureReconciliationSchedule(env.client, hourly)).toBe('unchanged');
    const described = await schedule().describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: HOUR_MS })]);
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.action).toMatchObject({
      workflowType: RECONCILIATION_WORKFLOW,
      taskQueue,
      args: [{ orderGraceMs: 900_000, reservationGraceMs: 300_000, batchSize: 100 }],
    });

    const twoHourly = configWith(taskQueue, { RECONCILIATION_INTERVAL_MS: String(2 * HOUR_MS), RECONCILIATION_BATCH_SIZE: '50' });
    expect(await ensureReconciliationSchedule(env.client, twoHourly)).toBe('updated');
    const updated = await schedule().describe();
    expect(updated.spec.intervals).toEqual([expect.objectContaining({ every: 2 * HOUR_MS })]);
    expect(updated.action).toMatchObject({ args: [{ orderGraceMs: 900_000, reservationGraceMs: 300_000, batchSize: 50 }] });

    const off = configWith(taskQueue, { RECONCILIATION_INTERVAL_MS: '0' });
    expect(await ensureReconciliationSchedule(env.client, off)).toBe('deleted');
    expect(await scheduleGone()).toBe(true);
    expect(await ensureReconciliationSchedule(env.client, off)).toBe('absent');
  });

  it('is created by the worker at start-up, and a trigger runs reconcileSagas on it', async () => {
    expect(await scheduleGone()).toBe(true);
    const config = configWith(uniqueTaskQueue('reconcile-worker'));
    worker = await startWorkerProcess(envFor(config, { RECONCILIATION_INTERVAL_MS: String(HOUR_MS), WORKER_METRICS_ADDRESS: '' }));

    // "worker started" is logged after the Schedule was made sure of.
    const described = await schedule().describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: HOUR_MS })]);
    expect(described.action).toMatchObject({ workflowType: RECONCILIATION_WORKFLOW, taskQueue: config.temporal.taskQueue });
    expect(described.info.recentActions).toEqual([]);

    await schedule().trigger();
    let workflowId: string | undefined;
    await pollUntil('the triggered run', async () => {
      workflowId = (await schedule().describe()).info.recentActions[0]?.action.workflow.workflowId;
      return workflowId !== undefined;
    });
    const run = env.client.workflow.getHandle(workflowId!);
    const result: ReconciliationResult = await run.result();
    expect(result).toEqual({
      repaired: expect.any(Array),
      failed: expect.any(Array),
      running: expect.any(Array),
      strays: expect.objectContaining({ stockLines: expect.any(Object), heldSeats: expect.any(Object), payments: expect.any(Object) }),
    });
    expect((await run.describe()).type).toBe(RECONCILIATION_WORKFLOW);
  });
});
