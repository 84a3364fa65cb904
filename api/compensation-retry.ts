/**
 * The operator's retry of a saga parked in COMPENSATION_FAILED, shared by
 * `POST /orders/:id/compensations/retry` and `POST /reservations/:id/compensations/retry`.
 * Both sagas answer the same `retryCompensations` Update (workflows/saga-run.ts): its
 * validator refuses a saga that is not parked (`NotCompensationFailed`) or whose previous
 * retry has not answered yet (`CompensationRetryInProgress`), before anything reaches the
 * workflow's history; its handler re-runs the failed compensations and answers once they
 * succeeded (the saga closes CANCELLED or EXPIRED) or one failed again (parked again).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { FailureType } from '../common/index.ts';
import type { Logger } from '../config/logger.ts';
import type { AppDeps } from './context.ts';
import { ApiError, ErrorCode, notFound } from './errors.ts';
import { applicationFailureIn, executeUpdate } from './temporal.ts';

/** The view of a saga's business object, as far as the retry needs it. */
export interface RetriedView {
  status: string;
  message?: string | null;
}

/** A saga whose failed compensations an operator retries, and how to read its view. */
export interface RetryTarget<View extends RetriedView> {
  /** What the saga is about; also the extension member that carries the view in a 409. */
  subject: 'order' | 'reservation';
  /** The order or reservation id. */
  id: string;
  /** Its saga's workflow id. */
  workflowId: string;
  /** The saga's `retryCompensations` Update. */
  update: UpdateDefinition<unknown, []>;
  /** Reads the view (row and live saga progress), or null when neither exists. */
  read: () => Promise<View | null>;
}

/** The answer of a retry route: 200 when the compensations all succeeded now, 202 while the retry still runs. */
export type RetryAnswer<View> = { status: 200 | 202; body: View };

/** The Update-failure types the retry routes answer 409, each with its message. */
const REFUSALS: Readonly<Record<string, (subject: string) => string>> = {
  [FailureType.NotCompensationFailed]: (subject) => `The ${subject} is not waiting for a compensation retry`,
  [FailureType.CompensationRetryInProgress]: (subject) =>
    `A compensation retry of this ${subject} is already running; read the ${subject} for its outcome before asking again`,
};

/**
 * Sends the `retryCompensations` Update to the parked saga and waits up to
 * `ORDER_OUTCOME_WAIT_MS` for its result.
 *
 * @returns `done` when the retry answered (its result is in the row), `pending` when it
 *   was sent but did not answer within the wait.
 * @throws ApiError 409 `NotCompensationFailed` (not parked, or no running saga) and 409
 *   `CompensationRetryInProgress` (a retry runs), refused by the validator, nothing re-run;
 *   other Temporal errors (unreachable: answered 503 `TemporalUnavailable`).
 */
async function sendRetry(deps: AppDeps, target: RetryTarget<RetriedView>): Promise<'done' | 'pending'> {
  try {
    await executeUpdate(deps.client, deps.config.api.orderOutcomeWaitMs, target.workflowId, target.update);
    return 'done';
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'pending';
    const type = err instanceof WorkflowNotFoundError ? FailureType.NotCompensationFailed : refusalType(err);
    const refusal = type === undefined ? undefined : REFUSALS[type];
    if (type && refusal) {
      throw new ApiError(409, type, refusal(target.subject), { details: { [`${target.subject}Id`]: target.id } });
    }
    throw err;
  }
}

/** The failure type with which the retry Update's validator or handler refused, if any. */
function refusalType(err: unknown): string | undefined {
  return (err instanceof WorkflowUpdateFailedError ? applicationFailureIn(err.cause)?.type : undefined) ?? undefined;
}

/**
 * Re-runs the failed compensations of the saga `target` names, parked in
 * COMPENSATION_FAILED, and answers with its view: 200 when they all succeeded now (the
 * order CANCELLED; the reservation CANCELLED or EXPIRED), 202 when the retry still runs
 * after the wait. Safe to repeat: a second call while a retry runs is refused.
 *
 * @throws ApiError 404 `NotFound` for an unknown id; 409 `NotCompensationFailed` when the
 *   saga is in any other state; 409 `CompensationRetryInProgress` while an earlier retry
 *   runs; 409 `CompensationFailed` (the view under `target.subject`) when one failed again;
 *   Temporal unavailability (503 upstream).
 */
export async function compensationRetryAnswer<View extends RetriedView>(
  deps: AppDeps,
  log: Logger,
  target: RetryTarget<View>,
): Promise<RetryAnswer<View>> {
  const before = await target.read();
  if (!before) throw notFound(`${target.subject} ${target.id}`);
  const outcome = await sendRetry(deps, target);
  const view = (await target.read()) ?? before;
  log.warn({ [`${target.subject}Id`]: target.id, answer: outcome, status: view.status }, 'operator retried compensations');
  if (outcome === 'pending') return { status: 202, body: view };
  if (view.status === 'COMPENSATION_FAILED') {
    throw new ApiError(409, ErrorCode.CompensationFailed, view.message ?? 'A compensation failed again', {
      details: { [target.subject]: view },
    });
  }
  return { status: 200, body: view };
}
