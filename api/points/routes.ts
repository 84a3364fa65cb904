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
 *   `IdempotencyKeyReused` (same key, other amount); 422 `BalanceLimitExceeded` (the
 *   balance would exceed `POINTS_BALANCE_LIMIT`; nothing changes); 503 `TemporalUnavailable`.
 */
import type { TopUpResult } from '../../common/index.ts';
import { assertActsOn, assertMayRead, callerOf } from '../auth/guard.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { readIdempotencyKey } from '../idempotency.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { EntityIdParams } from '../validation.ts';
import { topUpAnswer } from './commands.ts';
import { LedgerQuery, TopUpBody, type LedgerPage, type PendingTopUpBody, type PointsView } from './schemas.ts';
import { findPointsView, listLedger, pointsPath } from './views.ts';

/** Registers `GET /users/:id/points`, `GET /users/:id/points/ledger` and `POST /users/:id/points/top-ups`. */
export function registerPointRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, PointsView>('/users/:id/points', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    assertMayRead(callerOf(ctx), id, `point account for user ${id}`);
    const view = await findPointsView(deps.orm, id);
    if (!view) throw notFound(`point account for user ${id}`);
    ctx.body = view;
  });

  router.get<object, object, LedgerPage>('/users/:id/points/ledger', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const { limit, cursor } = LedgerQuery.parse(ctx.query);
    assertMayRead(callerOf(ctx), id, `point account for user ${id}`);
    const page = await listLedger(deps.orm, id, limit, cursor?.id);
    if (!page) throw notFound(`point account for user ${id}`);
    ctx.body = page;
  });

  router.post<object, object, TopUpResult | PendingTopUpBody>(
    '/users/:id/points/top-ups',
    jsonBody(deps.config.api.bodyLimitBytes),
    async (ctx) => {
      const { id: userId } = EntityIdParams.parse(ctx.params);
      assertActsOn(callerOf(ctx), userId, `point account for user ${userId}`);
      const idempotencyKey = readIdempotencyKey(ctx.headers);
      const { amount } = TopUpBody.parse(ctx.request.body);
      const answer = await topUpAnswer(deps, ctx.state.log, userId, amount, idempotencyKey);
      ctx.set('Location', pointsPath(userId));
      ctx.status = answer.status;
      ctx.body = answer.body;
    },
  );
}
