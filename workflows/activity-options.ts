/**
 * Activity groups and their timeouts and retry policies. Database steps, compensations,
 * and the remote data-platform call are separate groups because they fail differently.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Options an activity and a local activity both take (`startToCloseTimeout`,
 * `scheduleToCloseTimeout`, `retry`): a group of steps that runs either way has one set.
 */
type StepTiming = ActivityOptions & LocalActivityOptions;

/**
 * Forward database steps (one local transaction each): short start-to-close, retried
 * with backoff for up to 5 minutes (a database restart), then the saga compensates.
 * Business rejections are non-retryable ApplicationFailures and fail at once, as do
 * deterministic database errors (`DataException`, `IntegrityConstraintViolation`).
 */
export const FORWARD_STEP_OPTIONS: StepTiming = {
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
};

/**
 * The pivot step (confirm) and the compensations: retried indefinitely for transient
 * errors. A pivot that may have committed must never be followed by compensations, and
 * a compensation gives up only on a non-retryable failure: a business failure type, or a
 * deterministic database error (SQLSTATE class 22 or 23), which the worker's activity
 * interceptor (worker/database-failures.ts) makes non-retryable, so that such a
 * compensation fails for good at its first attempt and the saga parks.
 */
export const MUST_COMPLETE_OPTIONS: StepTiming = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
};

/**
 * {@link FORWARD_STEP_OPTIONS} for steps run as local activities (`stepActivities:
 * 'local'`): the same timeouts and retries. Retries whose backoff exceeds the local retry
 * threshold (1 minute) wait on a workflow timer, as Temporal does for every local activity.
 */
export const LOCAL_FORWARD_STEP_OPTIONS: LocalActivityOptions = { ...FORWARD_STEP_OPTIONS };

/** {@link MUST_COMPLETE_OPTIONS} for local activities: retried indefinitely for transient errors. */
export const LOCAL_MUST_COMPLETE_OPTIONS: LocalActivityOptions = { ...MUST_COMPLETE_OPTIONS };

/**
 * The data-platform notification, after the pivot: retried for up to a day with backoff
 * capped at 30 s, so a platform that is down for hours still gets the event once it
 * returns. Nobody waits for it.
 */
export const NOTIFY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};
