/**
 * Point routes (Points read model and top-ups).
 *
 * - `GET /users/:id/points`: 200 {@link PointsView} (the balance and `links.ledger`); 400
 *   for a bad id; 404 `NotFound` when the user has no point account.
 * - `GET /users/:id/points/ledger?limit=&cursor=`: 200 {@link LedgerPage}, the movements
 *   of the balance newest first, paged as every list is (api/pagination.ts); 400
 *   `ValidationFailed` for a bad id, limit or cursor; 404 `NotFound` as above.
 * - `POST /users/:id/points/top-ups` body `{ amount }` (integer points 1..10,000,000),
 *   optional `Idempotency-Key`: runs the `topUpPoints` workflow and answers 201
 *   `TopUpResult` (new balance) with `Location: /users/<id>/points`; 202
 *   `{ topUpId, userId, amountPoints, status: 'PENDING' }` when it takes longer than
 *   `ORDER_OUTCOME_WAIT_MS` (retry with the same key to get the result); 400
 *   `ValidationFailed`; 404 `NotFound` (no point account, nothing starts); 422
 *   `IdempotencyKeyReused` (same key, other amount); 503 `TemporalUnavailable`.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  isGrpcDeadlineError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { topUpWorkflowId, type TopUpInput, type TopUpResult } from '../../common/index.ts';
import { PointAccount } from '../../db/entities/index.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { ApiError, ErrorCode, notFound } from '../errors.ts';
import { readIdempotencyKey, topUpIdFor } from '../idempotency.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { listLedger } from '../points/ledger.ts';
import { LedgerQuery, TopUpBody, type LedgerPage, type PendingTopUpBody, type PointsView } from '../points/schemas.ts';
import { TOP_UP_POINTS_WORKFLOW, type TopUpPointsWorkflow } from '../temporal.ts';
import { EntityIdParams } from '../validation.ts';

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

/** Runs a top-up within `waitMs`; undefined when it has not finished by then. */
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

/** Registers `GET /users/:id/points`, `GET /users/:id/points/ledger` and `POST /users/:id/points/top-ups`. */
export function registerPointRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, PointsView>('/users/:id/points', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const account = await deps.orm.em.fork().findOne(PointAccount, { user: id });
    if (!account) throw notFound(`point account for user ${id}`);
    ctx.body = { userId: id, balancePoints: account.balancePoints, links: { ledger: `/users/${id}/points/ledger` } };
  });

  router.get<object, object, LedgerPage>('/users/:id/points/ledger', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const { limit, cursor } = LedgerQuery.parse(ctx.query);
    const page = await listLedger(deps.orm, id, limit, cursor?.id);
    if (!page) throw notFound(`point account for user ${id}`);
    ctx.body = page;
  });

  router.post<object, object, TopUpResult | PendingTopUpBody>(
    '/users/:id/points/top-ups',
    jsonBody(deps.config.api.bodyLimitBytes),
    async (ctx) => {
      const { id: userId } = EntityIdParams.parse(ctx.params);
      const idempotencyKey = readIdempotencyKey(ctx.headers);
      const { amount } = TopUpBody.parse(ctx.request.body);
      if ((await deps.orm.em.fork().count(PointAccount, { user: userId })) === 0) {
        throw notFound(`point account for user ${userId}`);
      }
      const input: TopUpInput = { topUpId: topUpIdFor(userId, idempotencyKey), userId, amountPoints: amount };
      ctx.state.log.info({ topUpId: input.topUpId, userId, amountPoints: amount, idempotencyKey }, 'top-up requested');
      const result = await runTopUp(deps, input);
      ctx.set('Location', `/users/${userId}/points`);
      if (!result) {
        ctx.status = 202;
        ctx.body = { ...input, status: 'PENDING' };
        return;
      }
      if (result.amountPoints !== amount) {
        throw new ApiError(422, ErrorCode.IdempotencyKeyReused, 'This Idempotency-Key was already used with a different amount', {
          details: { topUpId: input.topUpId },
        });
      }
      ctx.status = 201;
      ctx.body = result;
    },
  );
}
