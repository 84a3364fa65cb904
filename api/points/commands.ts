/**
 * What the point routes ask of Temporal: run the `topUpPoints` workflow for a top-up,
 * within the request's wait, and map its result to an answer.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  isGrpcDeadlineError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  TOP_UP_POINTS_WORKFLOW,
  topUpWorkflowId,
  type TopUpInput,
  type TopUpPointsWorkflow,
  type TopUpResult,
} from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import type { AppDeps } from '../context.ts';
import { ApiError, ErrorCode, notFound } from '../errors.ts';
import { topUpIdFor } from '../idempotency.ts';
import type { PendingTopUpBody } from './schemas.ts';
import { hasPointAccount, pointsPath } from './views.ts';

/** The answer of a top-up: 201 with the new balance, or 202 while it has not finished. */
export type TopUpAnswer = { status: 201; body: TopUpResult } | { status: 202; body: PendingTopUpBody };

/**
 * Starts the top-up workflow, or finds the one with the same id: a running one is joined
 * (USE_EXISTING); a completed one is not run again, its result is read instead; only a
 * failed one may run again (ALLOW_DUPLICATE_FAILED_ONLY).
 */
async function topUpHandle(client: Client, taskQueue: string, input: TopUpInput): Promise<WorkflowHandle<TopUpPointsWorkflow>> {
  try {
    return await client.workflow.start<TopUpPointsWorkflow>(TOP_UP_POINTS_WORKFLOW, {
      workflowId: topUpWorkflowId(input.topUpId),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return client.workflow.getHandle<TopUpPointsWorkflow>(topUpWorkflowId(input.topUpId));
  }
}

/** Runs a top-up within `ORDER_OUTCOME_WAIT_MS`; undefined when it has not finished by then. */
async function runTopUp(deps: AppDeps, input: TopUpInput): Promise<TopUpResult | undefined> {
  const { client, config } = deps;
  const deadline = Date.now() + config.api.orderOutcomeWaitMs;
  const handle = await client.connection.withDeadline(deadline, () => topUpHandle(client, config.temporal.taskQueue, input));
  try {
    return await client.connection.withDeadline(deadline, () => handle.result());
  } catch (err) {
    if (isGrpcDeadlineError(err)) return undefined;
    throw err;
  }
}

/**
 * Adds `amount` points to user `userId`'s balance through the top-up workflow, once per
 * Idempotency-Key (the top-up id is derived from it).
 *
 * @throws ApiError 404 `NotFound` when the user has no point account (nothing starts);
 *   422 `IdempotencyKeyReused` when the key was used with another amount.
 */
export async function topUpAnswer(
  deps: AppDeps,
  log: Logger,
  userId: number,
  amount: number,
  idempotencyKey: string | undefined,
): Promise<TopUpAnswer> {
  if (!(await hasPointAccount(deps.orm, userId))) throw notFound(`point account for user ${userId}`);
  const input: TopUpInput = { topUpId: topUpIdFor(userId, idempotencyKey), userId, amountPoints: amount };
  log.info({ topUpId: input.topUpId, userId, amountPoints: amount, idempotencyKey }, 'top-up requested');
  const result = await runTopUp(deps, input);
  if (!result) return { status: 202, body: { ...input, status: 'PENDING' } };
  if (result.amountPoints !== amount) {
    throw new ApiError(422, ErrorCode.IdempotencyKeyReused, 'This Idempotency-Key was already used with a different amount', {
      details: { topUpId: input.topUpId },
      headers: { Location: pointsPath(userId) },
    });
  }
  return { status: 201, body: result };
}
