/**
 * What the point routes ask of Temporal: run the `topUpPoints` workflow for a top-up,
 * within the request's wait, and map its result to an answer.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  isGrpcDeadlineError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  FailureType,
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
import { applicationFailureIn } from '../temporal.ts';
import type { PendingTopUpBody } from './schemas.ts';
import { pointsPath, topUpStanding } from './views.ts';

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

/**
 * Runs a top-up within `ORDER_OUTCOME_WAIT_MS`; undefined when it has not finished by then.
 *
 * @throws ApiError for a workflow that failed with a business failure ({@link refusalOf});
 *   the `WorkflowFailedError` itself for any other failure (answered 500).
 */
async function runTopUp(deps: AppDeps, input: TopUpInput): Promise<TopUpResult | undefined> {
  const { client, config } = deps;
  const deadline = Date.now() + config.api.orderOutcomeWaitMs;
  const handle = await client.connection.withDeadline(deadline, () => topUpHandle(client, config.temporal.taskQueue, input));
  try {
    return await client.connection.withDeadline(deadline, () => handle.result());
  } catch (err) {
    if (isGrpcDeadlineError(err)) return undefined;
    if (err instanceof WorkflowFailedError) throw refusalOf(err, input) ?? err;
    throw err;
  }
}

/**
 * The answer to a top-up workflow that failed with a business failure: 422
 * `BalanceLimitExceeded` (the activity's check under the account's row lock, which a
 * concurrent top-up can make fail after the API's early check passed), 404 `NotFound`
 * (`UnknownUser`); undefined for any other failure.
 */
function refusalOf(err: WorkflowFailedError, input: TopUpInput): ApiError | undefined {
  const failure = applicationFailureIn(err.cause);
  if (failure?.type === FailureType.UnknownUser) return notFound(`point account for user ${input.userId}`);
  if (failure?.type !== FailureType.BalanceLimitExceeded) return undefined;
  const details = (failure.details?.[0] ?? {}) as { balancePoints?: number; balanceLimitPoints?: number };
  return balanceLimitExceeded(input, details.balancePoints, details.balanceLimitPoints);
}

/** A 422 `BalanceLimitExceeded` error for `input` on a balance of `balancePoints` capped at `balanceLimitPoints`. */
function balanceLimitExceeded(input: TopUpInput, balancePoints: number | undefined, balanceLimitPoints: number | undefined): ApiError {
  const { userId, amountPoints } = input;
  return new ApiError(
    422,
    ErrorCode.BalanceLimitExceeded,
    `A top-up of ${amountPoints} points would take the balance of user ${userId} above its cap of ${balanceLimitPoints ?? 'the limit'} points`,
    { details: { userId, balancePoints: balancePoints ?? null, amountPoints, balanceLimitPoints: balanceLimitPoints ?? null }, headers: { Location: pointsPath(userId) } },
  );
}

/**
 * Adds `amount` points to user `userId`'s balance through the top-up workflow, once per
 * Idempotency-Key (the top-up id is derived from it).
 *
 * The balance cap (`POINTS_BALANCE_LIMIT`) is checked first, on the balance read here
 * (unless this top-up is already recorded: a repeated request gets its result), and again
 * by the activity under the account's row lock, where concurrent top-ups are serialized.
 *
 * @throws ApiError 404 `NotFound` when the user has no point account (nothing starts);
 *   422 `BalanceLimitExceeded` when the balance would exceed the cap (nothing changes);
 *   422 `IdempotencyKeyReused` when the key was used with another amount.
 */
export async function topUpAnswer(
  deps: AppDeps,
  log: Logger,
  userId: number,
  amount: number,
  idempotencyKey: string | undefined,
): Promise<TopUpAnswer> {
  const input: TopUpInput = { topUpId: topUpIdFor(deps.config.idempotency.secret, userId, idempotencyKey), userId, amountPoints: amount };
  const standing = await topUpStanding(deps.orm, userId, input.topUpId);
  if (!standing) throw notFound(`point account for user ${userId}`);
  const cap = deps.config.limits.balancePoints;
  if (!standing.recorded && standing.balancePoints + amount > cap) throw balanceLimitExceeded(input, standing.balancePoints, cap);
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
