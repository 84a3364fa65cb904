/**
 * The reconciliation Schedule (`saga-reconciliation`): every `RECONCILIATION_INTERVAL_MS`
 * (default one minute) it starts one `reconcileSagas` run on the worker's task queue, with
 * the grace periods and batch size of the config as its input, and skips a firing while
 * the previous run is still going. Each worker makes sure of it at start-up
 * (worker/main.ts); see docs/operations.md, "Reconciliation".
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/index.ts';
import { RECONCILIATION_SCHEDULE_ID, RECONCILIATION_WORKFLOW } from '../common/ids.ts';
import type { ReconciliationInput } from '../common/reconciliation.ts';

/** What {@link ensureReconciliationSchedule} did. */
export type ScheduleChange = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

/** A run may take this long at most; then it fails and the next firing starts afresh. */
const RUN_TIMEOUT_MS = 10 * 60_000;

/** The Schedule's interval in ms, as Temporal keeps it (whole seconds). */
function storedInterval(intervalMs: number): number {
  return Math.round(intervalMs / 1_000) * 1_000;
}

/** The input each run gets, from the config. */
export function reconciliationInput(reconciliation: AppConfig['reconciliation']): ReconciliationInput {
  const { orderGraceMs, reservationGraceMs, batchSize } = reconciliation;
  return { orderGraceMs, reservationGraceMs, batchSize };
}

function action(config: AppConfig): ScheduleOptionsStartWorkflowAction<(input: ReconciliationInput) => Promise<unknown>> {
  return {
    type: 'startWorkflow',
    workflowType: RECONCILIATION_WORKFLOW,
    // The Schedule appends the firing time, so each run has its own id.
    workflowId: RECONCILIATION_SCHEDULE_ID,
    taskQueue: config.temporal.taskQueue,
    args: [reconciliationInput(config.reconciliation)],
    workflowExecutionTimeout: RUN_TIMEOUT_MS,
  };
}

/** Whether the Schedule described as `current` already does what `config` asks. */
function matches(current: ScheduleDescription, config: AppConfig): boolean {
  const intervals = current.spec.intervals ?? [];
  const act = current.action;
  return (
    intervals.length === 1 &&
    intervals[0]!.every === storedInterval(config.reconciliation.intervalMs) &&
    (current.spec.calendars ?? []).length === 0 &&
    act.workflowType === RECONCILIATION_WORKFLOW &&
    act.taskQueue === config.temporal.taskQueue &&
    JSON.stringify(act.args) === JSON.stringify([reconciliationInput(config.reconciliation)]) &&
    current.policies.overlap === ScheduleOverlapPolicy.SKIP
  );
}

/**
 * Makes the reconciliation Schedule what `config` says: created when missing, updated
 * when its interval, task queue or input differ, deleted when `RECONCILIATION_INTERVAL_MS`
 * is 0. Idempotent, and safe when several workers start at once (a concurrent create
 * reports "already exists", which is fine). Replicas with different settings take turns
 * winning: give every replica the same ones.
 *
 * @returns what changed.
 * @throws what the client throws when Temporal cannot be reached.
 */
export async function ensureReconciliationSchedule(client: Client, config: AppConfig, log?: Logger): Promise<ScheduleChange> {
  const handle = client.schedule.getHandle(RECONCILIATION_SCHEDULE_ID);
  const change = await applySchedule(client, config);
  log?.info(
    { scheduleId: handle.scheduleId, change, intervalMs: config.reconciliation.intervalMs, ...reconciliationInput(config.reconciliation) },
    config.reconciliation.intervalMs === 0 ? 'reconciliation schedule off (RECONCILIATION_INTERVAL_MS=0)' : 'reconciliation schedule ready',
  );
  return change;
}

async function applySchedule(client: Client, config: AppConfig): Promise<ScheduleChange> {
  const handle = client.schedule.getHandle(RECONCILIATION_SCHEDULE_ID);
  if (config.reconciliation.intervalMs === 0) {
    try {
      await handle.delete();
      return 'deleted';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'absent';
      throw err;
    }
  }
  const spec = { intervals: [{ every: storedInterval(config.reconciliation.intervalMs) }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: Math.max(config.reconciliation.intervalMs, 60_000) };
  try {
    await client.schedule.create({ scheduleId: RECONCILIATION_SCHEDULE_ID, spec, action: action(config), policies });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  if (matches(await handle.describe(), config)) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec, action: action(config), policies: { ...previous.policies, ...policies } }));
  return 'updated';
}
